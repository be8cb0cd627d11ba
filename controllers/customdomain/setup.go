package customdomain

import (
	"context"
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/index"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/resolver"
)

// hostnameIndex indexes CustomDomains by status.hostname, so that a released
// claim wakes the domains waiting for that hostname.
const hostnameIndex = "hosting.landlord.dev/customdomain-hostname"

// New returns the Reconciler for mgr: DNS through --dns-server (or the
// system resolver); apis says which optional APIs are served, and optional
// caches their kinds (both nil: every API is served, read through the
// manager's client).
func New(mgr ctrl.Manager, cfg platform.Config, clk clock.Clock, apis kernel.APIs, optional cache.Cache) *Reconciler {
	return &Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Config:    cfg,
		Clock:     clk,
		Resolver:  resolver.New(cfg.DNSServer),
		Recorder:  mgr.GetEventRecorder("landlord-customdomain"),
		APIs:      apis,
		Optional:  optional,
	}
}

// HTTPRouteGVK is the Gateway API kind of the domains' routes.
var HTTPRouteGVK = gatewayv1.SchemeGroupVersion.WithKind("HTTPRoute")

// SetupWithManager registers the controller and its watches. Routes (in
// Gateway API mode) and Certificates are watched once their APIs are
// served, which may be after Landlord starts; every domain is reconciled
// then.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &hostingv1alpha1.CustomDomain{}, hostnameIndex, func(o client.Object) []string {
		if h := o.(*hostingv1alpha1.CustomDomain).Status.Hostname; h != "" {
			return []string{h}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing custom domains by hostname: %w", err)
	}
	requeue := kernel.NewRequeue(mgr.GetClient(), func() client.ObjectList { return &hostingv1alpha1.CustomDomainList{} })
	b := ctrl.NewControllerManagedBy(mgr).
		Named("customdomain").
		For(&hostingv1alpha1.CustomDomain{}).
		Watches(&hostingv1alpha1.CustomDomain{}, handler.EnqueueRequestsFromMapFunc(r.siblingsOf)).
		Watches(&hostingv1alpha1.DomainClaim{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfClaim)).
		// Domains read a subscription's phase, plan limit and existence,
		// not the rest of its status.
		Watches(&hostingv1alpha1.Subscription{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfSubscription),
			builder.WithPredicates(subscriptionMattersToDomains())).
		Watches(&hostingv1alpha1.Account{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfAccount)).
		// A namespace becoming (or ceasing to be) a site's decides whether
		// its domains have a site.
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfNamespace)).
		Watches(&coordinationv1.Lease{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfSlot)).
		WatchesRawSource(requeue.Source())
	if r.Config.RouteKind == platform.RouteIngress {
		b = b.Owns(&networkingv1.Ingress{})
	}
	if src := clock.WakeSource(r.Clock, mgr.GetClient(), func() client.ObjectList { return &hostingv1alpha1.CustomDomainList{} }); src != nil {
		b = b.WatchesRawSource(src)
	}
	ctl, err := b.Build(r)
	if err != nil {
		return err
	}
	if r.APIs == nil {
		return nil
	}
	owned := func(obj client.Object) source.Source {
		return source.Kind[client.Object](r.Optional, obj,
			handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), &hostingv1alpha1.CustomDomain{}, handler.OnlyControllerOwner()))
	}
	if r.Config.RouteKind != platform.RouteIngress {
		r.APIs.OnServed(HTTPRouteGVK, func() {
			if err := ctl.Watch(owned(&gatewayv1.HTTPRoute{})); err != nil {
				mgr.GetLogger().Error(err, "watching HTTPRoutes")
			}
			requeue.Fire()
		})
		// The site's ListenerSet holds every domain's listeners: a change
		// to its spec (a hand edit) or its deletion wakes the domains of
		// its namespace.
		r.APIs.OnServed(ListenerSetGVK, func() {
			src := source.Kind[client.Object](r.Optional, &gatewayv1.ListenerSet{},
				handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
					if o.GetName() != ListenerSetName {
						return nil
					}
					return append(r.domainsIn(ctx, o.GetNamespace(), nil), listenerDomains(o)...)
				}),
				// Not the implementation's status updates: only spec
				// changes, creates and deletes matter to the domains.
				predicate.GenerationChangedPredicate{})
			if err := ctl.Watch(src); err != nil {
				mgr.GetLogger().Error(err, "watching ListenerSets")
			}
			requeue.Fire()
		})
	}
	r.APIs.OnServed(CertificateGVK, func() {
		cert := &unstructured.Unstructured{}
		cert.SetGroupVersionKind(CertificateGVK)
		if err := ctl.Watch(owned(cert)); err != nil {
			mgr.GetLogger().Error(err, "watching Certificates")
		}
		requeue.Fire()
	})
	return nil
}

// subscriptionMattersToDomains passes the subscription events that change
// what its domains decide: creation, deletion, phase, the plan, and the
// custom-domain limit.
func subscriptionMattersToDomains() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*hostingv1alpha1.Subscription), e.ObjectNew.(*hostingv1alpha1.Subscription)
		return o.Status.Phase != n.Status.Phase || o.Spec.Plan != n.Spec.Plan ||
			!ptrEqual(o.Status.EffectiveLimits.CustomDomains, n.Status.EffectiveLimits.CustomDomains) ||
			o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero()
	}}
}

func ptrEqual[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func managedSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{hostingv1alpha1.ManagedByLabel: hostingv1alpha1.ManagedByValue})
}

