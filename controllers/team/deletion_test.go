package team_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

const hold = "example.com/hold"

func patchTeam(tm *v1.Team, p string) error {
	o := &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: tm.Namespace, Name: tm.Name}}
	return env.Client.Patch(ctx, o, client.RawPatch(types.MergePatchType, []byte(p)))
}

// exists reports whether obj (by its key) exists.
func exists(t *testing.T, obj client.Object) bool {
	t.Helper()
	err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) {
		return false
	}
	must(t, err)
	return true
}

// teamAccess are the team's RoleBinding in a site namespace and its Role and
// RoleBinding in the account namespace.
func teamAccess(tm *v1.Team, site string) []client.Object {
	name := tenancy.TeamObjectName(tm.Name)
	return []client.Object{
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: name}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: tm.Namespace, Name: name}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: tm.Namespace, Name: name}},
	}
}

func waitAccess(t *testing.T, tm *v1.Team, site string, want bool) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		for _, o := range teamAccess(tm, site) {
			if got := exists(t, o); got != want {
				return fmt.Errorf("%T %s/%s exists=%v, want %v", o, o.GetNamespace(), o.GetName(), got, want)
			}
		}
		return nil
	})
}

// A Team whose Landlord finalizer was swapped for another's (by the
// provider: tenants may not) and that is deleted hangs Terminating; its
// members lose their access anyway (site binding, the account namespace's
// Role and RoleBinding) and their seats go back; its status says what holds
// it.
func TestTeamDeletionWhateverTheFinalizers(t *testing.T) {
	f := newAccount(t, 3)
	site := f.site(t, "shop")
	tm := f.team("crew", v1.TeamRoleDeveloper, []string{"shop"}, members("ann@crew.example")...)
	must(t, env.Client.Create(ctx, tm))
	waitTeam(t, tm, ready(metav1.ConditionTrue, v1.ReasonReconciled))
	waitAccess(t, tm, site, true)

	// Paused meanwhile, so that Landlord does not put its finalizer back
	// before the delete (as a tenant's swap-and-delete could race it).
	must(t, patchTeam(tm, fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"},"finalizers":[%q]}}`, v1.PausedAnnotation, hold)))
	t.Cleanup(func() { _ = patchTeam(tm, `{"metadata":{"finalizers":null}}`) })
	must(t, env.Client.Delete(ctx, tm))
	must(t, patchTeam(tm, fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, v1.PausedAnnotation)))
	waitAccess(t, tm, site, false)
	testenv.Eventually(t, timeout, func() error {
		if h := seatHolders(t, f, "shop"); len(h) != 0 {
			return fmt.Errorf("seats still held: %v", h)
		}
		got := &v1.Team{}
		must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(tm), got))
		c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
		if got.DeletionTimestamp.IsZero() || !slices.Equal(got.Finalizers, []string{hold}) ||
			c == nil || c.Reason != v1.ReasonDeleting || !strings.Contains(c.Message, hold) {
			return fmt.Errorf("want the team Terminating, held by %s and saying so; got finalizers %v, Ready %+v", hold, got.Finalizers, c)
		}
		return nil
	})
	if can(t, "ann@crew.example", "list", "", "pods", "", site, "") {
		t.Error("the member of a deleted team can still list pods in its site")
	}
}

// A Team deleted with no finalizer at all (paused by the provider, its
// finalizer removed, then deleted) leaves no access behind.
func TestTeamDeletedWithoutFinalizerLeavesNoAccess(t *testing.T) {
	f := newAccount(t, 3)
	site := f.site(t, "shop")
	tm := f.team("gone", v1.TeamRoleViewer, []string{"shop"}, members("gus@gone.example")...)
	must(t, env.Client.Create(ctx, tm))
	waitTeam(t, tm, ready(metav1.ConditionTrue, v1.ReasonReconciled))
	waitAccess(t, tm, site, true)
	must(t, patchTeam(tm, fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"},"finalizers":null}}`, v1.PausedAnnotation)))
	must(t, env.Client.Delete(ctx, tm))
	waitAccess(t, tm, site, false)
}

// A Team in a site namespace (refused at admission now; created before the
// policy here) named like a real team of the account never makes Landlord
// delete the real team's binding in that namespace.
func TestMisplacedTeamNeverTouchesAnotherBinding(t *testing.T) {
	f := newAccount(t, 3)
	site := f.site(t, "www")
	real := f.team("www-freelancers", v1.TeamRoleDeveloper, []string{"www"}, members("fiona@freelance.example")...)
	must(t, env.Client.Create(ctx, real))
	waitTeam(t, real, ready(metav1.ConditionTrue, v1.ReasonReconciled))
	waitAccess(t, real, site, true)
	before := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: tenancy.TeamObjectName(real.Name)}}
	exists(t, before)

	impostor := &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: real.Name},
		Spec: v1.TeamSpec{Role: v1.TeamRoleViewer, Members: members("mallory@evil.example")}}
	b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "landlord-placement"}}
	must(t, env.Client.Delete(ctx, b))
	testenv.Eventually(t, timeout, func() error { return env.Client.Create(ctx, impostor) })
	must(t, env.ApplyFile(ctx, filepath.Join(env.Root, "config", "admission", "placement.yaml")))
	t.Cleanup(func() { _ = env.Client.Delete(ctx, impostor) })
	waitTeam(t, impostor, ready(metav1.ConditionFalse, v1.ReasonNoAccount))
	for i := range 5 {
		must(t, patchTeam(impostor, fmt.Sprintf(`{"metadata":{"annotations":{"poke":"%d"}}}`, i)))
		time.Sleep(200 * time.Millisecond)
	}
	must(t, env.Client.Delete(ctx, impostor))
	testenv.Consistently(t, 3*time.Second, func() error {
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: before.Name}}
		if !exists(t, rb) || rb.UID != before.UID {
			return fmt.Errorf("the real team's binding in %s was deleted", site)
		}
		return nil
	})
}
