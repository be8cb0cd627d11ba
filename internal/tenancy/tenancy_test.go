package tenancy

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

func account(mut func(*v1.Account)) *v1.Account {
	a := &v1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: types.UID("uid-1")},
		Spec:       v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "alice@example.com"}},
	}
	if mut != nil {
		mut(a)
	}
	return a
}

func TestBoundClusterRole(t *testing.T) {
	for _, tc := range []struct {
		role      v1.MembershipRole
		suspended bool
		want      string
	}{
		{v1.RoleOwner, false, "landlord-tenant-owner"},
		{v1.RoleAdmin, false, "landlord-tenant-admin"},
		{v1.RoleDeveloper, false, "landlord-tenant-developer"},
		{v1.RoleEditor, false, "landlord-tenant-editor"},
		{v1.RoleBilling, false, "landlord-tenant-billing"},
		{v1.RoleViewer, false, "landlord-tenant-viewer"},
		{v1.RoleOwner, true, "landlord-tenant-suspended"},
		{v1.RoleViewer, true, "landlord-tenant-suspended"},
	} {
		if got := BoundClusterRole(tc.role, tc.suspended); got != tc.want {
			t.Errorf("BoundClusterRole(%s, %v) = %s, want %s", tc.role, tc.suspended, got, tc.want)
		}
	}
}

func TestNamespaceLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		acct *v1.Account
		want map[string]string
	}{
		{"plain", account(nil), map[string]string{
			v1.AccountLabel: "acme", v1.ManagedByLabel: "landlord",
			PodSecurityEnforce: "restricted", PodSecurityAudit: "restricted", PodSecurityWarn: "restricted"}},
		{"cost center", account(func(a *v1.Account) { a.Spec.CostCenter = "cc-42" }), map[string]string{
			v1.AccountLabel: "acme", v1.ManagedByLabel: "landlord", v1.CostCenterLabel: "cc-42",
			PodSecurityEnforce: "restricted", PodSecurityAudit: "restricted", PodSecurityWarn: "restricted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NamespaceLabels(tc.acct)
			if len(got) != len(tc.want) {
				t.Fatalf("labels %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("label %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestBuildNamespace(t *testing.T) {
	cfg := platform.Default()
	ns := BuildNamespace(account(nil), cfg)
	if *ns.Name != "acct-acme" {
		t.Errorf("name %s", *ns.Name)
	}
	if len(ns.OwnerReferences) != 1 || *ns.OwnerReferences[0].UID != "uid-1" || !*ns.OwnerReferences[0].Controller {
		t.Errorf("owner references %+v", ns.OwnerReferences)
	}
}

func TestBuildNetworkPolicy(t *testing.T) {
	cfg := platform.Default()
	cfg.IngressNamespace = "gw"
	np := BuildNetworkPolicy(account(nil), cfg)
	if *np.Namespace != "acct-acme" || *np.Name != platform.NetworkPolicyName {
		t.Fatalf("placed at %s/%s", *np.Namespace, *np.Name)
	}
	if len(np.Spec.PodSelector.MatchLabels) != 0 || np.Spec.PodSelector.MatchExpressions != nil {
		t.Error("the policy must select every pod of the namespace")
	}
	// Egress is restricted by default (TestBuildNetworkPolicyEgress).
	if len(np.Spec.PolicyTypes) != 2 || np.Spec.PolicyTypes[0] != "Ingress" || np.Spec.PolicyTypes[1] != "Egress" {
		t.Errorf("policy types %v", np.Spec.PolicyTypes)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 2 {
		t.Fatalf("want exactly one rule with two peers, got %+v", np.Spec.Ingress)
	}
	from := np.Spec.Ingress[0].From
	if got := from[0].NamespaceSelector.MatchLabels[corev1.LabelMetadataName]; got != "gw" || from[0].PodSelector != nil {
		t.Errorf("first peer must be the ingress namespace only, got %+v", from[0])
	}
	if from[1].NamespaceSelector != nil || from[1].PodSelector == nil || len(from[1].PodSelector.MatchLabels) != 0 {
		t.Errorf("second peer must be every pod of this namespace, got %+v", from[1])
	}
}

func TestBuildLimitRange(t *testing.T) {
	lr := BuildLimitRange(SiteTarget("acme", "www", platform.Default()))
	if *lr.Namespace != "acct-acme--www" || lr.Labels[v1.SubscriptionLabel] != "www" || len(lr.OwnerReferences) != 0 {
		t.Errorf("placed at %s with %v, owners %v", *lr.Namespace, lr.Labels, lr.OwnerReferences)
	}
	item := lr.Spec.Limits[0]
	if *item.Type != corev1.LimitTypeContainer {
		t.Errorf("type %s", *item.Type)
	}
	for _, rl := range []corev1.ResourceList{*item.Default, *item.DefaultRequest} {
		if _, ok := rl[corev1.ResourceCPU]; !ok {
			t.Error("no cpu default")
		}
		if _, ok := rl[corev1.ResourceMemory]; !ok {
			t.Error("no memory default")
		}
		if _, ok := rl[corev1.ResourceEphemeralStorage]; !ok {
			t.Error("no ephemeral-storage default")
		}
	}
	// A floor of cpu and memory, below every default: a container asking
	// for nothing gets the defaults and passes; one asking for 0 does not.
	if item.Min == nil {
		t.Fatal("no min: a container may ask for 0 cpu and memory")
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		least, ok := (*item.Min)[res]
		if !ok || least.Sign() <= 0 {
			t.Errorf("min %s is %v: a container may ask for 0", res, least.String())
			continue
		}
		for _, rl := range []corev1.ResourceList{*item.Default, *item.DefaultRequest} {
			if d := rl[res]; d.Cmp(least) < 0 {
				t.Errorf("default %s %s is below the min %s: a container asking for nothing would be refused", res, d.String(), least.String())
			}
		}
	}
}

func TestBuildOwnerBinding(t *testing.T) {
	for _, tc := range []struct {
		name     string
		acct     *v1.Account
		wantRole string
		wantSubj string
	}{
		{"active", account(nil), "landlord-tenant-owner", "User/alice@example.com/rbac.authorization.k8s.io"},
		{"suspended", account(func(a *v1.Account) { a.Spec.Suspension = &v1.Suspension{Reason: v1.SuspensionFraud} }),
			"landlord-tenant-suspended", "User/alice@example.com/rbac.authorization.k8s.io"},
		{"service account", account(func(a *v1.Account) {
			a.Spec.Owner = v1.Subject{Kind: v1.SubjectServiceAccount, Name: "ci", Namespace: "tools"}
		}), "landlord-tenant-owner", "ServiceAccount/ci/tools"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rb := BuildOwnerBinding(tc.acct, platform.Default())
			if RoleRefOf(rb) != tc.wantRole {
				t.Errorf("role %s, want %s", RoleRefOf(rb), tc.wantRole)
			}
			s := rb.Subjects[0]
			third := *s.APIGroup
			if s.Namespace != nil {
				third = *s.Namespace
			}
			if got := *s.Kind + "/" + *s.Name + "/" + third; got != tc.wantSubj {
				t.Errorf("subject %s, want %s", got, tc.wantSubj)
			}
		})
	}
}

func TestBuildMemberBinding(t *testing.T) {
	m := &v1.Membership{
		ObjectMeta: metav1.ObjectMeta{Namespace: "acct-acme", Name: "bob", UID: "m-uid"},
		Spec:       v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectGroup, Name: "devs"}, Role: v1.RoleDeveloper},
	}
	for _, tc := range []struct {
		suspended bool
		want      string
	}{{false, "landlord-tenant-developer"}, {true, "landlord-tenant-suspended"}} {
		rb := BuildMemberBinding(m, "acme", tc.suspended)
		if RoleRefOf(rb) != tc.want {
			t.Errorf("suspended=%v: role %s, want %s", tc.suspended, RoleRefOf(rb), tc.want)
		}
		if *rb.Name != "landlord-member-bob" || *rb.Namespace != "acct-acme" {
			t.Errorf("placed at %s/%s", *rb.Namespace, *rb.Name)
		}
		if rb.Labels[v1.AccountLabel] != "acme" || rb.Labels[v1.ManagedByLabel] != "landlord" || rb.Labels[v1.MembershipLabel] != "bob" {
			t.Errorf("labels %v", rb.Labels)
		}
		if o := rb.OwnerReferences[0]; *o.Kind != "Membership" || *o.UID != "m-uid" {
			t.Errorf("owner %+v", o)
		}
	}
}

// A site namespace's binding of a membership: same name, role and subject,
// found by its labels, and no (cross-namespace) owner reference.
func TestBuildSiteMemberBinding(t *testing.T) {
	m := &v1.Membership{
		ObjectMeta: metav1.ObjectMeta{Namespace: "acct-acme", Name: "bob", UID: "m-uid"},
		Spec:       v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: "bob@example.com"}, Role: v1.RoleEditor},
	}
	for _, tc := range []struct {
		suspended bool
		want      string
	}{{false, "landlord-tenant-editor"}, {true, "landlord-tenant-suspended"}} {
		rb := BuildSiteMemberBinding(m, SiteTarget("acme", "blog", platform.Default()), tc.suspended)
		if RoleRefOf(rb) != tc.want {
			t.Errorf("suspended=%v: role %s, want %s", tc.suspended, RoleRefOf(rb), tc.want)
		}
		if *rb.Name != "landlord-member-bob" || *rb.Namespace != "acct-acme--blog" {
			t.Errorf("placed at %s/%s", *rb.Namespace, *rb.Name)
		}
		want := map[string]string{v1.AccountLabel: "acme", v1.SubscriptionLabel: "blog", v1.ManagedByLabel: "landlord", v1.MembershipLabel: "bob"}
		if len(rb.Labels) != len(want) {
			t.Errorf("labels %v, want %v", rb.Labels, want)
		}
		for k, v := range want {
			if rb.Labels[k] != v {
				t.Errorf("label %s=%q, want %q", k, rb.Labels[k], v)
			}
		}
		if len(rb.OwnerReferences) != 0 {
			t.Errorf("owner references %+v", rb.OwnerReferences)
		}
		if s := rb.Subjects[0]; *s.Kind != "User" || *s.Name != "bob@example.com" {
			t.Errorf("subject %+v", s)
		}
	}
}

// The membership label value is the name when it fits a label value, else a
// bounded, distinct, valid label value.
func TestMembershipLabelValue(t *testing.T) {
	if MembershipLabelValue("bob.smith") != "bob.smith" {
		t.Error("short names must stay readable")
	}
	a, b := strings.Repeat("a", 253), strings.Repeat("a", 252)+"b"
	va, vb := MembershipLabelValue(a), MembershipLabelValue(b)
	if va == vb {
		t.Fatal("distinct memberships share a label value")
	}
	for _, v := range []string{va, vb, MembershipLabelValue(strings.Repeat("x.", 40) + "y")} {
		if errs := validation.IsValidLabelValue(v); len(errs) != 0 {
			t.Errorf("%q: %v", v, errs)
		}
	}
}

func TestMembershipBindingNameIsBoundedAndDistinct(t *testing.T) {
	a, b := strings.Repeat("a", 253), strings.Repeat("a", 252)+"b"
	na, nb := platform.MembershipBindingName(a), platform.MembershipBindingName(b)
	if len(na) > 253 || len(nb) > 253 {
		t.Fatalf("too long: %d %d", len(na), len(nb))
	}
	if na == nb {
		t.Fatal("distinct memberships share a binding name")
	}
	if platform.MembershipBindingName("x") != "landlord-member-x" {
		t.Error("short names must stay readable")
	}
}

// The tenant NetworkPolicy's egress, per --tenant-egress and --cluster-cidrs.
func TestBuildNetworkPolicyEgress(t *testing.T) {
	// Carrier-grade NAT (some clouds' metadata at 100.100.100.200) and
	// NAT64 (every IPv4 address, the private ones too) are private as well.
	private4 := []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"}
	private6 := []string{"fc00::/7", "fe80::/10", "64:ff9b::/96"}
	for _, tc := range []struct {
		name         string
		egress       platform.TenantEgress
		clusterCIDRs []string
		wantTypes    string
		// wantExcept4 and wantExcept6 are the ranges excepted from 0.0.0.0/0 and ::/0.
		wantExcept4, wantExcept6 []string
	}{
		{"the default is internet", platform.Default().TenantEgress, nil, "Ingress,Egress", private4, private6},
		{"open (explicit)", platform.TenantEgressOpen, nil, "Ingress", nil, nil},
		{"open ignores cluster CIDRs", platform.TenantEgressOpen, []string{"198.18.0.0/15"}, "Ingress", nil, nil},
		{"internet", platform.TenantEgressInternet, nil, "Ingress,Egress", private4, private6},
		{"internet without the cluster's ranges", platform.TenantEgressInternet, []string{"198.18.0.0/15", "fd00:10:96::/108"},
			"Ingress,Egress", append(slices.Clone(private4), "198.18.0.0/15"), append(slices.Clone(private6), "fd00:10:96::/108")},
		{"a cluster range equal to carrier-grade NAT is listed once", platform.TenantEgressInternet, []string{"100.64.0.0/10"},
			"Ingress,Egress", private4, private6},
		{"a cluster range inside RFC 1918 is listed once", platform.TenantEgressInternet, []string{"10.0.0.0/8", "10.96.0.0/12"},
			"Ingress,Egress", append(slices.Clone(private4), "10.96.0.0/12"), private6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := platform.Default()
			cfg.TenantEgress, cfg.ClusterCIDRs = tc.egress, tc.clusterCIDRs
			spec := BuildNetworkPolicy(account(nil), cfg).Spec
			var types []string
			for _, pt := range spec.PolicyTypes {
				types = append(types, string(pt))
			}
			if got := strings.Join(types, ","); got != tc.wantTypes {
				t.Fatalf("policy types %s, want %s", got, tc.wantTypes)
			}
			if len(spec.Ingress) != 1 {
				t.Errorf("ingress rules changed: %+v", spec.Ingress)
			}
			if tc.wantExcept4 == nil {
				if spec.Egress != nil {
					t.Errorf("open egress must have no egress rules, got %+v", spec.Egress)
				}
				return
			}
			if len(spec.Egress) != 3 {
				t.Fatalf("want 3 egress rules (DNS, own namespace, internet), got %d", len(spec.Egress))
			}
			dns, own, internet := spec.Egress[0], spec.Egress[1], spec.Egress[2]
			if len(dns.To) != 1 || dns.To[0].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != "kube-system" || dns.To[0].PodSelector != nil {
				t.Errorf("DNS rule must go to kube-system only: %+v", dns.To)
			}
			var ports []string
			for _, p := range dns.Ports {
				ports = append(ports, string(*p.Protocol)+"/"+p.Port.String())
			}
			if got := strings.Join(ports, ","); got != "UDP/53,TCP/53" {
				t.Errorf("DNS ports %s, want UDP/53,TCP/53", got)
			}
			if len(own.To) != 1 || own.To[0].PodSelector == nil || len(own.To[0].PodSelector.MatchLabels) != 0 || own.To[0].NamespaceSelector != nil || own.Ports != nil {
				t.Errorf("second rule must be every pod of the namespace, any port: %+v", own)
			}
			if len(internet.To) != 2 || internet.Ports != nil {
				t.Fatalf("internet rule must be two ipBlocks, any port: %+v", internet)
			}
			for i, want := range []struct {
				cidr   string
				except []string
			}{{"0.0.0.0/0", tc.wantExcept4}, {"::/0", tc.wantExcept6}} {
				b := internet.To[i].IPBlock
				if b == nil || *b.CIDR != want.cidr || !slices.Equal(b.Except, want.except) {
					t.Errorf("ipBlock %d = %+v, want %s except %v", i, b, want.cidr, want.except)
				}
			}
		})
	}
}

