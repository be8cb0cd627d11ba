package tenancy

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// Builders share nothing mutable between calls: controller-runtime's
// client.Apply encodes the apply configuration it is given and decodes the
// API server's answer back into it, so a map or slice two results share is
// written by one apply while another reads it ("concurrent map iteration
// and map write", issue 33). This does what client.Apply does to each
// result, from many goroutines at once; run under the race detector
// (go test -race ./internal/tenancy/) it reports any shared state, and a
// shared map can fail even without it.
func TestBuildersShareNothingMutable(t *testing.T) {
	cfg := platform.Default()
	builders := map[string]func(i int) any{
		"account ResourceQuota": func(i int) any { return BuildAccountQuota(raceAccount(i), cfg) },
		"account NetworkPolicy": func(i int) any { return BuildNetworkPolicy(raceAccount(i), cfg) },
		"site NetworkPolicy": func(i int) any {
			return BuildNetworkPolicyIn(SiteTarget(fmt.Sprintf("a%d", i), "www", cfg), cfg)
		},
		"site LimitRange":    func(i int) any { return BuildLimitRange(SiteTarget(fmt.Sprintf("a%d", i), "www", cfg)) },
		"account Namespace":  func(i int) any { return BuildNamespace(raceAccount(i), cfg) },
		"owner RoleBinding":  func(i int) any { return BuildOwnerBinding(raceAccount(i), cfg) },
		"member RoleBinding": func(i int) any { return BuildMemberBinding(raceMembership(i), fmt.Sprintf("a%d", i), false) },
	}
	for name, build := range builders {
		t.Run(name, func(t *testing.T) {
			const workers = 16
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, workers)
			for i := range workers {
				wg.Go(func() {
					<-start
					for range 50 {
						obj := build(i)
						// The request body...
						if _, err := json.Marshal(obj); err != nil {
							errs <- err
							return
						}
						// ...and the answer decoded back into the same value,
						// with what the server adds (here: its own numbers).
						answer := fmt.Sprintf(`{"metadata":{"resourceVersion":"%d","labels":{"extra-%d":"x"}},"spec":{"hard":{"pods":"%d"}}}`, i, i, i)
						if err := json.Unmarshal([]byte(answer), obj); err != nil {
							errs <- err
							return
						}
						if _, err := json.Marshal(obj); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			// What one call's answer wrote is not in the next call's result.
			fresh, err := json.Marshal(build(0))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(fresh, &m); err != nil {
				t.Fatal(err)
			}
			if labels, _ := m["metadata"].(map[string]any)["labels"].(map[string]any); labels["extra-1"] != nil {
				t.Errorf("a new result carries a label an earlier answer wrote: %v", labels)
			}
		})
	}
}

func raceAccount(i int) *v1.Account {
	a := account(nil)
	a.Name, a.UID = fmt.Sprintf("a%d", i), types.UID(fmt.Sprintf("uid-%d", i))
	return a
}

func raceMembership(i int) *v1.Membership {
	return &v1.Membership{
		ObjectMeta: metav1.ObjectMeta{Name: "m", Namespace: fmt.Sprintf("acct-a%d", i)},
		Spec:       v1.MembershipSpec{Role: v1.RoleDeveloper, Subject: v1.Subject{Kind: v1.SubjectUser, Name: "bob"}},
	}
}
