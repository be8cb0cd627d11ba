package customdomain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// ListenerSetName names the ListenerSet of a site namespace: the listeners of
// the site's custom domains, attached to the platform Gateway.
const ListenerSetName = "landlord-domains"

// ListenerSetGVK is the Gateway API kind of the domains' listeners.
var ListenerSetGVK = gatewayv1.SchemeGroupVersion.WithKind("ListenerSet")

// Ports of the domains' listeners (those of the platform Gateway).
const (
	HTTPPort  = 80
	HTTPSPort = 443
)

// maxSectionName is the longest listener name the Gateway API accepts.
const maxSectionName = 253

// HTTPListenerName and HTTPSListenerName name a domain's listeners in its
// site's ListenerSet. "http-" and "https-" differ at their fifth character,
// so two domains' names never collide.
func HTTPListenerName(cd *hostingv1alpha1.CustomDomain) string { return sectionName("http-", cd.Name) }

// HTTPSListenerName: see HTTPListenerName.
func HTTPSListenerName(cd *hostingv1alpha1.CustomDomain) string {
	return sectionName("https-", cd.Name)
}

func sectionName(prefix, name string) string {
	s := prefix + name
	if len(s) <= maxSectionName {
		return s
	}
	sum := sha256.Sum256([]byte(name))
	return s[:maxSectionName-9] + "-" + hex.EncodeToString(sum[:4])
}

// RedirectRouteName names the HTTPRoute that, once a domain's certificate is
// ready, redirects its plain-HTTP requests to HTTPS. Every domain's own route
// is "domain-<name>", so no name of this form is ever another domain's.
func RedirectRouteName(cd *hostingv1alpha1.CustomDomain) string {
	return "https-redirect-" + cd.Name
}

// listenerFieldManager is the server-side apply field manager of one
// domain's listeners: each domain owns its own entries of the shared
// ListenerSet (a map list keyed by name), so concurrent reconciles of a
// site's domains never write each other's entries.
func listenerFieldManager(cd *hostingv1alpha1.CustomDomain) string {
	return platform.FieldManager + "-domain-" + string(cd.UID)
}

// BuildListeners is a routed domain's listeners: HTTP on port 80 always,
// and HTTPS on port 443 serving its certificate's Secret once the
// certificate is ready (tlsReady).
func BuildListeners(cd *hostingv1alpha1.CustomDomain, host string, tlsReady bool) []gatewayv1.ListenerEntry {
	h := ptr.To(gatewayv1.Hostname(host))
	out := []gatewayv1.ListenerEntry{{
		Name: gatewayv1.SectionName(HTTPListenerName(cd)), Hostname: h, Port: HTTPPort, Protocol: gatewayv1.HTTPProtocolType,
	}}
	if tlsReady {
		out = append(out, gatewayv1.ListenerEntry{
			Name: gatewayv1.SectionName(HTTPSListenerName(cd)), Hostname: h, Port: HTTPSPort, Protocol: gatewayv1.HTTPSProtocolType,
			TLS: &gatewayv1.ListenerTLSConfig{
				Mode:            ptr.To(gatewayv1.TLSModeTerminate),
				CertificateRefs: []gatewayv1.SecretObjectReference{{Name: gatewayv1.ObjectName(CertificateSecretName(cd))}},
			},
		})
	}
	return out
}

// BuildListenerSet is the site's ListenerSet as one domain applies it: the
// parent Gateway, Landlord's labels and that domain's listeners only.
func BuildListenerSet(cfg platform.Config, namespace, account, subscription string, listeners []gatewayv1.ListenerEntry) *gatewayv1.ListenerSet {
	return &gatewayv1.ListenerSet{
		TypeMeta: metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "ListenerSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name: ListenerSetName, Namespace: namespace,
			Labels: platform.SiteLabels(account, subscription),
		},
		Spec: gatewayv1.ListenerSetSpec{
			ParentRef: gatewayv1.ParentGatewayReference{
				Group:     ptr.To(gatewayv1.Group(gatewayv1.GroupName)),
				Kind:      ptr.To(gatewayv1.Kind("Gateway")),
				Name:      gatewayv1.ObjectName(cfg.GatewayName),
				Namespace: ptr.To(gatewayv1.Namespace(cfg.GatewayNamespace)),
			},
			Listeners: listeners,
		},
	}
}

// listenerKey is what Landlord decides of a listener (the API server
// defaults the rest).
type listenerKey struct {
	name, hostname, protocol, secret string
	port                             int32
}

func keyOf(l gatewayv1.ListenerEntry) listenerKey {
	k := listenerKey{name: string(l.Name), protocol: string(l.Protocol), port: int32(l.Port)}
	if l.Hostname != nil {
		k.hostname = string(*l.Hostname)
	}
	if l.TLS != nil && len(l.TLS.CertificateRefs) > 0 {
		k.secret = string(l.TLS.CertificateRefs[0].Name)
	}
	return k
}

// ownListeners are the entries of ls that are cd's.
func ownListeners(ls *gatewayv1.ListenerSet, cd *hostingv1alpha1.CustomDomain) (mine []listenerKey, others int) {
	names := []string{HTTPListenerName(cd), HTTPSListenerName(cd)}
	for _, l := range ls.Spec.Listeners {
		if slices.Contains(names, string(l.Name)) {
			mine = append(mine, keyOf(l))
		} else {
			others++
		}
	}
	return mine, others
}

func keysOf(ls []gatewayv1.ListenerEntry) []listenerKey {
	out := make([]listenerKey, 0, len(ls))
	for _, l := range ls {
		out = append(out, keyOf(l))
	}
	return out
}

