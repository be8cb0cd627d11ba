// Package argocd tests the Argo CD health check in config/argocd/health.lua
// the way Argo CD runs it: a Lua script with the object as the global `obj`.
package argocd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

type health struct{ Status, Message string }

func runHealth(t *testing.T, objJSON string) health {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("..", "..", "config", "argocd", "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	var obj any
	if err := json.Unmarshal([]byte(objJSON), &obj); err != nil {
		t.Fatal(err)
	}
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(string(script)); err != nil {
		t.Fatalf("script failed: %v", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("script returned %v, want a table", L.Get(-1))
	}
	return health{Status: lua.LVAsString(ret.RawGetString("status")), Message: lua.LVAsString(ret.RawGetString("message"))}
}

// toLua converts decoded JSON as Argo CD does: objects and arrays to tables.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	}
	return lua.LNil
}

func TestHealth(t *testing.T) {
	cases := []struct {
		name, obj, want, wantMessage string
	}{
		{"new object without status", `{"metadata":{"generation":1}}`, "Progressing", "Waiting for Landlord to report status"},
		{"status of an older generation", `{"metadata":{"generation":3},"status":{"observedGeneration":2,
			"conditions":[{"type":"Ready","status":"True","reason":"Reconciled","message":"site is up"}]}}`, "Progressing", "Waiting for Landlord to observe generation 3"},
		{"ready subscription", `{"metadata":{"generation":2},"status":{"observedGeneration":2,
			"conditions":[{"type":"Ready","status":"True","reason":"Reconciled","message":"site is up"}]}}`, "Healthy", "site is up"},
		{"still provisioning", `{"metadata":{"generation":1},"status":{"observedGeneration":1,
			"conditions":[{"type":"Ready","status":"False","reason":"Progressing","message":"waiting for the site"}]}}`, "Progressing", "waiting for the site"},
		{"unknown plan", `{"metadata":{"generation":1},"status":{"observedGeneration":1,
			"conditions":[{"type":"Ready","status":"False","reason":"PlanNotFound","message":"plan \"gold\" does not exist"}]}}`, "Degraded", `plan "gold" does not exist`},
		{"suspended subscription", `{"metadata":{"generation":1},"status":{"observedGeneration":1,
			"conditions":[{"type":"Ready","status":"False","reason":"Suspended","message":"suspended"},
			{"type":"Suspended","status":"True","reason":"NonPayment","message":"payment overdue since 2026-01-01"}]}}`, "Suspended", "payment overdue since 2026-01-01"},
		{"domain waiting for its DNS record", `{"metadata":{"generation":1},"status":{"observedGeneration":1,
			"conditions":[{"type":"Ready","status":"False","reason":"RecordMissing","message":"add TXT record"}]}}`, "Degraded", "add TXT record"},
		{"no Ready condition yet", `{"metadata":{"generation":1},"status":{"observedGeneration":1,"conditions":[]}}`, "Progressing", "Waiting for the Ready condition"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := runHealth(t, tc.obj)
			if got.Status != tc.want || got.Message != tc.wantMessage {
				t.Errorf("health = %+v, want %s %q", got, tc.want, tc.wantMessage)
			}
		})
	}
}