func TestParseCIDRs(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"10.96.0.0/12", "10.96.0.0/12", ""},
		{" 10.244.1.7/16 , fd00:10::/64 ", "10.244.0.0/16,fd00:10::/64", ""},
		{"", "", ""},
		{"10.96.0.0", "", "not a CIDR"},
		{"0.0.0.0/0", "", "covers every address"},
	} {
		got, err := platform.ParseCIDRs(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseCIDRs(%q): err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != tc.want {
			t.Errorf("ParseCIDRs(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// The account namespace's quota counts every kind a tenant can create
// there: no workload kind at all, Landlord's one NetworkPolicy, no
// CustomDomain, and Memberships and Teams up to the platform's flags.
func TestAccountQuotaCounts(t *testing.T) {
	cfg := platform.Default()
	cfg.AccountMaxMemberships, cfg.AccountMaxTeams = 7, 3
	hard := BuildAccountQuota(account(nil), cfg).Spec.Hard
	for name, want := range map[corev1.ResourceName]int64{
		"count/deployments.apps":                   0,
		"count/statefulsets.apps":                  0,
		"count/jobs.batch":                         0,
		"count/cronjobs.batch":                     0,
		"count/networkpolicies.networking.k8s.io":  1,
		"count/customdomains.hosting.landlord.dev": 0,
		"count/memberships.hosting.landlord.dev":   7,
		"count/teams.hosting.landlord.dev":         3,
		corev1.ResourcePods:                        0,
		corev1.ResourceQuotas:                      1,
	} {
		q, ok := (*hard)[name]
		if !ok || q.Value() != want {
			t.Errorf("%s = %v (set: %v), want %d", name, q.String(), ok, want)
		}
	}
	if d := platform.Default(); d.AccountMaxMemberships != 100 || d.AccountMaxTeams != 50 {
		t.Errorf("defaults: %d memberships, %d teams; want 100 and 50", d.AccountMaxMemberships, d.AccountMaxTeams)
	}
}

// Under --tenant-egress=internet the database server (a private address,
// excepted from the internet rule) is reachable on its port, and only there.
func TestNetworkPolicyAdmitsTheDatabaseServer(t *testing.T) {
	cfg := platform.Default()
	cfg.TenantEgress, cfg.DatabaseCIDRs, cfg.DatabasePort = platform.TenantEgressInternet, []string{"10.0.5.7/32"}, 3306
	spec := BuildNetworkPolicy(account(nil), cfg).Spec
	if len(spec.Egress) != 4 {
		t.Fatalf("want 4 egress rules (DNS, own namespace, internet, database), got %d", len(spec.Egress))
	}
	db := spec.Egress[3]
	if len(db.To) != 1 || *db.To[0].IPBlock.CIDR != "10.0.5.7/32" || len(db.To[0].IPBlock.Except) != 0 {
		t.Errorf("database rule peers %+v, want 10.0.5.7/32", db.To)
	}
	if len(db.Ports) != 1 || *db.Ports[0].Protocol != corev1.ProtocolTCP || db.Ports[0].Port.IntValue() != 3306 {
		t.Errorf("database rule ports %+v, want TCP/3306 only", db.Ports)
	}
	cfg.TenantEgress = platform.TenantEgressOpen
	if spec := BuildNetworkPolicy(account(nil), cfg).Spec; spec.Egress != nil {
		t.Errorf("open egress has egress rules: %+v", spec.Egress)
	}
}
