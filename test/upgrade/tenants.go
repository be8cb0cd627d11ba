package upgrade

// The tenants created under the previous release: every kind, every phase.
// Dates are fixed, far in the past or the future, so that phases do not
// change while the test runs (the managers use the real clock).

// tenants is applied with the previous release's CRDs.
const tenants = `
apiVersion: hosting.landlord.dev/v1alpha1
kind: Plan
metadata: {name: starter}
spec:
  displayName: Starter
  limits: {storage: 1Gi, cpu: 500m, memory: 512Mi, customDomains: 1}
  siteTemplates: ["static"]
  trialPeriod: 336h
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Plan
metadata: {name: business}
spec:
  displayName: Business
  limits: {storage: 2Gi, cpu: "1", memory: 1Gi, customDomains: 5}
  addOns:
  - name: extra-storage
    limits: {storage: 1Gi}
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: SiteTemplate
metadata: {name: static}
spec:
  displayName: Static site
  image: nginxinc/nginx-unprivileged:1.27-alpine
  port: 8080
  dataPath: /usr/share/nginx/html
  readinessPath: /
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Account
metadata: {name: acme}
spec:
  displayName: Acme
  owner: {kind: User, name: alice@acme.example}
  costCenter: cc-1
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Account
metadata: {name: initech}
spec:
  displayName: Initech
  owner: {kind: User, name: bill@initech.example}
  suspension: {reason: Manual, message: under review}
`

// accountObjects are applied once the account namespaces exist.
const accountObjects = `
apiVersion: hosting.landlord.dev/v1alpha1
kind: Membership
metadata: {name: bob, namespace: acct-acme}
spec:
  subject: {kind: User, name: bob@acme.example}
  role: Admin
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Membership
metadata: {name: former-contractor, namespace: acct-acme}
spec:
  subject: {kind: User, name: dave@agency.example}
  role: Developer
  expiresAt: "2026-01-01T00:00:00Z"
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Subscription
metadata: {name: pending, namespace: acct-acme}
spec:
  plan: no-such-plan
  site: {template: static}
  paidThrough: "2099-01-01T00:00:00Z"
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Subscription
metadata: {name: trialing, namespace: acct-acme}
spec:
  plan: starter
  site: {template: static}
  trialEnd: "2099-01-01T00:00:00Z"
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Subscription
metadata: {name: active, namespace: acct-acme}
spec:
  plan: business
  addOns: [{name: extra-storage, quantity: 1}]
  site: {template: static}
  paidThrough: "2099-01-01T00:00:00Z"
  deletionPolicy: Retain
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Subscription
metadata: {name: pastdue, namespace: acct-acme}
spec:
  plan: business
  site: {template: static}
  paidThrough: "2026-01-01T00:00:00Z"
  gracePeriod: 87600h
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Subscription
metadata: {name: overdue, namespace: acct-acme}
spec:
  plan: business
  site: {template: static}
  paidThrough: "2026-01-01T00:00:00Z"
  gracePeriod: 1h
  retentionPeriod: 87600h
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Subscription
metadata: {name: abuse, namespace: acct-acme}
spec:
  plan: business
  site: {template: static}
  paidThrough: "2099-01-01T00:00:00Z"
  suspension: {reason: Abuse, message: phishing}
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Subscription
metadata: {name: cancelled, namespace: acct-acme}
spec:
  plan: business
  site: {template: static}
  paidThrough: "2026-01-01T00:00:00Z"
  cancelAtPeriodEnd: true
  retentionPeriod: 87600h
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Subscription
metadata: {name: terminated, namespace: acct-acme}
spec:
  plan: business
  site: {template: static}
  paidThrough: "2020-01-01T00:00:00Z"
  gracePeriod: 1h
  retentionPeriod: 1h
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: Subscription
metadata: {name: www, namespace: acct-initech}
spec:
  plan: business
  site: {template: static}
  paidThrough: "2099-01-01T00:00:00Z"
`

// siteObjects are applied once the site namespaces exist.
const siteObjects = `
apiVersion: hosting.landlord.dev/v1alpha1
kind: CustomDomain
metadata: {name: www, namespace: acct-acme--active}
spec: {hostname: www.acme.example, primary: true}
---
apiVersion: hosting.landlord.dev/v1alpha1
kind: CustomDomain
metadata: {name: shop, namespace: acct-acme--active}
spec: {hostname: shop.no-record.example}
`

// wantPhases are the phases the tenants reach under the previous release
// (kind/namespace/name → status.phase); the test checks the list first, so
// that it is known to cover every phase, then that the upgrade keeps them.
var wantPhases = map[string]string{
	"Account//acme":                          "Active",
	"Account//initech":                       "Suspended",
	"Membership/acct-acme/bob":               "Active",
	"Membership/acct-acme/former-contractor": "Expired",
	"Subscription/acct-acme/pending":         "Pending",
	"Subscription/acct-acme/trialing":        "Trialing",
	"Subscription/acct-acme/active":          "Active",
	"Subscription/acct-acme/pastdue":         "PastDue",
	"Subscription/acct-acme/overdue":         "Suspended",
	"Subscription/acct-acme/abuse":           "Suspended",
	"Subscription/acct-acme/cancelled":       "Cancelled",
	"Subscription/acct-acme/terminated":      "Terminated",
	"Subscription/acct-initech/www":          "Suspended",
	"CustomDomain/acct-acme--active/www":     "Active",
	"CustomDomain/acct-acme--active/shop":    "PendingVerification",
}