func requests(items []hostingv1alpha1.CustomDomain, keep func(*hostingv1alpha1.CustomDomain) bool) []reconcile.Request {
	var out []reconcile.Request
	for i := range items {
		if keep == nil || keep(&items[i]) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&items[i])})
		}
	}
	return out
}

// domainsIn lists the CustomDomains of a namespace (from the cache) as requests.
func (r *Reconciler) domainsIn(ctx context.Context, namespace string, keep func(*hostingv1alpha1.CustomDomain) bool) []reconcile.Request {
	list := &hostingv1alpha1.CustomDomainList{}
	if err := r.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	return requests(list.Items, keep)
}

// siblingsOf wakes the other domains of a domain's site (every domain of its
// namespace): the primary, the plan gate's slots and the redirects depend on
// each other.
func (r *Reconciler) siblingsOf(ctx context.Context, o client.Object) []reconcile.Request {
	return r.domainsIn(ctx, o.GetNamespace(), func(d *hostingv1alpha1.CustomDomain) bool { return d.Name != o.GetName() })
}

// domainsOfClaim wakes the claim's holder and every domain asking for its hostname.
func (r *Reconciler) domainsOfClaim(ctx context.Context, o client.Object) []reconcile.Request {
	claim := o.(*hostingv1alpha1.DomainClaim)
	list := &hostingv1alpha1.CustomDomainList{}
	if err := r.List(ctx, list, client.MatchingFields{hostnameIndex: claim.Name}); err != nil {
		return nil
	}
	out := requests(list.Items, nil)
	if claim.Spec.Namespace != "" && claim.Spec.CustomDomain != "" {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: claim.Spec.Namespace, Name: claim.Spec.CustomDomain}})
	}
	return out
}

// domainsOfSubscription wakes the domains of a subscription's site: those in
// its site namespace, <prefix><account>--<subscription>, the account being
// the one of the subscription's namespace.
func (r *Reconciler) domainsOfSubscription(ctx context.Context, o client.Object) []reconcile.Request {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: o.GetNamespace()}, ns); err != nil {
		return nil
	}
	account := platform.AccountOfNamespace(ns.Labels)
	if account == "" || r.Config.AccountNamespace(account) != ns.Name {
		return nil
	}
	return r.domainsIn(ctx, r.Config.SiteNamespace(account, o.GetName()), nil)
}

// domainsOfNamespace wakes the domains in a namespace.
func (r *Reconciler) domainsOfNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	return r.domainsIn(ctx, o.GetName(), nil)
}

// domainsOfSlot wakes the domains of a slot's site: a slot taken or given
// back changes what every waiting domain of the site may do.
func (r *Reconciler) domainsOfSlot(ctx context.Context, o client.Object) []reconcile.Request {
	if _, ok := slotIndex(o.GetLabels()[hostingv1alpha1.SubscriptionLabel], o.GetName()); !ok {
		return nil
	}
	return r.domainsIn(ctx, o.GetNamespace(), nil)
}

// domainsOfAccount wakes the domains of an account: those in its site
// namespaces.
func (r *Reconciler) domainsOfAccount(ctx context.Context, o client.Object) []reconcile.Request {
	nss, err := r.siteNamespaces(ctx, o.GetName())
	if err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, ns := range nss {
		out = append(out, r.domainsIn(ctx, ns, nil)...)
	}
	return out
}

// siteNamespaces lists the names of the account's site namespaces (from the
// cache, where namespaces are kept by their account label): labelled for
// the account and a subscription, and named after that pair.
func (r *Reconciler) siteNamespaces(ctx context.Context, account string) ([]string, error) {
	nss := &corev1.NamespaceList{}
	if err := r.List(ctx, nss, index.NamespacesOf(account)); err != nil {
		return nil, fmt.Errorf("listing the namespaces of account %s: %w", account, err)
	}
	var out []string
	for _, ns := range nss.Items {
		if a, sub := platform.SiteOfNamespace(ns.Labels); a == account && r.Config.SiteNamespace(a, sub) == ns.Name {
			out = append(out, ns.Name)
		}
	}
	return out, nil
}

// metav1Time is t as the API stores it (whole seconds), so that comparisons
// of recorded times agree before and after a round trip.
func metav1Time(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }

func metav1IsControlledBy(obj client.Object, owner client.Object) bool {
	return metav1.IsControlledBy(obj, owner)
}

// Setup builds the Reconciler and registers it with mgr.
func Setup(mgr ctrl.Manager, cfg platform.Config, clk clock.Clock, apis kernel.APIs, optional cache.Cache) error {
	return New(mgr, cfg, clk, apis, optional).SetupWithManager(mgr)
}

// listenerDomains are the domains a ListenerSet's listeners are named after
// (http-<domain>, https-<domain>), so that the listeners of a domain that is
// gone are removed (its reconcile finds it gone) even when no event of the
// domain itself is seen.
func listenerDomains(o client.Object) []reconcile.Request {
	ls, ok := o.(*gatewayv1.ListenerSet)
	if !ok {
		return nil
	}
	var out []reconcile.Request
	for _, l := range ls.Spec.Listeners {
		name, ok := strings.CutPrefix(string(l.Name), "https-")
		if !ok {
			name, ok = strings.CutPrefix(string(l.Name), "http-")
		}
		if ok && name != "" && len(l.Name) < maxSectionName {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: ls.Namespace, Name: name}})
		}
	}
	return out
}