// syncListeners makes cd's entries of the site's ListenerSet be want (none:
// want empty). With addOnly, entries of cd that are not in want are kept:
// listeners are added before the routes that attach to them and removed
// after, so no route names a missing listener and no listener outlives its
// route beyond the reconcile.
func (r *Reconciler) syncListeners(ctx context.Context, s *scope, want []gatewayv1.ListenerEntry, addOnly bool) error {
	cd := s.cd
	live := &gatewayv1.ListenerSet{}
	// Adding may read the cache (a stale read only repeats an apply); the
	// final step reads the API server, so that a listener is never left
	// behind on a stale read.
	reader := r.APIReader
	if addOnly {
		reader = r.listenerReader()
	}
	err := reader.Get(ctx, client.ObjectKey{Namespace: cd.Namespace, Name: ListenerSetName}, live)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading the site's ListenerSet: %w", err)
	}
	var mine []listenerKey
	if err == nil {
		mine, _ = ownListeners(live, cd)
	}
	wantKeys := keysOf(want)
	if addOnly {
		missing := false
		for _, k := range wantKeys {
			if !slices.Contains(mine, k) {
				missing = true
			}
		}
		if !missing {
			return nil
		}
		// Keep what this domain has besides (its routes may still use it).
		for _, l := range live.Spec.Listeners {
			if k := keyOf(l); slices.Contains(mine, k) && !slices.ContainsFunc(wantKeys, func(w listenerKey) bool { return w.name == k.name }) {
				want = append(want, l)
			}
		}
	} else if sameKeys(mine, wantKeys) {
		return nil
	}
	if len(want) > 0 {
		return r.applyListeners(ctx, s, want)
	}
	return r.removeListeners(ctx, cd)
}

func sameKeys(a, b []listenerKey) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range a {
		if !slices.Contains(b, k) {
			return false
		}
	}
	return true
}

// applyListeners applies the ListenerSet with cd's entries want, as cd's
// own field manager: the entries of the site's other domains are theirs.
func (r *Reconciler) applyListeners(ctx context.Context, s *scope, want []gatewayv1.ListenerEntry) error {
	ls := BuildListenerSet(r.Config, s.cd.Namespace, s.account.Name, s.obs.sub.Name, want)
	u, err := applyForm(ls)
	if err != nil {
		return err
	}
	if err := r.Patch(ctx, u, client.Apply, client.FieldOwner(listenerFieldManager(s.cd)), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying the listeners of %s to the ListenerSet %s: %w", s.cd.Name, ListenerSetName, err)
	}
	return nil
}

// removeListeners takes cd's entries out of the site's ListenerSet, and
// deletes the ListenerSet when they were its last (a ListenerSet needs at
// least one listener). The delete is conditional on the resourceVersion read,
// so a listener another domain added meanwhile is never deleted with it; a
// conflict or a concurrent removal is retried on fresh reads.
func (r *Reconciler) removeListeners(ctx context.Context, cd *hostingv1alpha1.CustomDomain) error {
	if !r.listenerSetsServed() {
		return nil
	}
	key := client.ObjectKey{Namespace: cd.Namespace, Name: ListenerSetName}
	var err error
	for range 5 {
		live := &gatewayv1.ListenerSet{}
		if err = r.APIReader.Get(ctx, key, live); err != nil {
			return client.IgnoreNotFound(err)
		}
		mine, others := ownListeners(live, cd)
		switch {
		case len(mine) == 0 || !live.DeletionTimestamp.IsZero():
			return nil
		case others == 0:
			err = r.Delete(ctx, live, client.Preconditions{UID: &live.UID, ResourceVersion: &live.ResourceVersion})
			if err == nil || apierrors.IsNotFound(err) {
				return nil
			}
		default:
			// This domain's manager applies no listener: the entries it
			// owned go, the others' stay.
			u, ferr := applyForm(&gatewayv1.ListenerSet{
				TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "ListenerSet"},
				ObjectMeta: metav1.ObjectMeta{Name: ListenerSetName, Namespace: cd.Namespace},
				Spec:       gatewayv1.ListenerSetSpec{ParentRef: live.Spec.ParentRef},
			})
			if ferr != nil {
				return ferr
			}
			u.SetResourceVersion(live.ResourceVersion)
			err = r.Patch(ctx, u, client.Apply, client.FieldOwner(listenerFieldManager(cd)), client.ForceOwnership)
			if err == nil {
				return nil
			}
		}
		if !apierrors.IsConflict(err) && !apierrors.IsInvalid(err) {
			break
		}
	}
	return fmt.Errorf("removing the listeners of %s from the ListenerSet %s: %w", cd.Name, ListenerSetName, err)
}

// applyForm is obj as an apply patch: no status, no creation timestamp.
func applyForm(obj *gatewayv1.ListenerSet) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting the ListenerSet: %w", err)
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	return &unstructured.Unstructured{Object: m}, nil
}

// listenerSetsServed reports whether the domains get listeners: Gateway API
// routing with the ListenerSet kind served.
func (r *Reconciler) listenerSetsServed() bool {
	return r.Config.RouteKind != platform.RouteIngress && (r.APIs == nil || r.APIs.Served(ListenerSetGVK))
}

// listenerReader is where ListenerSets are read from (Landlord's only).
func (r *Reconciler) listenerReader() client.Reader {
	if r.Optional == nil {
		return r.Client
	}
	return r.Optional
}
