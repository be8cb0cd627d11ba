package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// managerUser is the identity the benchmarked manager runs as; the API
// server's audit log records its writes, and only those.
const managerUser = "landlord-manager"

// creatorUser creates the Accounts of -mode tenancy (the portal), audited
// too: both sides count the Account's create.
const creatorUser = "landlord-bench-creator"

// auditPolicy records the writes of both users; with statusBodies it also
// logs the request body of the manager's status writes of Landlord's kinds
// (what each of them changed).
func auditPolicy(statusBodies bool) string {
	bodies := ""
	if statusBodies {
		bodies = `- level: Request
  users: ["` + managerUser + `"]
  verbs: ["patch", "update"]
  resources:
  - group: hosting.landlord.dev
    resources: ["accounts/status", "subscriptions/status", "memberships/status", "customdomains/status"]
`
	}
	return `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
` + bodies + `- level: Metadata
  users: ["` + managerUser + `", "` + creatorUser + `"]
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`
}

// auditStatusBodies is -audit-status-bodies, set before any control plane
// starts.
var auditStatusBodies bool

// auditLog is the API server's record of the manager's writes.
type auditLog struct {
	policy, path string

	mu     sync.Mutex
	offset int64 // read so far (whole lines)
	n      int
	by     map[string]int
}

func newAuditLog(dir string) (*auditLog, error) {
	a := &auditLog{policy: filepath.Join(dir, "audit-policy.yaml"), path: filepath.Join(dir, "audit.log"), by: map[string]int{}}
	return a, os.WriteFile(a.policy, []byte(auditPolicy(auditStatusBodies)), 0o600)
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
// verb and resource (read incrementally: the log only grows).
func (a *auditLog) writes() (int, map[string]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if f, err := os.Open(a.path); err == nil {
		defer f.Close()
		if _, err := f.Seek(a.offset, io.SeekStart); err == nil {
			r := bufio.NewReaderSize(f, 1<<20)
			for {
				line, err := r.ReadBytes('\n')
				if err != nil {
					break // a partial last line is read again next time
				}
				a.offset += int64(len(line))
				var e struct {
					Stage     string
					Verb      string
					ObjectRef struct{ Resource, Subresource string }
				}
				if json.Unmarshal(line, &e) != nil || e.Stage != "ResponseComplete" {
					continue
				}
				a.n++
				res := e.ObjectRef.Resource
				if e.ObjectRef.Subresource != "" {
					res += "/" + e.ObjectRef.Subresource
				}
				a.by[e.Verb+" "+res]++
			}
		}
	}
	by := make(map[string]int, len(a.by))
	for k, v := range a.by {
		by[k] = v
	}
	return a.n, by
}

// diff is after − before, by key, for the keys that grew.
func diff(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func describe(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+itoa(m[k]))
	}
	return strings.Join(parts, ", ")
}
