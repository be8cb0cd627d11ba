package gateway

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/gatewayimpl"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Assertions on the status a Gateway API implementation writes, shared by
// the tests of this package (routes to the platform Gateway now; ListenerSets
// and their routes later).

// statusWait bounds each wait for Envoy Gateway's status.
const statusWait = 90 * time.Second

// parent names a route's parent: a Gateway (Kind empty) or a ListenerSet,
// and optionally one of its listeners.
type parent struct {
	Kind        string // "Gateway" when empty
	Namespace   string
	Name        string
	SectionName string
}

func (p parent) String() string {
	s := fmt.Sprintf("%s %s/%s", p.kind(), p.Namespace, p.Name)
	if p.SectionName != "" {
		s += "#" + p.SectionName
	}
	return s
}

func (p parent) kind() string {
	if p.Kind == "" {
		return "Gateway"
	}
	return p.Kind
}

// platformGateway is the Gateway of config/gateway, the parent of every
// route Landlord writes (cfg.GatewayNamespace/cfg.GatewayName).
func platformGateway() parent {
	return parent{Namespace: cfg.GatewayNamespace, Name: cfg.GatewayName}
}

// parentStatus is the status Envoy Gateway wrote on route for p, or nil.
func parentStatus(route *gatewayv1.HTTPRoute, p parent) *gatewayv1.RouteParentStatus {
	for i, s := range route.Status.Parents {
		ref := s.ParentRef
		kind, ns, section := "Gateway", route.Namespace, ""
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if ref.SectionName != nil {
			section = string(*ref.SectionName)
		}
		if string(s.ControllerName) == gatewayimpl.ControllerName && kind == p.kind() &&
			ns == p.Namespace && string(ref.Name) == p.Name && section == p.SectionName {
			return &route.Status.Parents[i]
		}
	}
	return nil
}

// conditionIs checks a condition written for generation gen (or later).
func conditionIs(conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string, gen int64) error {
	c := meta.FindStatusCondition(conds, typ)
	switch {
	case c == nil:
		return fmt.Errorf("no %s condition", typ)
	case c.ObservedGeneration < gen:
		return fmt.Errorf("%s is of generation %d, want %d", typ, c.ObservedGeneration, gen)
	case c.Status != status || (reason != "" && c.Reason != reason):
		return fmt.Errorf("%s is %s (%s: %s), want %s %s", typ, c.Status, c.Reason, c.Message, status, reason)
	}
	return nil
}

// routeAccepted is nil when Envoy Gateway reports route Accepted=True and
// ResolvedRefs=True for parent p at the route's current generation.
func routeAccepted(route *gatewayv1.HTTPRoute, p parent) error {
	s := parentStatus(route, p)
	if s == nil {
		return fmt.Errorf("route %s/%s: no status from %s for %s", route.Namespace, route.Name, gatewayimpl.ControllerName, p)
	}
	for _, typ := range []string{string(gatewayv1.RouteConditionAccepted), string(gatewayv1.RouteConditionResolvedRefs)} {
		if err := conditionIs(s.Conditions, typ, metav1.ConditionTrue, "", route.Generation); err != nil {
			return fmt.Errorf("route %s/%s, parent %s: %w", route.Namespace, route.Name, p, err)
		}
	}
	return nil
}

// routeFinder reads a route afresh; want checks its spec (e.g. its backend),
// so that status is judged only once the spec is the expected one.
type routeFinder func(ctx context.Context) (*gatewayv1.HTTPRoute, error)

// requireRouteAccepted waits until find's route satisfies want and Envoy
// Gateway reports it Accepted and ResolvedRefs for p; it returns the route.
func requireRouteAccepted(t testing.TB, find routeFinder, p parent, want ...func(*gatewayv1.HTTPRoute) error) *gatewayv1.HTTPRoute {
	t.Helper()
	var route *gatewayv1.HTTPRoute
	testenv.Eventually(t, statusWait, func() error {
		r, err := find(context.Background())
		if err != nil {
			return err
		}
		for _, w := range want {
			if err := w(r); err != nil {
				return err
			}
		}
		if err := routeAccepted(r, p); err != nil {
			return err
		}
		route = r
		return nil
	})
	return route
}

