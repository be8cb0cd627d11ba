package kernel

import (
	"encoding/json"
	"testing"
)

// project keeps exactly the values a field set names: map fields (f:),
// keyed list items (k:), set items (v:), indexed items (i:), and whole
// values at a node with no children.
func TestProject(t *testing.T) {
	var obj, set map[string]any
	mustJSON(t, `{
		"metadata": {"labels": {"mine": "a", "theirs": "b"}, "finalizers": ["x", "y"]},
		"spec": {
			"ports": [{"port": 80, "protocol": "TCP", "name": "http"}, {"port": 443, "protocol": "TCP", "name": "https"}],
			"selector": {"matchLabels": {"app": "web"}},
			"args": ["-v", "-q"],
			"defaulted": 1
		}}`, &obj)
	mustJSON(t, `{
		"f:metadata": {"f:labels": {"f:mine": {}}, "f:finalizers": {"v:\"y\"": {}}},
		"f:spec": {
			"f:ports": {"k:{\"port\":443,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:name": {}}},
			"f:selector": {},
			"f:args": {"i:1": {}}
		}}`, &set)
	got, err := json.Marshal(project(obj, set))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"finalizers":["y"],"labels":{"mine":"a"}},"spec":{"args":["-q"],"ports":[{"name":"https","port":443}],"selector":{"matchLabels":{"app":"web"}}}}`
	if string(got) != want {
		t.Fatalf("projection\n%s\nwant\n%s", got, want)
	}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatal(err)
	}
}
