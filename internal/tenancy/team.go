package tenancy

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// TeamObjectName names a Team's RoleBindings (in its site namespaces and in
// the account namespace) and its Role (in the account namespace):
// landlord-team-<team>, shortened with a hash past 253 characters.
func TeamObjectName(team string) string {
	const prefix = "landlord-team-"
	name := prefix + team
	if len(name) <= 253 {
		return name
	}
	sum := sha256.Sum256([]byte(team))
	return name[:253-17] + "-" + hex.EncodeToString(sum[:8])
}

// TeamLabelValue is the value of the team label on a Team's objects: its
// name, shortened with a hash past 63 characters.
func TeamLabelValue(team string) string {
	if len(team) <= 63 {
		return team
	}
	sum := sha256.Sum256([]byte(team))
	return team[:63-17] + "-" + hex.EncodeToString(sum[:8])
}

// TeamLabels are the labels of a Team's objects in t.
func TeamLabels(t Target, team string) map[string]string {
	l := maps.Clone(t.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[hostingv1alpha1.TeamLabel] = TeamLabelValue(team)
	return l
}

// SubjectKey identifies a subject: kind/namespace/name.
func SubjectKey(s hostingv1alpha1.Subject) string {
	return string(s.Kind) + "/" + s.Namespace + "/" + s.Name
}

// sortedSubjects are subjects sorted by key, each once.
func sortedSubjects(subjects []hostingv1alpha1.Subject) []hostingv1alpha1.Subject {
	out := slices.Clone(subjects)
	slices.SortFunc(out, func(a, b hostingv1alpha1.Subject) int { return strings.Compare(SubjectKey(a), SubjectKey(b)) })
	return slices.CompactFunc(out, func(a, b hostingv1alpha1.Subject) bool { return a == b })
}

// TeamClusterRole is the tenant ClusterRole a Team's members are bound to in
// its site namespaces: the Membership role of the same name, or the
// read-only role while the account is suspended.
func TeamClusterRole(role hostingv1alpha1.TeamRole, suspended bool) string {
	return BoundClusterRole(hostingv1alpha1.MembershipRole(role), suspended)
}

// BuildTeamSiteBinding is a Team's RoleBinding in one of its site namespaces
// (SiteTarget): the members holding a seat of that site, bound to the team's
// role. nil (must not exist) when nobody is bound. No owner reference (the
// Team lives in the account namespace): the team label identifies it and the
// Team's finalizer removes it.
func BuildTeamSiteBinding(team *hostingv1alpha1.Team, t Target, suspended bool, members []hostingv1alpha1.Subject) *rbacv1ac.RoleBindingApplyConfiguration {
	if len(members) == 0 {
		return nil
	}
	rb := rbacv1ac.RoleBinding(TeamObjectName(team.Name), t.Namespace).
		WithLabels(TeamLabels(t, team.Name)).
		WithRoleRef(clusterRoleRef(TeamClusterRole(team.Spec.Role, suspended)))
	for _, s := range sortedSubjects(members) {
		rb.WithSubjects(RBACSubject(s))
	}
	return rb
}

// teamOwner is a controller owner reference to the team.
func teamOwner(team *hostingv1alpha1.Team) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(hostingv1alpha1.GroupVersion.String()).
		WithKind("Team").
		WithName(team.Name).
		WithUID(team.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// BuildTeamSubscriptionRole is the Role, in the account namespace, that lets
// a Team's members get (not list or watch) exactly the team's Subscriptions.
// nil when sites is empty: a rule without resourceNames would grant every
// Subscription.
func BuildTeamSubscriptionRole(team *hostingv1alpha1.Team, account string, sites []string) *rbacv1ac.RoleApplyConfiguration {
	names := slices.Sorted(slices.Values(sites))
	names = slices.Compact(names)
	if len(names) == 0 {
		return nil
	}
	t := Target{Namespace: team.Namespace, Labels: platform.AccountLabels(account)}
	return rbacv1ac.Role(TeamObjectName(team.Name), team.Namespace).
		WithLabels(TeamLabels(t, team.Name)).
		WithOwnerReferences(teamOwner(team)).
		WithRules(rbacv1ac.PolicyRule().
			WithAPIGroups(hostingv1alpha1.GroupVersion.Group).
			WithResources("subscriptions").
			WithVerbs("get").
			WithResourceNames(names...))
}

// BuildTeamAccountBinding binds members to the team's Role
// (BuildTeamSubscriptionRole) in the account namespace; nil when nobody is
// bound.
func BuildTeamAccountBinding(team *hostingv1alpha1.Team, account string, members []hostingv1alpha1.Subject) *rbacv1ac.RoleBindingApplyConfiguration {
	if len(members) == 0 {
		return nil
	}
	t := Target{Namespace: team.Namespace, Labels: platform.AccountLabels(account)}
	rb := rbacv1ac.RoleBinding(TeamObjectName(team.Name), team.Namespace).
		WithLabels(TeamLabels(t, team.Name)).
		WithOwnerReferences(teamOwner(team)).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("Role").WithName(TeamObjectName(team.Name)))
	for _, s := range sortedSubjects(members) {
		rb.WithSubjects(RBACSubject(s))
	}
	return rb
}

// SeatName is the name of seat i of a subscription's Teams: a Lease in the
// account namespace, whose creation is atomic through the API server's name
// uniqueness.
func SeatName(subscription string, i int32) string {
	return "landlord-seat-" + subscription + "-" + itoa(i)
}

func itoa(i int32) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for n := i; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// SeatIndex parses the index of a seat of subscription from its name.
func SeatIndex(subscription, name string) (int32, bool) {
	rest, ok := strings.CutPrefix(name, "landlord-seat-"+subscription+"-")
	if !ok || rest == "" || len(rest) > 6 {
		return 0, false
	}
	var i int32
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
		i = i*10 + int32(c-'0')
	}
	if itoa(i) != rest {
		return 0, false
	}
	return i, true
}

// SeatLabels are the labels of a seat of subscription of account.
func SeatLabels(account, subscription string) map[string]string {
	l := platform.AccountLabels(account)
	l[hostingv1alpha1.SeatLabel] = subscription
	return l
}

// CompareSubjects orders subjects by key.
func CompareSubjects(a, b hostingv1alpha1.Subject) int {
	return cmp.Compare(SubjectKey(a), SubjectKey(b))
}