// requireRouteRejected waits until Envoy Gateway reports find's route
// Accepted=False with reason for p.
func requireRouteRejected(t testing.TB, find routeFinder, p parent, reason gatewayv1.RouteConditionReason) {
	t.Helper()
	testenv.Eventually(t, statusWait, func() error {
		r, err := find(context.Background())
		if err != nil {
			return err
		}
		s := parentStatus(r, p)
		if s == nil {
			return fmt.Errorf("route %s/%s: no status for %s", r.Namespace, r.Name, p)
		}
		return conditionIs(s.Conditions, string(gatewayv1.RouteConditionAccepted), metav1.ConditionFalse, string(reason), r.Generation)
	})
}

// subscriptionRoute finds the HTTPRoute of a subscription's default
// hostname by its labels, in whatever namespace Landlord keeps site objects.
func subscriptionRoute(account, subscription string) routeFinder {
	return func(ctx context.Context) (*gatewayv1.HTTPRoute, error) {
		var list gatewayv1.HTTPRouteList
		if err := env.Client.List(ctx, &list, client.MatchingLabels{v1.SubscriptionLabel: subscription, v1.AccountLabel: account}); err != nil {
			return nil, err
		}
		var found []*gatewayv1.HTTPRoute
		host := cfg.DefaultHostname(subscription, account)
		for i, r := range list.Items {
			for _, h := range r.Spec.Hostnames {
				if string(h) == host {
					found = append(found, &list.Items[i])
				}
			}
		}
		switch len(found) {
		case 0:
			return nil, fmt.Errorf("no HTTPRoute for %s labelled with subscription %s", host, subscription)
		case 1:
			return found[0], nil
		}
		return nil, fmt.Errorf("%d HTTPRoutes for %s", len(found), host)
	}
}

// routeByKey reads one route.
func routeByKey(key types.NamespacedName) routeFinder {
	return func(ctx context.Context) (*gatewayv1.HTTPRoute, error) {
		var r gatewayv1.HTTPRoute
		return &r, env.Client.Get(ctx, key, &r)
	}
}

// backendIs checks that the route's only backend is namespace/name
// (namespace empty: the route's own).
func backendIs(namespace, name string) func(*gatewayv1.HTTPRoute) error {
	return func(r *gatewayv1.HTTPRoute) error {
		if len(r.Spec.Rules) != 1 || len(r.Spec.Rules[0].BackendRefs) != 1 {
			return errors.New("want one rule with one backend")
		}
		ref := r.Spec.Rules[0].BackendRefs[0]
		ns := ""
		if ref.Namespace != nil && string(*ref.Namespace) != r.Namespace {
			ns = string(*ref.Namespace)
		}
		if ns != namespace || string(ref.Name) != name {
			return fmt.Errorf("route %s/%s goes to %s/%s, want %s/%s", r.Namespace, r.Name, ns, ref.Name, namespace, name)
		}
		return nil
	}
}

// requireGatewayAccepted waits until Envoy Gateway reports the Gateway
// Accepted and each named listener Accepted and ResolvedRefs (its
// certificate found, for HTTPS), and returns it.
func requireGatewayAccepted(t testing.TB, key types.NamespacedName, listeners ...string) *gatewayv1.Gateway {
	t.Helper()
	var gw gatewayv1.Gateway
	testenv.Eventually(t, statusWait, func() error {
		if err := env.Client.Get(context.Background(), key, &gw); err != nil {
			return err
		}
		if err := conditionIs(gw.Status.Conditions, string(gatewayv1.GatewayConditionAccepted), metav1.ConditionTrue, "", gw.Generation); err != nil {
			return fmt.Errorf("gateway %s: %w", key, err)
		}
		for _, name := range listeners {
			var ls *gatewayv1.ListenerStatus
			for i := range gw.Status.Listeners {
				if string(gw.Status.Listeners[i].Name) == name {
					ls = &gw.Status.Listeners[i]
				}
			}
			if ls == nil {
				return fmt.Errorf("gateway %s: no status of listener %s", key, name)
			}
			for _, typ := range []string{string(gatewayv1.ListenerConditionAccepted), string(gatewayv1.ListenerConditionResolvedRefs)} {
				if err := conditionIs(ls.Conditions, typ, metav1.ConditionTrue, "", gw.Generation); err != nil {
					return fmt.Errorf("gateway %s, listener %s: %w", key, name, err)
				}
			}
		}
		return nil
	})
	return &gw
}
