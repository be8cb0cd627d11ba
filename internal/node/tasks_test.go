package node

import (
	"reflect"
	"testing"
)

func TestParseTasks(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      map[string]bool
	}{
		{"none", "TASK    PID    STATUS    \n", map[string]bool{}},
		{"running and stopped", "TASK      PID     STATUS    \n" +
			"abc123    4242    RUNNING\n" +
			"def456    0       STOPPED\n" +
			"789fed    4343    RUNNING\n", map[string]bool{"abc123": true, "789fed": true}},
		{"empty", "", map[string]bool{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseTasks(tc.out); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parseTasks(%q) = %v, want %v", tc.out, got, tc.want)
			}
		})
	}
}
