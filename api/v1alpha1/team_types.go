package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TeamLabel names the Team a RoleBinding or Role belongs to, on the Team's
// bindings in its site namespaces and its Role and RoleBinding in the account
// namespace.
const TeamLabel = "hosting.landlord.dev/team"

// SeatLabel marks the seat objects (Leases in the account namespace, one per
// seat of a site) with the subscription whose seat they are.
const SeatLabel = "hosting.landlord.dev/seat-of"

// TeamRole is what a team's members may do in the team's sites: a site-level
// role, at most Admin (Owner and Billing are account roles).
// +kubebuilder:validation:Enum=Admin;Developer;Editor;Viewer
type TeamRole string

// Team roles; each is the Membership role of the same name, bound in the
// team's site namespaces only.
const (
	TeamRoleAdmin     TeamRole = "Admin"
	TeamRoleDeveloper TeamRole = "Developer"
	TeamRoleEditor    TeamRole = "Editor"
	TeamRoleViewer    TeamRole = "Viewer"
)

// TeamMember is one person of a team. Seats are licences for people, so a
// member is a User: a Group would be any number of people in one seat, and a
// ServiceAccount is nobody's seat. To give a group access, the provider
// creates a Membership for the group (in the account namespace).
type TeamMember struct {
	// subject is the member: a User.
	// +required
	// +kubebuilder:validation:XValidation:rule="self.kind == 'User'",messageExpression="'a Team member is a person (kind User), who takes one seat in the sites of the team; ' + self.kind + ' ' + self.name + ' is not: list its people as Users, or, to give a whole group access, ask the provider to create a Membership for the group in the account namespace'",reason=FieldValueForbidden
	Subject Subject `json:"subject"`

	// expiresAt, when set, ends this member's access at that time (freelancers,
	// agencies).
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
}

// TeamSpec gives its members one site-level role in some sites of the account.
type TeamSpec struct {
	// role is what the members may do in the team's sites: Admin, Developer,
	// Editor or Viewer.
	// +required
	Role TeamRole `json:"role"`

	// sites are the names of the account's Subscriptions whose site
	// namespaces the members get the role in.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=26
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Sites []string `json:"sites,omitempty"`

	// members are the team's members, Users only (seats are licences for
	// people). A subject listed twice counts once.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Members []TeamMember `json:"members,omitempty"`

	// lead is the team's lead, for people to read; it grants nothing by
	// itself (list the lead among the members to give access).
	// +optional
	Lead *Subject `json:"lead,omitempty"`
}

// TeamMemberState is Bound, Waiting or Expired.
// +kubebuilder:validation:Enum=Bound;Waiting;Expired
type TeamMemberState string

// Team member states.
const (
	// TeamMemberBound: the member has the role in every site of the team.
	TeamMemberBound TeamMemberState = "Bound"
	// TeamMemberWaiting: the member lacks the role in at least one site of
	// the team (reason and message say which and why).
	TeamMemberWaiting TeamMemberState = "Waiting"
	// TeamMemberExpired: expiresAt has passed; the member has no access.
	TeamMemberExpired TeamMemberState = "Expired"
)

// TeamMemberStatus is what Landlord did for one member.
type TeamMemberStatus struct {
	// subject is the member.
	// +required
	Subject Subject `json:"subject"`

	// state is Bound, Waiting or Expired.
	// +required
	State TeamMemberState `json:"state"`

	// addedAt is when Landlord first saw the subject among the members; the
	// seat queue is ordered by it (the longest waiting first).
	// +required
	AddedAt metav1.Time `json:"addedAt"`

	// sites are the sites the member has the role in.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=26
	Sites []string `json:"sites,omitempty"`

	// reason is why the member waits: SeatLimitReached, SiteNotFound or
	// SiteNotReady.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason,omitempty"`

	// message says it as a person reads it.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// TeamStatus is what Landlord did for the team.
type TeamStatus struct {
	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// boundMembers is how many members have the role in every site of the team.
	// +optional
	BoundMembers int32 `json:"boundMembers,omitempty"`

	// waitingMembers is how many members lack it in at least one site.
	// +optional
	WaitingMembers int32 `json:"waitingMembers,omitempty"`

	// members: one entry per distinct subject of spec.members.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Members []TeamMemberStatus `json:"members,omitempty"`

	// conditions: Ready, Seats.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Team gives its members one site-level role in some of the account's sites
// (and get on those Subscriptions), and nothing else of the account.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tm,categories=landlord
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.role`
// +kubebuilder:printcolumn:name="Sites",type=string,JSONPath=`.spec.sites`
// +kubebuilder:printcolumn:name="Bound",type=integer,JSONPath=`.status.boundMembers`
// +kubebuilder:printcolumn:name="Waiting",type=integer,JSONPath=`.status.waitingMembers`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Team struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is written by the portal or the account's owners and admins.
	// +required
	Spec TeamSpec `json:"spec"`

	// status is written by Landlord.
	// +optional
	Status TeamStatus `json:"status,omitempty"`
}

// TeamList is a list of Teams.
// +kubebuilder:object:root=true
type TeamList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Team `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Team{}, &TeamList{})
}

// GetConditions returns the conditions.
func (t *Team) GetConditions() []metav1.Condition { return t.Status.Conditions }

// SetConditions replaces the conditions.
func (t *Team) SetConditions(c []metav1.Condition) { t.Status.Conditions = c }

// SetObservedGeneration records the generation the status describes.
func (t *Team) SetObservedGeneration(g int64) { t.Status.ObservedGeneration = g }

// ConditionSeats (Team): True when every member who wants a seat in the
// team's sites has one and no site is over its seats.
const ConditionSeats = "Seats"

// Team reasons.
const (
	// ReasonSeatLimitReached (Team Ready=False, Seats=False; a member's
	// reason): a site's seats are all taken; the newest members wait, and a
	// seat that frees up goes to the longest waiting.
	ReasonSeatLimitReached = "SeatLimitReached"
	// ReasonOverSeats (Team Seats=False): after a downgrade, a site has more
	// people with access through Teams than seats; they keep their access
	// and nobody new gets a seat until the use is under the limit.
	ReasonOverSeats = "OverSeats"
	// ReasonSeatsAvailable (Team Seats=True): no member waits for a seat.
	ReasonSeatsAvailable = "SeatsAvailable"
	// ReasonSiteNotFound (a member's reason, Team Ready=False): a name in
	// spec.sites is no Subscription of the account.
	ReasonSiteNotFound = "SiteNotFound"
	// ReasonSiteNotReady (a member's reason, Team Ready=False): the site's
	// namespace does not exist yet.
	ReasonSiteNotReady = "SiteNotReady"
)
