package account_test

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// kinds are one object and one list of every kind a tenant works with.
func kinds(ns string) []struct {
	obj  client.Object
	list client.ObjectList
} {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	return []struct {
		obj  client.Object
		list client.ObjectList
	}{
		{&corev1.Secret{ObjectMeta: meta("probe")}, &corev1.SecretList{}},
		{restrictedPod(ns), &corev1.PodList{}},
		{&corev1.ConfigMap{ObjectMeta: meta("probe")}, &corev1.ConfigMapList{}},
		{&corev1.Service{ObjectMeta: meta("probe"), Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, &corev1.ServiceList{}},
		{&corev1.PersistentVolumeClaim{ObjectMeta: meta("probe"), Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}},
			&corev1.PersistentVolumeClaimList{}},
		{&appsv1.Deployment{ObjectMeta: meta("probe"), Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
				Spec: restrictedPod(ns).Spec}}}, &appsv1.DeploymentList{}},
		{&v1.Subscription{ObjectMeta: meta("probe"), Spec: v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}}},
			&v1.SubscriptionList{}},
		{&v1.Membership{ObjectMeta: meta("probe"), Spec: v1.MembershipSpec{
			Subject: v1.Subject{Kind: v1.SubjectUser, Name: "intruder"}, Role: v1.RoleViewer}}, &v1.MembershipList{}},
		{&v1.CustomDomain{ObjectMeta: meta("probe"), Spec: v1.CustomDomainSpec{Hostname: "probe.example.com"}},
			&v1.CustomDomainList{}},
		{&v1.Database{ObjectMeta: meta("probe")}, &v1.DatabaseList{}},
		{&rbacv1.RoleBinding{ObjectMeta: meta("probe"), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-tenant-viewer"},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "intruder"}}}, &rbacv1.RoleBindingList{}},
		{&networkingv1.NetworkPolicy{ObjectMeta: meta("probe")}, &networkingv1.NetworkPolicyList{}},
		{&corev1.LimitRange{ObjectMeta: meta("probe")}, &corev1.LimitRangeList{}},
		{&corev1.ResourceQuota{ObjectMeta: meta("probe")}, &corev1.ResourceQuotaList{}},
	}
}

// A member of account A, whatever its role, can do nothing in account B's
// namespace: no get, list or create of any kind.
func TestMembersOfOneAccountCannotTouchAnother(t *testing.T) {
	a := newAccount(t, "iso-a")
	b := newAccount(t, "iso-b")
	waitReady(t, a.Name)
	waitReady(t, b.Name)
	nsA, nsB := cfg.AccountNamespace(a.Name), cfg.AccountNamespace(b.Name)
	newMembership(t, nsA, "admin@iso-a.example", v1.RoleAdmin)
	newMembership(t, nsA, "dev@iso-a.example", v1.RoleDeveloper)
	// B has something to steal.
	for _, k := range kinds(nsB) {
		err := env.Client.Create(ctx, k.obj.DeepCopyObject().(client.Object))
		if apierrors.IsForbidden(err) && strings.Contains(err.Error(), "quota") {
			continue // nothing runs in an account namespace (its quota): nothing to steal
		}
		if apierrors.IsForbidden(err) && strings.Contains(err.Error(), "where a CustomDomain routes nothing") {
			continue // CustomDomains live in site namespaces (config/admission/placement.yaml)
		}
		if err != nil {
			t.Fatalf("seeding B with %T: %v", k.obj, err)
		}
	}

	for _, user := range []string{ownerOf(a.Name), "admin@iso-a.example", "dev@iso-a.example"} {
		c := env.As(user)
		// Positive control: the same requests work in A where the role allows them.
		if err := c.List(ctx, &corev1.SecretList{}, client.InNamespace(nsA)); err != nil {
			t.Errorf("%s cannot list secrets in its own account: %v", user, err)
		}
		for _, k := range kinds(nsB) {
			kind := fmt.Sprintf("%T", k.obj)
			expectForbidden(t, user+" lists "+kind+" in B", c.List(ctx, k.list, client.InNamespace(nsB)))
			got := k.obj.DeepCopyObject().(client.Object)
			expectForbidden(t, user+" gets "+kind+" in B", c.Get(ctx, client.ObjectKeyFromObject(k.obj), got))
			fresh := k.obj.DeepCopyObject().(client.Object)
			fresh.SetName("intruder")
			expectForbidden(t, user+" creates "+kind+" in B", c.Create(ctx, fresh))
			expectForbidden(t, user+" deletes "+kind+" in B", c.Delete(ctx, k.obj.DeepCopyObject().(client.Object)))
		}
		expectForbidden(t, user+" gets B's namespace", c.Get(ctx, client.ObjectKey{Name: nsB}, &corev1.Namespace{}))
		expectForbidden(t, user+" gets account B", c.Get(ctx, client.ObjectKey{Name: b.Name}, &v1.Account{}))
		expectForbidden(t, user+" lists accounts", c.List(ctx, &v1.AccountList{}))
	}
}

