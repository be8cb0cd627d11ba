package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Deleting a customer with everything in use — a running site with its
// volume, a verified domain, a member — removes all of it, with every
// controller's finalizer taking part, and frees the hostname.
func TestConfirmedAccountDeletionWithSitesAndDomains(t *testing.T) {
	ctx := context.Background()
	ensureCatalogue(t)
	a := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: "pied-piper"},
		Spec: v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "richard@piedpiper.example"}}}
	if err := env.Client.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	ns := cfg.AccountNamespace(a.Name)
	paid := metav1.NewTime(clk.Now().Add(30 * 24 * time.Hour))
	for _, retain := range []v1.DeletionPolicy{v1.DeletionPolicyDelete, v1.DeletionPolicyRetain} {
		sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "site-" + strings.ToLower(string(retain))},
			Spec: v1.SubscriptionSpec{Plan: "business", Site: v1.SiteSpec{Template: "static"}, PaidThrough: &paid, DeletionPolicy: retain}}
		testenv.Eventually(t, time.Minute, func() error { return env.Client.Create(ctx, sub) })
	}
	for _, o := range []client.Object{
		&v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dinesh"},
			Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: "dinesh@piedpiper.example"}, Role: v1.RoleDeveloper}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// The domain goes into its site's namespace, once Landlord has made it.
	site := cfg.SiteNamespace(a.Name, "site-delete")
	domain := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "www"},
		Spec: v1.CustomDomainSpec{Hostname: "www.piedpiper.example", Primary: true}}
	testenv.Eventually(t, time.Minute, func() error { return env.Client.Create(ctx, domain.DeepCopy()) })
	testenv.Eventually(t, 2*time.Minute, func() error {
		var d v1.CustomDomain
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: "www"}, &d); err != nil {
			return err
		}
		if d.Status.Phase != v1.DomainActive {
			recheckDNS()
			return fmt.Errorf("domain is %s", d.Status.Phase)
		}
		var s v1.Subscription
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "site-retain"}, &s); err != nil {
			return err
		}
		if !s.Status.Site.Ready {
			return fmt.Errorf("site not ready")
		}
		return nil
	})

	confirm := client.MergeFrom(a.DeepCopy())
	a.Spec.DeletionProtection = ptr.To(false)
	if err := env.Client.Patch(ctx, a, confirm); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 3*time.Minute, func() error {
		for _, name := range []string{ns, site} {
			if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("namespace %s still there (%v)", name, err)
			}
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: a.Name}, &v1.Account{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("account still there (%v)", err)
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "www.piedpiper.example"}, &v1.DomainClaim{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("the hostname is still claimed (%v)", err)
		}
		return nil
	})
}
