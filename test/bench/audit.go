package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// managerUser is the identity the benchmarked manager runs as; the API
// server's audit log records its writes, and only those.
const managerUser = "landlord-manager"

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["` + managerUser + `"]
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`

// auditLog is the API server's record of the manager's writes.
type auditLog struct{ policy, path string }

func newAuditLog(dir string) (*auditLog, error) {
	a := &auditLog{policy: filepath.Join(dir, "audit-policy.yaml"), path: filepath.Join(dir, "audit.log")}
	return a, os.WriteFile(a.policy, []byte(auditPolicy), 0o600)
}

func (a *auditLog) apiServerArgs() map[string]string {
	return map[string]string{
		"audit-policy-file":   a.policy,
		"audit-log-path":      a.path,
		"audit-log-mode":      "blocking",
		"audit-log-maxsize":   "0",
		"audit-log-maxbackup": "0",
	}
}

// writes returns the number of completed writes so far and their count by
// verb and resource.
func (a *auditLog) writes() (int, map[string]int) {
	f, err := os.Open(a.path)
	if err != nil {
		return 0, nil
	}
	defer f.Close()
	by := map[string]int{}
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct {
			Stage     string
			Verb      string
			ObjectRef struct{ Resource, Subresource string }
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Stage != "ResponseComplete" {
			continue
		}
		n++
		res := e.ObjectRef.Resource
		if e.ObjectRef.Subresource != "" {
			res += "/" + e.ObjectRef.Subresource
		}
		by[e.Verb+" "+res]++
	}
	return n, by
}

func diff(after, before map[string]int) string {
	var keys []string
	for k, v := range after {
		if v-before[k] > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+itoa(after[k]-before[k]))
	}
	return strings.Join(parts, ", ")
}