// Tenants, even the owner, cannot change the guard rails of their own
// namespace, and Pod Security refuses a privileged pod (server-side dry run).
func TestTenantsCannotChangeGuardRails(t *testing.T) {
	a := newAccount(t, "rails")
	waitReady(t, a.Name)
	ns := cfg.AccountNamespace(a.Name)
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: platform.QuotaName}}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(quota), quota); err != nil {
		t.Fatalf("the account namespace has no quota: %v", err)
	}
	newMembership(t, ns, "admin@rails.example", v1.RoleAdmin)

	for _, user := range []string{ownerOf(a.Name), "admin@rails.example"} {
		c := env.As(user)
		widen := []byte(`{"spec":{"ingress":[{}]}}`)
		expectForbidden(t, user+" opens the NetworkPolicy",
			c.Patch(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: platform.NetworkPolicyName}}, client.RawPatch(client.Merge.Type(), widen)))
		expectForbidden(t, user+" deletes the NetworkPolicy",
			c.Delete(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: platform.NetworkPolicyName}}))
		// Tenants write their own NetworkPolicies (config/rbac/tenant), but
		// none that lets their pods' egress anywhere.
		expectForbidden(t, user+" adds an allow-all-egress NetworkPolicy", c.Create(ctx, &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allow-all"},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress: []networkingv1.NetworkPolicyEgressRule{{}}}}))
		expectForbidden(t, user+" raises the quota",
			c.Patch(ctx, quota.DeepCopy(), client.RawPatch(client.Merge.Type(), []byte(`{"spec":{"hard":{"requests.storage":"1Ti"}}}`))))
		expectForbidden(t, user+" deletes the quota", c.Delete(ctx, quota.DeepCopy()))
		expectForbidden(t, user+" changes the LimitRange",
			c.Patch(ctx, &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: platform.LimitRangeName}},
				client.RawPatch(client.Merge.Type(), []byte(`{"spec":{"limits":[]}}`))))
		expectForbidden(t, user+" deletes the LimitRange",
			c.Delete(ctx, &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: platform.LimitRangeName}}))
		for _, label := range []string{`"pod-security.kubernetes.io/enforce":"privileged"`, `"hosting.landlord.dev/account":"other"`,
			`"hosting.landlord.dev/cost-center":"free"`} {
			expectForbidden(t, user+" relabels the namespace "+label,
				c.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
					client.RawPatch(client.Merge.Type(), []byte(`{"metadata":{"labels":{`+label+`}}}`))))
		}
		expectForbidden(t, user+" deletes the namespace", c.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
		expectForbidden(t, user+" rebinds itself", c.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "me-admin"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
			Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: user}}}))
		expectForbidden(t, user+" deletes the owner binding",
			c.Delete(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: platform.OwnerBindingName}}))
		expectForbidden(t, user+" writes a subscription", c.Create(ctx, &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "free"},
			Spec: v1.SubscriptionSpec{Plan: "enterprise", Site: v1.SiteSpec{Template: "static"}}}))

		// Nothing runs in the account namespace: a compliant pod is refused
		// by the quota (not by RBAC or Pod Security); a privileged one by Pod
		// Security first. Sites run in their own namespaces.
		if err := c.Create(ctx, restrictedPod(ns), client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "quota") ||
			strings.Contains(err.Error(), "PodSecurity") {
			t.Errorf("%s: dry run of a restricted pod in the account namespace: want the quota's refusal, got %v", user, err)
		}
		priv := restrictedPod(ns)
		priv.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
		priv.Spec.HostNetwork = true
		err := c.Create(ctx, priv, client.DryRunAll)
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity \"restricted") {
			t.Errorf("%s: dry run of a privileged pod: want a PodSecurity refusal, got %v", user, err)
		}
	}
}
