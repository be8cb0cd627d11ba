// Package platform holds the operator-wide settings that come from the
// manager's flags and the names derived from them.
package platform

import (
	"flag"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// RouteKind selects the routing API for sites and custom domains.
type RouteKind string

// Route kinds.
const (
	RouteHTTPRoute RouteKind = "HTTPRoute"
	RouteIngress   RouteKind = "Ingress"
)

// TenantEgress selects where tenant pods may connect to.
type TenantEgress string

// Tenant egress modes.
const (
	// TenantEgressOpen leaves egress unrestricted: tenant pods reach
	// anything the network lets them, the nodes, other tenants' pods, the
	// cloud's metadata service and the manager's metrics port included. An
	// explicit choice, for clusters whose network restricts egress itself.
	TenantEgressOpen TenantEgress = "open"
	// TenantEgressInternet (the default) allows DNS to kube-system, pods of
	// the tenant's own namespace and the internet, but no private address:
	// not the cluster's ranges (ClusterCIDRs), not RFC 1918, link-local,
	// carrier-grade NAT or NAT64 addresses (the nodes, other tenants, the
	// cloud's metadata service; tenancy.PrivateCIDRs).
	TenantEgressInternet TenantEgress = "internet"
)

// Config is what the controllers need to know about the platform they run on.
type Config struct {
	// NamespacePrefix is prepended to an account's name to name its namespace.
	NamespacePrefix string
	// IngressNamespace is the namespace of the ingress controller or gateway;
	// the tenant NetworkPolicy admits traffic from it only.
	IngressNamespace string
	// OperatorNamespace is where Landlord runs and its suspended page is served.
	OperatorNamespace string
	// SuspendedService is the Service (in OperatorNamespace) that serves the
	// "suspended" page; suspended sites are routed to it.
	SuspendedService string
	// SuspendedServicePort is that Service's port.
	SuspendedServicePort int
	// BaseDomain is the platform's domain: sites get
	// <subscription>--<account>.<BaseDomain> (DefaultHostname).
	BaseDomain string
	// RouteKind is HTTPRoute (Gateway API) or Ingress.
	RouteKind RouteKind
	// GatewayNamespace and GatewayName are the parent Gateway of HTTPRoutes.
	GatewayNamespace, GatewayName string
	// IngressClassName is the class of Ingresses.
	IngressClassName string
	// DomainTarget is where customers point their hostnames (CNAME target).
	DomainTarget string
	// DNSServer is host:port of the resolver used to verify domains; empty = system.
	DNSServer string
	// CertIssuerKind and CertIssuerName select the cert-manager issuer.
	CertIssuerKind, CertIssuerName string
	// ReverifyInterval is how often a verified domain's TXT record is re-checked.
	ReverifyInterval time.Duration
	// LapseGrace is how long a lapsed domain stays routed before it is unrouted.
	LapseGrace time.Duration
	// APICheckInterval is how often the manager checks whether the optional
	// APIs (Gateway API, cert-manager) are served (internal/apiwatch).
	APICheckInterval time.Duration
	// TenantEgress is what the tenant NetworkPolicy lets pods connect to.
	TenantEgress TenantEgress
	// ClusterCIDRs are the cluster's pod and Service ranges (and any other
	// range tenants must not reach), canonical CIDRs, excluded from egress
	// under TenantEgressInternet besides the private ranges.
	ClusterCIDRs []string
	// DomainClaimTTL is how long an unverified DomainClaim holds its hostname
	// against another CustomDomain waiting for it.
	DomainClaimTTL time.Duration
	// DefaultHTTPS: sites' default hostnames are served over HTTPS by the
	// platform Gateway's wildcard listener, so status.site.url is https://.
	DefaultHTTPS bool
	// TerminationFloor is the least time a site is observed suspended or
	// cancelled before it is terminated, whatever its deadlines say.
	TerminationFloor time.Duration
	// SupportGroup is the provider's support group: the only subject a
	// Support Membership may name.
	SupportGroup string
	// SupportMaxDuration bounds a Support Membership: its expiresAt may be at
	// most this far from now, else it grants nothing.
	SupportMaxDuration time.Duration
	// TenantMaxTerminationGracePeriodSeconds bounds the
	// terminationGracePeriodSeconds of tenant pods (config/admission/tenant-pods.yaml).
	TenantMaxTerminationGracePeriodSeconds int64
	// TenantTolerations are the tolerations tenant pods may carry, each as
	// kubectl taint writes a taint: key, key=value, key:effect or
	// key=value:effect (ParseTolerations). Empty: none.
	TenantTolerations []string
	// TenantPriorityClasses are the PriorityClasses tenant pods may name.
	// Empty: none.
	TenantPriorityClasses []string
	// AccountMaxMemberships and AccountMaxTeams are the counts of
	// Memberships and Teams an account namespace's quota allows. An account
	// has no plan: these are the platform's bounds, not something sold.
	AccountMaxMemberships, AccountMaxTeams int32
	// LegacyHostnamesBefore, when set, keeps the default hostname of the
	// scheme before v0.1.0 (<subscription>-<account>.<base domain>, which
	// two sites could share) on the route of every site whose Subscription
	// was created before it, beside its new one (LegacyHostname).
	LegacyHostnamesBefore time.Time
	// DatabaseHost and DatabasePort are where Landlord reaches the
	// provider's MySQL or MariaDB server; empty host: no database server
	// (Databases stay Pending).
	DatabaseHost string
	DatabasePort int
	// DatabaseSiteHost is the server's host name as sites reach it (in
	// Databases' status and Secrets); empty: DatabaseHost.
	DatabaseSiteHost string
	// DatabaseAdminSecret names the Secret in OperatorNamespace holding
	// Landlord's administrative account on the server (keys username and
	// password). Only the manager reads it: tenants have no role in the
	// operator namespace.
	DatabaseAdminSecret string
	// DatabaseSizeInterval is how often each Database's size is measured.
	DatabaseSizeInterval time.Duration
	// DatabaseCIDRs are the database server's addresses, canonical CIDRs:
	// under TenantEgressInternet the tenant NetworkPolicy admits the sites'
	// pods to them on DatabasePort (they are usually private addresses,
	// excepted from the internet rule).
	DatabaseCIDRs []string
}

// Default is the configuration used when no flag is given.
func Default() Config {
	return Config{
		NamespacePrefix:      "acct-",
		IngressNamespace:     "landlord-gateway",
		OperatorNamespace:    "landlord-system",
		SuspendedService:     "landlord-suspended-page",
		SuspendedServicePort: 80,
		BaseDomain:           "sites.landlord.localhost",
		RouteKind:            RouteHTTPRoute,
		GatewayNamespace:     "landlord-gateway",
		GatewayName:          "landlord",
		IngressClassName:     "",
		DomainTarget:         "sites.landlord.localhost",
		CertIssuerKind:       "ClusterIssuer",
		CertIssuerName:       "letsencrypt",
		ReverifyInterval:     24 * time.Hour,
		LapseGrace:           7 * 24 * time.Hour,
		APICheckInterval:     10 * time.Second,
		TenantEgress:         TenantEgressInternet,
		DomainClaimTTL:       72 * time.Hour,
		TerminationFloor:     24 * time.Hour,
		SupportGroup:         "landlord:support",
		SupportMaxDuration:   72 * time.Hour,
		DefaultHTTPS:         true,

		TenantMaxTerminationGracePeriodSeconds: DefaultTenantMaxTerminationGracePeriodSeconds,
		AccountMaxMemberships:                  100,
		AccountMaxTeams:                        50,
		DatabasePort:                           3306,
		DatabaseAdminSecret:                    "landlord-database-admin",
		DatabaseSizeInterval:                   5 * time.Minute,
	}
}

// DefaultTenantMaxTerminationGracePeriodSeconds is the default bound of a
// tenant pod's terminationGracePeriodSeconds.
const DefaultTenantMaxTerminationGracePeriodSeconds = 60

// MinTenantMaxTerminationGracePeriodSeconds is the least bound the flag
// takes: Kubernetes gives every pod that names none 30 seconds, Landlord's
// site pods included, and they must stay admitted.
const MinTenantMaxTerminationGracePeriodSeconds = 30

// BindFlags registers the configuration's flags on fs, with c's values as defaults.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.Func("namespace-prefix", "Prefix of account namespaces <prefix><account> and site namespaces <prefix><account>--<subscription>: at most 5 lowercase letters, digits or '-', starting with a letter (default acct-).", func(s string) error {
		if !validPrefix(s) {
			return errInvalid(fmt.Sprintf("namespace-prefix %q must be 1 to %d lowercase letters, digits or '-', starting with a letter", s, MaxPrefixLength))
		}
		c.NamespacePrefix = s
		return nil
	})
	fs.StringVar(&c.IngressNamespace, "ingress-namespace", c.IngressNamespace, "Namespace of the ingress controller or gateway; tenant NetworkPolicies admit traffic from it.")
	fs.StringVar(&c.OperatorNamespace, "operator-namespace", c.OperatorNamespace, "Namespace Landlord runs in (serves the suspended page).")
	fs.StringVar(&c.SuspendedService, "suspended-service", c.SuspendedService, "Service in the operator namespace that serves the suspended page.")
	fs.IntVar(&c.SuspendedServicePort, "suspended-service-port", c.SuspendedServicePort, "Port of the suspended-page Service.")
	fs.StringVar(&c.BaseDomain, "base-domain", c.BaseDomain, "Platform base domain; sites get <subscription>--<account>.<base-domain>.")
	fs.Func("route-kind", "HTTPRoute (Gateway API) or Ingress (default HTTPRoute).", func(s string) error {
		switch RouteKind(s) {
		case RouteHTTPRoute, RouteIngress:
			c.RouteKind = RouteKind(s)
			return nil
		}
		return errInvalid("route-kind must be HTTPRoute or Ingress")
	})
	fs.Func("gateway", "Parent Gateway of HTTPRoutes, as namespace/name (default landlord-gateway/landlord).", func(s string) error {
		ns, name, ok := strings.Cut(s, "/")
		if !ok || ns == "" || name == "" {
			return errInvalid("gateway must be namespace/name")
		}
		c.GatewayNamespace, c.GatewayName = ns, name
		return nil
	})
	fs.StringVar(&c.IngressClassName, "ingress-class", c.IngressClassName, "IngressClass of Ingresses (with --route-kind=Ingress).")
	fs.StringVar(&c.DomainTarget, "domain-target", c.DomainTarget, "Hostname customers point their domains at (CNAME target).")
	fs.StringVar(&c.DNSServer, "dns-server", c.DNSServer, "host:port of the DNS server used to verify domains (default: the system resolver).")
	fs.Func("cert-issuer", "cert-manager issuer for custom domains, as Kind/name (default ClusterIssuer/letsencrypt).", func(s string) error {
		kind, name, ok := strings.Cut(s, "/")
		if !ok || (kind != "ClusterIssuer" && kind != "Issuer") || name == "" {
			return errInvalid("cert-issuer must be ClusterIssuer/<name> or Issuer/<name>")
		}
		c.CertIssuerKind, c.CertIssuerName = kind, name
		return nil
	})
	fs.DurationVar(&c.ReverifyInterval, "domain-reverify-interval", c.ReverifyInterval, "How often verified domains are re-checked in DNS.")
	fs.DurationVar(&c.LapseGrace, "domain-lapse-grace", c.LapseGrace, "How long a lapsed domain stays routed before it is unrouted.")
	fs.DurationVar(&c.APICheckInterval, "api-check-interval", c.APICheckInterval, "How often to check whether the Gateway API and cert-manager are served (they may be installed after Landlord starts).")
	fs.Func("tenant-egress", "What tenant pods may connect to: internet (the default: DNS, their own namespace and public addresses; not the cluster's ranges, RFC 1918, link-local, carrier-grade NAT 100.64.0.0/10 or NAT64 64:ff9b::/96) or open (anything the network lets them reach, the cloud's metadata service and the nodes included).", func(s string) error {
		switch TenantEgress(s) {
		case TenantEgressOpen, TenantEgressInternet:
			c.TenantEgress = TenantEgress(s)
			return nil
		}
		return errInvalid("tenant-egress must be open or internet")
	})
	fs.Func("cluster-cidrs", "Comma-separated pod and Service CIDRs of the cluster (IPv4 or IPv6), unreachable from tenants with --tenant-egress=internet.", func(s string) error {
		cidrs, err := ParseCIDRs(s)
		if err != nil {
			return err
		}
		c.ClusterCIDRs = cidrs
		return nil
	})
	fs.DurationVar(&c.DomainClaimTTL, "domain-claim-ttl", c.DomainClaimTTL, "How long an unverified domain claim holds its hostname; after it, another account's waiting domain takes it.")
	fs.StringVar(&c.SupportGroup, "support-group", c.SupportGroup, "The provider's support group: a Support Membership (the customer's consent) binds it, read, logs and exec, on the account's sites.")
	fs.DurationVar(&c.SupportMaxDuration, "support-max-duration", c.SupportMaxDuration, "Longest support access: a Support Membership whose expiresAt is further than this from now grants nothing while it is (support access in force never has more than this left).")
	fs.BoolVar(&c.DefaultHTTPS, "default-https", c.DefaultHTTPS, "Sites' default hostnames are served over HTTPS (the platform Gateway has an HTTPS listener with a wildcard certificate for the base domain): status.site.url is https://. false: http://.")
	fs.Func("tenant-max-termination-grace-period-seconds", fmt.Sprintf("Longest terminationGracePeriodSeconds a tenant pod may set: a pod keeps running that long after it is stopped or its site suspended (default %d; at least %d, what Kubernetes gives a pod that sets none).", DefaultTenantMaxTerminationGracePeriodSeconds, MinTenantMaxTerminationGracePeriodSeconds), func(s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < MinTenantMaxTerminationGracePeriodSeconds {
			return errInvalid(fmt.Sprintf("tenant-max-termination-grace-period-seconds %q must be a whole number of seconds, at least %d", s, MinTenantMaxTerminationGracePeriodSeconds))
		}
		c.TenantMaxTerminationGracePeriodSeconds = n
		return nil
	})
	fs.Func("tenant-tolerations", "Comma-separated tolerations tenant pods may carry, written as kubectl taint writes taints: key (any value and effect), key=value, key:effect or key=value:effect, e.g. dedicated=tenants:NoSchedule (default: none).", func(s string) error {
		t, err := ParseTolerations(s)
		if err != nil {
			return err
		}
		c.TenantTolerations = t
		return nil
	})
	fs.Func("tenant-priority-classes", "Comma-separated PriorityClasses tenant pods may name (default: none; a cluster with a globalDefault PriorityClass lists it).", func(s string) error {
		p, err := ParsePriorityClasses(s)
		if err != nil {
			return err
		}
		c.TenantPriorityClasses = p
		return nil
	})
	fs.StringVar(&c.DatabaseHost, "database-host", c.DatabaseHost, "Host of the provider's MySQL 8 or MariaDB 10.6+ server for site Databases; empty: none (Databases stay Pending).")
	fs.IntVar(&c.DatabasePort, "database-port", c.DatabasePort, "Port of the database server.")
	fs.StringVar(&c.DatabaseSiteHost, "database-site-host", c.DatabaseSiteHost, "Host name of the database server as sites reach it (in Databases' status and Secrets); default: --database-host.")
	fs.StringVar(&c.DatabaseAdminSecret, "database-admin-secret", c.DatabaseAdminSecret, "Secret in the operator namespace with Landlord's administrative account on the database server (keys username, password).")
	fs.Func("database-cidrs", "Comma-separated addresses (CIDRs) of the database server: with --tenant-egress=internet, sites' pods may connect to them on --database-port.", func(s string) error {
		cidrs, err := ParseCIDRs(s)
		if err != nil {
			return err
		}
		c.DatabaseCIDRs = cidrs
		return nil
	})
	fs.DurationVar(&c.DatabaseSizeInterval, "database-size-interval", c.DatabaseSizeInterval, "How often each Database's size is measured (and compared with the plan's databaseStorage).")
	fs.DurationVar(&c.TerminationFloor, "termination-floor", c.TerminationFloor, "Least time a site is observed suspended or cancelled before it is terminated, whatever its deadlines say (0: none).")
	fs.Func("account-max-memberships", "Memberships an account namespace may hold (its ResourceQuota's count; default 100).", func(s string) error {
		return parseCount(s, &c.AccountMaxMemberships)
	})
	fs.Func("account-max-teams", "Teams an account namespace may hold (its ResourceQuota's count; default 50).", func(s string) error {
		return parseCount(s, &c.AccountMaxTeams)
	})
	fs.Func("legacy-hostnames-before", "An RFC 3339 time: sites whose Subscription was created before it keep serving their hostname of the scheme before v0.1.0, <subscription>-<account>.<base-domain>, beside <subscription>--<account>.<base-domain> (see docs/upgrading.md). Default: none.", func(s string) error {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return errInvalid(fmt.Sprintf("legacy-hostnames-before %q must be an RFC 3339 time such as 2027-01-01T00:00:00Z", s))
		}
		c.LegacyHostnamesBefore = t
		return nil
	})
}

