// Package portal shows how a hosting portal's backend drives Landlord with the
// typed Go client: it creates customers, invites members, sells sites,
// renews them, and reads back what a control panel's account page shows.
//
// Landlord charges no cards: the billing side of the portal takes the money
// and then moves spec.paidThrough. Everything the portal displays comes from
// status, which Landlord keeps current; see docs/status-contract.md.
package portal

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// Portal is a portal backend's view of Landlord.
type Portal struct {
	Client client.Client
	// NamespacePrefix is Landlord's --namespace-prefix (default "acct-").
	NamespacePrefix string
}

func (p Portal) namespace(account string) string { return p.NamespacePrefix + account }

// CreateCustomer creates the Account of a new customer, owned by ownerEmail.
func (p Portal) CreateCustomer(ctx context.Context, name, displayName, ownerEmail string) (*v1.Account, error) {
	a := &v1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.AccountSpec{
			DisplayName: displayName,
			Owner:       v1.Subject{Kind: v1.SubjectUser, Name: ownerEmail},
			Contacts:    []v1.Contact{{Name: displayName, Email: ownerEmail, Purposes: []v1.ContactPurpose{v1.ContactBilling}}},
		},
	}
	if err := p.Client.Create(ctx, a); err != nil {
		return nil, fmt.Errorf("creating account %s: %w", name, err)
	}
	return a, nil
}

// Invite gives user a role in the account.
func (p Portal) Invite(ctx context.Context, account, name, user string, role v1.MembershipRole) (*v1.Membership, error) {
	m := &v1.Membership{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.namespace(account), Name: name},
		Spec:       v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: user}, Role: role},
	}
	if err := p.Client.Create(ctx, m); err != nil {
		return nil, fmt.Errorf("inviting %s to %s: %w", user, account, err)
	}
	return m, nil
}

// InviteToSite gives user a site-level role in one site of the account only
// (a freelancer, an agency): it adds user to the account's Team
// "<site>-<role>" (creating it), whose members get the role in that site and
// get on its Subscription, nothing else of the account. expiresAt (zero:
// never) ends the access by itself. Landlord reports in the Team's
// status.members whether the user is bound or waits for a seat
// (SeatLimitReached).
func (p Portal) InviteToSite(ctx context.Context, account, site, user string, role v1.TeamRole, expiresAt time.Time) (*v1.Team, error) {
	member := v1.TeamMember{Subject: v1.Subject{Kind: v1.SubjectUser, Name: user}}
	if !expiresAt.IsZero() {
		member.ExpiresAt = &metav1.Time{Time: expiresAt}
	}
	t := &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: p.namespace(account), Name: site + "-" + strings.ToLower(string(role))}}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := p.Client.Get(ctx, client.ObjectKeyFromObject(t), t); err != nil {
			if !apierrors.IsNotFound(err) {
				return err
			}
			t.Spec = v1.TeamSpec{Role: role, Sites: []string{site}, Members: []v1.TeamMember{member}}
			return p.Client.Create(ctx, t)
		}
		for i, m := range t.Spec.Members {
			if m.Subject == member.Subject {
				t.Spec.Members[i] = member
				return p.Client.Update(ctx, t)
			}
		}
		t.Spec.Members = append(t.Spec.Members, member)
		return p.Client.Update(ctx, t)
	})
	if err != nil {
		return nil, fmt.Errorf("inviting %s to site %s of %s: %w", user, site, account, err)
	}
	return t, nil
}

// Subscribe sells a site on a plan, paid through the given date.
func (p Portal) Subscribe(ctx context.Context, account, site, plan, template string, paidThrough time.Time) (*v1.Subscription, error) {
	s := &v1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.namespace(account), Name: site},
		Spec: v1.SubscriptionSpec{
			Plan:        plan,
			Site:        v1.SiteSpec{Template: template},
			PaidThrough: &metav1.Time{Time: paidThrough},
			AutoRenew:   true,
		},
	}
	if err := p.Client.Create(ctx, s); err != nil {
		return nil, fmt.Errorf("subscribing %s/%s: %w", account, site, err)
	}
	return s, nil
}

