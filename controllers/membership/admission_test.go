package membership_test

import (
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

func expectRefused(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: want Forbidden saying %q, got %v", what, msg, err)
	}
}

// patch merge-patches m as c (no resourceVersion: the controller's status
// writes do not make it conflict).
func patch(c client.Client, m *v1.Membership, p string) error {
	o := &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: m.Namespace, Name: m.Name}}
	return c.Patch(ctx, o, client.RawPatch(types.MergePatchType, []byte(p)))
}

func setRole(c client.Client, m *v1.Membership, role v1.MembershipRole) error {
	return patch(c, m, fmt.Sprintf(`{"spec":{"role":%q}}`, role))
}

func get(t *testing.T, c client.Client, m *v1.Membership) *v1.Membership {
	t.Helper()
	got := &v1.Membership{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(m), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// Only an Owner (or the provider) can create, change or delete an Owner
// membership; an Admin cannot raise anyone, itself included, above Admin.
func TestOwnerMembershipsNeedAnOwner(t *testing.T) {
	acct, ns := newAccount(t, "own")
	adminM := create(t, membership(ns, "adam@own.example", v1.RoleAdmin))
	coOwnerM := create(t, membership(ns, "olga@own.example", v1.RoleOwner)) // the provider may
	waitCondition(t, adminM, metav1.ConditionTrue, v1.ReasonReconciled)
	waitCondition(t, coOwnerM, metav1.ConditionTrue, v1.ReasonReconciled)
	admin := env.As("adam@own.example")
	owner := env.As("owner@" + acct + ".example") // spec.owner
	coOwner := env.As("olga@own.example")         // Owner by membership

	t.Run("admin refused", func(t *testing.T) {
		expectRefused(t, "Admin creates an Owner membership",
			admin.Create(ctx, membership(ns, "mallory@own.example", v1.RoleOwner)), "only an Owner of this account can grant the Owner role")

		expectRefused(t, "Admin raises itself to Owner", setRole(admin, adminM, v1.RoleOwner), "only an Owner of this account can grant the Owner role")
		expectRefused(t, "Admin demotes an Owner", setRole(admin, coOwnerM, v1.RoleViewer),
			"only an Owner of this account can change or delete the Owner membership")
		expectRefused(t, "Admin makes an Owner expire", patch(admin, coOwnerM, `{"spec":{"expiresAt":"2020-01-01T00:00:00Z"}}`),
			"change or delete the Owner membership")
		expectRefused(t, "Admin deletes an Owner membership", admin.Delete(ctx, coOwnerM), "change or delete the Owner membership")
	})

	t.Run("admin manages up to Admin", func(t *testing.T) {
		dev := membership(ns, "dora@own.example", v1.RoleDeveloper)
		if err := admin.Create(ctx, dev); err != nil {
			t.Fatalf("Admin creates a Developer membership: %v", err)
		}
		if err := setRole(admin, dev, v1.RoleAdmin); err != nil {
			t.Fatalf("Admin raises a Developer to Admin: %v", err)
		}
		if err := admin.Delete(ctx, dev); err != nil {
			t.Fatalf("Admin deletes an Admin membership: %v", err)
		}
	})

	for name, c := range map[string]client.Client{"account owner": owner, "owner by membership": coOwner} {
		t.Run(name+" succeeds", func(t *testing.T) {
			m := membership(ns, "newowner@own.example", v1.RoleOwner)
			if err := c.Create(ctx, m); err != nil {
				t.Fatalf("Owner creates an Owner membership: %v", err)
			}
			if err := setRole(c, m, v1.RoleAdmin); err != nil {
				t.Fatalf("Owner demotes an Owner: %v", err)
			}
			if err := setRole(c, m, v1.RoleOwner); err != nil {
				t.Fatalf("Owner raises an Admin to Owner: %v", err)
			}
			if err := c.Delete(ctx, m); err != nil {
				t.Fatalf("Owner deletes an Owner membership: %v", err)
			}
		})
	}
	// The Admin is still an Admin, the co-owner still an Owner.
	if r := get(t, env.Client, adminM).Spec.Role; r != v1.RoleAdmin {
		t.Errorf("admin's role is %s", r)
	}
	if r := get(t, env.Client, coOwnerM).Spec.Role; r != v1.RoleOwner {
		t.Errorf("co-owner's role is %s", r)
	}
}