// parseCount parses a non-negative count of at most 100000 into *into.
func parseCount(s string, into *int32) error {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 || n > 100000 {
		return errInvalid(fmt.Sprintf("%q must be a count from 0 to 100000", s))
	}
	*into = int32(n)
	return nil
}

// SiteDatabaseHost is the database server's host as sites reach it.
func (c Config) SiteDatabaseHost() string {
	if c.DatabaseSiteHost != "" {
		return c.DatabaseSiteHost
	}
	return c.DatabaseHost
}

// ParseCIDRs parses a comma-separated list of CIDRs into their canonical
// form. A range of everything (prefix length 0) is refused: it cannot be
// excepted from the internet.
func ParseCIDRs(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, errInvalid(fmt.Sprintf("cluster-cidrs: %q is not a CIDR such as 10.96.0.0/12", part))
		}
		if p.Bits() == 0 {
			return nil, errInvalid(fmt.Sprintf("cluster-cidrs: %q covers every address", part))
		}
		out = append(out, p.Masked().String())
	}
	return out, nil
}

type errInvalid string

func (e errInvalid) Error() string { return string(e) }

// AccountNamespace is the namespace of the named account.
func (c Config) AccountNamespace(account string) string {
	return c.NamespacePrefix + account
}

// AccountOfNamespaceName is the account whose account namespace is
// namespace (by name: the prefix, and no site separator).
func (c Config) AccountOfNamespaceName(namespace string) (string, bool) {
	acct, ok := strings.CutPrefix(namespace, c.NamespacePrefix)
	if !ok || acct == "" || strings.Contains(acct, SiteNamespaceSeparator) {
		return "", false
	}
	return acct, true
}

// validPrefix: a namespace prefix is short enough for every site namespace
// name to fit in 63 characters and starts a valid DNS label.
func validPrefix(s string) bool {
	if s == "" || len(s) > MaxPrefixLength || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}