// Renew records a payment of `months` months: paidThrough moves forward from
// the old paid-through date, never from now, so no paid day is lost. It
// retries on conflicts, since billing and the provider may both write.
func (p Portal) Renew(ctx context.Context, account, site string, months int) (time.Time, error) {
	var newDate time.Time
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var s v1.Subscription
		if err := p.Client.Get(ctx, client.ObjectKey{Namespace: p.namespace(account), Name: site}, &s); err != nil {
			return err
		}
		from := time.Now().UTC()
		if s.Spec.PaidThrough != nil {
			from = s.Spec.PaidThrough.UTC()
		}
		newDate = AddMonths(from, months)
		s.Spec.PaidThrough = &metav1.Time{Time: newDate}
		return p.Client.Update(ctx, &s)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("renewing %s/%s: %w", account, site, err)
	}
	return newDate, nil
}

// AddMonths adds calendar months the way billing does: a period that starts
// on the 31st ends on the last day of a shorter month (Jan 31 + 1 = Feb 28/29),
// where time.AddDate would spill over into March.
func AddMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// AddDomain maps hostname to a site: the CustomDomain is created in the
// site's namespace (status.site.namespace of its Subscription), whose site it
// then belongs to. Until Landlord has made that namespace, AddDomain returns
// an error and the portal retries. The returned object's status (once
// Landlord has reconciled it) holds the DNS records the customer must add.
func (p Portal) AddDomain(ctx context.Context, account, name, site, hostname string, primary bool) (*v1.CustomDomain, error) {
	var s v1.Subscription
	if err := p.Client.Get(ctx, client.ObjectKey{Namespace: p.namespace(account), Name: site}, &s); err != nil {
		return nil, fmt.Errorf("reading site %s/%s: %w", account, site, err)
	}
	if s.Status.Site.Namespace == "" {
		return nil, fmt.Errorf("adding domain %s: the namespace of site %s/%s is not provisioned yet", hostname, account, site)
	}
	d := &v1.CustomDomain{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Status.Site.Namespace, Name: name},
		Spec:       v1.CustomDomainSpec{Hostname: hostname, Primary: primary},
	}
	if err := p.Client.Create(ctx, d); err != nil {
		return nil, fmt.Errorf("adding domain %s: %w", hostname, err)
	}
	return d, nil
}

// AddDatabase gives a site a MySQL database: the Database is created in the
// site's namespace; its status (once Landlord has reconciled it) names the
// database, the user and the Secret with the credentials.
func (p Portal) AddDatabase(ctx context.Context, account, site, name string) (*v1.Database, error) {
	var s v1.Subscription
	if err := p.Client.Get(ctx, client.ObjectKey{Namespace: p.namespace(account), Name: site}, &s); err != nil {
		return nil, fmt.Errorf("reading site %s/%s: %w", account, site, err)
	}
	if s.Status.Site.Namespace == "" {
		return nil, fmt.Errorf("adding database %s: the namespace of site %s/%s is not provisioned yet", name, account, site)
	}
	d := &v1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: s.Status.Site.Namespace, Name: name}}
	if err := p.Client.Create(ctx, d); err != nil {
		return nil, fmt.Errorf("adding database %s: %w", name, err)
	}
	return d, nil
}

// AccountPage is what a control panel shows on a customer's account page.
type AccountPage struct {
	Account   string
	Phase     v1.AccountPhase
	Suspended *v1.Suspension
	Sites     []SiteRow
	Domains   []DomainRow
	Databases []DatabaseRow
	Members   []MemberRow
}

// DatabaseRow is one MySQL database of a site; the password is in the
// Secret SecretName of the site's namespace, never in status.
type DatabaseRow struct {
	Name, Site, Database, User, Host, SecretName string
	Port                                         int32
	Size                                         string
	Phase                                        v1.DatabasePhase
	// Problem is the Ready condition's message when it is not ready.
	Problem string
}

