package customdomain

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/resolver"
)

// hostnameIndex indexes CustomDomains by status.hostname, so that a released
// claim wakes the domains waiting for that hostname.
const hostnameIndex = "hosting.landlord.dev/customdomain-hostname"

// New returns the Reconciler for mgr: DNS through --dns-server (or the
// system resolver), cert-manager support if its API is installed now.
func New(mgr ctrl.Manager, cfg platform.Config, clk clock.Clock) (*Reconciler, error) {
	r := &Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Config:    cfg,
		Clock:     clk,
		Resolver:  resolver.New(cfg.DNSServer),
		Recorder:  mgr.GetEventRecorder("landlord-customdomain"),
	}
	_, err := mgr.GetRESTMapper().RESTMapping(CertificateGVK.GroupKind(), CertificateGVK.Version)
	switch {
	case meta.IsNoMatchError(err):
	case err != nil:
		return nil, fmt.Errorf("looking for the cert-manager API: %w", err)
	default:
		r.CertManager = true
	}
	return r, nil
}

// SetupWithManager registers the controller and its watches.
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

	var route client.Object = &gatewayv1.HTTPRoute{}
	if r.Config.RouteKind == platform.RouteIngress {
		route = &networkingv1.Ingress{}
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("customdomain").
		For(&hostingv1alpha1.CustomDomain{}).
		Owns(route).
		Watches(&hostingv1alpha1.CustomDomain{}, handler.EnqueueRequestsFromMapFunc(r.siblingsOf)).
		Watches(&hostingv1alpha1.DomainClaim{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfClaim)).
		Watches(&hostingv1alpha1.Subscription{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfSubscription)).
		Watches(&hostingv1alpha1.Account{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfAccount)).
		Watches(&coordinationv1.Lease{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfSlot))

	if r.CertManager {
		// Certificates come from their own cache, which holds only the ones
		// Landlord labels: no cluster-wide informer of every Certificate.
		if r.CertCache == nil {
			c, err := cache.New(mgr.GetConfig(), cache.Options{
				Scheme:               mgr.GetScheme(),
				Mapper:               mgr.GetRESTMapper(),
				DefaultLabelSelector: managedSelector(),
				DefaultTransform:     cache.TransformStripManagedFields(),
			})
			if err != nil {
				return fmt.Errorf("creating the certificate cache: %w", err)
			}
			if err := mgr.Add(c); err != nil {
				return err
			}
			r.CertCache = c
		}
		cert := &unstructured.Unstructured{}
		cert.SetGroupVersionKind(CertificateGVK)
		b = b.WatchesRawSource(source.Kind[client.Object](r.CertCache, cert,
			handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), &hostingv1alpha1.CustomDomain{}, handler.OnlyControllerOwner())))
	}
	if src := clock.WakeSource(r.Clock, mgr.GetClient(), func() client.ObjectList { return &hostingv1alpha1.CustomDomainList{} }); src != nil {
		b = b.WatchesRawSource(src)
	}
	return b.Complete(r)
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

// siblingsOf wakes the other domains of a domain's site: the primary, the
// plan gate's slots and the redirects depend on each other.
func (r *Reconciler) siblingsOf(ctx context.Context, o client.Object) []reconcile.Request {
	cd := o.(*hostingv1alpha1.CustomDomain)
	list := &hostingv1alpha1.CustomDomainList{}
	if err := r.List(ctx, list, client.InNamespace(cd.Namespace)); err != nil {
		return nil
	}
	return requests(list.Items, func(d *hostingv1alpha1.CustomDomain) bool {
		return d.Name != cd.Name && d.Spec.Subscription == cd.Spec.Subscription
	})
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

// domainsOfSubscription wakes the domains of a site.
func (r *Reconciler) domainsOfSubscription(ctx context.Context, o client.Object) []reconcile.Request {
	list := &hostingv1alpha1.CustomDomainList{}
	if err := r.List(ctx, list, client.InNamespace(o.GetNamespace())); err != nil {
		return nil
	}
	return requests(list.Items, func(d *hostingv1alpha1.CustomDomain) bool { return d.Spec.Subscription == o.GetName() })
}

// domainsOfSlot wakes the domains of a slot's site: a slot taken or given
// back changes what every waiting domain of the site may do.
func (r *Reconciler) domainsOfSlot(ctx context.Context, o client.Object) []reconcile.Request {
	sub := o.GetLabels()[hostingv1alpha1.SubscriptionLabel]
	if _, ok := slotIndex(sub, o.GetName()); !ok {
		return nil
	}
	list := &hostingv1alpha1.CustomDomainList{}
	if err := r.List(ctx, list, client.InNamespace(o.GetNamespace())); err != nil {
		return nil
	}
	return requests(list.Items, func(d *hostingv1alpha1.CustomDomain) bool { return d.Spec.Subscription == sub })
}

// domainsOfAccount wakes the domains in an account's namespace.
func (r *Reconciler) domainsOfAccount(ctx context.Context, o client.Object) []reconcile.Request {
	acct := o.(*hostingv1alpha1.Account)
	ns := acct.Status.Namespace
	if ns == "" {
		ns = r.Config.AccountNamespace(acct.Name)
	}
	list := &hostingv1alpha1.CustomDomainList{}
	if err := r.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil
	}
	return requests(list.Items, nil)
}

// metav1Time is t as the API stores it (whole seconds), so that comparisons
// of recorded times agree before and after a round trip.
func metav1Time(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }

// Setup creates the Reconciler and registers it with mgr.
func Setup(mgr ctrl.Manager, cfg platform.Config, clk clock.Clock) error {
	r, err := New(mgr, cfg, clk)
	if err != nil {
		return err
	}
	return r.SetupWithManager(mgr)
}
