package argocd

import (
	"encoding/json"
	"testing"
)

type health struct{ Status, Message string }

func runHealth(t *testing.T, objJSON string) health {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(objJSON), &obj); err != nil {
		t.Fatal(err)
	}
	status, message, err := Health(obj)
	if err != nil {
		t.Fatal(err)
	}
	return health{status, message}
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
		{"database locked while its site is suspended", `{"metadata":{"generation":1},"status":{"observedGeneration":1,
			"conditions":[{"type":"Ready","status":"False","reason":"SiteSuspended","message":"locked"},
			{"type":"Locked","status":"True","reason":"SiteSuspended","message":"the site is Suspended: the user cannot log in"}]}}`, "Suspended", "the site is Suspended: the user cannot log in"},
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