// SiteRow is one subscription: the "membership overview" of a hosting panel.
type SiteRow struct {
	Name, Plan, URL string
	AddOns          []v1.AddOnRef
	Phase           v1.SubscriptionPhase
	PaidThrough     *metav1.Time
	SuspendAt       *metav1.Time
	TerminateAt     *metav1.Time
	Limits          v1.Limits
	Ready           bool
	// Problem is the Ready condition's message when the site is not ready.
	Problem string
}

// DomainRow is one custom domain with the DNS records to add.
type DomainRow struct {
	Hostname, Site, Instructions string
	Phase                        v1.DomainPhase
	Primary                      bool
}

// MemberRow is one membership.
type MemberRow struct {
	Subject string
	Role    v1.MembershipRole
	Phase   v1.MembershipPhase
}

// ReadAccountPage reads everything the account page shows, from status.
func (p Portal) ReadAccountPage(ctx context.Context, account string) (*AccountPage, error) {
	var a v1.Account
	if err := p.Client.Get(ctx, client.ObjectKey{Name: account}, &a); err != nil {
		return nil, fmt.Errorf("reading account %s: %w", account, err)
	}
	page := &AccountPage{Account: a.Name, Phase: a.Status.Phase, Suspended: a.Spec.Suspension}
	ns := client.InNamespace(p.namespace(account))

	var subs v1.SubscriptionList
	if err := p.Client.List(ctx, &subs, ns); err != nil {
		return nil, fmt.Errorf("listing subscriptions of %s: %w", account, err)
	}
	for _, s := range subs.Items {
		row := SiteRow{
			Name: s.Name, Plan: s.Spec.Plan, URL: s.Status.Site.URL, AddOns: s.Spec.AddOns,
			Phase: s.Status.Phase, PaidThrough: s.Spec.PaidThrough, SuspendAt: s.Status.SuspendAt,
			TerminateAt: s.Status.TerminateAt, Limits: s.Status.EffectiveLimits,
		}
		if c := findCondition(s.Status.Conditions, v1.ConditionReady); c != nil {
			row.Ready = c.Status == metav1.ConditionTrue
			if !row.Ready {
				row.Problem = c.Message
			}
		}
		page.Sites = append(page.Sites, row)

		// A site's domains live in its namespace.
		if s.Status.Site.Namespace == "" {
			continue
		}
		var domains v1.CustomDomainList
		if err := p.Client.List(ctx, &domains, client.InNamespace(s.Status.Site.Namespace)); err != nil {
			return nil, fmt.Errorf("listing domains of %s/%s: %w", account, s.Name, err)
		}
		for _, d := range domains.Items {
			page.Domains = append(page.Domains, DomainRow{Hostname: d.Status.Hostname, Site: s.Name,
				Instructions: d.Status.Instructions, Phase: d.Status.Phase, Primary: d.Spec.Primary})
		}
		var dbs v1.DatabaseList
		if err := p.Client.List(ctx, &dbs, client.InNamespace(s.Status.Site.Namespace)); err != nil {
			return nil, fmt.Errorf("listing databases of %s/%s: %w", account, s.Name, err)
		}
		for _, d := range dbs.Items {
			row := DatabaseRow{Name: d.Name, Site: s.Name, Database: d.Status.Database, User: d.Status.User,
				Host: d.Status.Host, Port: d.Status.Port, SecretName: d.Status.SecretName, Phase: d.Status.Phase}
			if d.Status.Size != nil {
				row.Size = d.Status.Size.String()
			}
			if c := findCondition(d.Status.Conditions, v1.ConditionReady); c != nil && c.Status != metav1.ConditionTrue {
				row.Problem = c.Message
			}
			page.Databases = append(page.Databases, row)
		}
	}

	var members v1.MembershipList
	if err := p.Client.List(ctx, &members, ns); err != nil {
		return nil, fmt.Errorf("listing members of %s: %w", account, err)
	}
	for _, m := range members.Items {
		page.Members = append(page.Members, MemberRow{Subject: string(m.Spec.Subject.Kind) + ":" + m.Spec.Subject.Name,
			Role: m.Spec.Role, Phase: m.Status.Phase})
	}
	return page, nil
}

func findCondition(conds []metav1.Condition, t string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}
