// Package metrics defines Landlord's Prometheus metrics, served on the
// manager's metrics endpoint beside controller-runtime's own.
//
// Gauges of objects by phase are computed at scrape time from the manager's
// cache, so they are always consistent with what the controllers see and no
// controller has to keep them up to date. Counters and histograms are
// recorded by the controllers when something happens.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

var (
	// PhaseTransitions counts subscriptions entering each phase.
	PhaseTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "landlord_subscription_phase_transitions_total",
		Help: "Subscriptions entering each lifecycle phase.",
	}, []string{"phase"})

	// DNSVerificationFailures counts failed domain verifications by reason
	// (RecordMissing: no or wrong TXT record; LookupFailed: the DNS query failed).
	DNSVerificationFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "landlord_dns_verification_failures_total",
		Help: "Custom-domain DNS verifications that failed, by reason.",
	}, []string{"reason"})

	// DeadlineActionDelay is the time from a lifecycle deadline (suspendAt,
	// terminateAt, expiresAt) to Landlord acting on it.
	DeadlineActionDelay = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "landlord_deadline_action_delay_seconds",
		Help:    "Time from a lifecycle deadline to the reconcile that acted on it.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
	}, []string{"action"})
)

// ObserveDeadline records that action (e.g. "suspend", "terminate") was taken
// at now for a deadline that passed at deadline.
func ObserveDeadline(action string, deadline, now time.Time) {
	d := now.Sub(deadline)
	if d < 0 {
		d = 0
	}
	DeadlineActionDelay.WithLabelValues(action).Observe(d.Seconds())
}

// Register adds Landlord's metrics to controller-runtime's registry; reader
// is the manager's cache, read at scrape time for the phase gauges.
func Register(reader client.Reader) error {
	for _, c := range []prometheus.Collector{PhaseTransitions, DNSVerificationFailures, DeadlineActionDelay, &phaseCollector{reader: reader}} {
		if err := crmetrics.Registry.Register(c); err != nil {
			if _, ok := err.(prometheus.AlreadyRegisteredError); ok {
				continue
			}
			return err
		}
	}
	return nil
}

var (
	accountsDesc      = prometheus.NewDesc("landlord_accounts", "Accounts by phase.", []string{"phase"}, nil)
	subscriptionsDesc = prometheus.NewDesc("landlord_subscriptions", "Subscriptions by phase.", []string{"phase"}, nil)
	domainsDesc       = prometheus.NewDesc("landlord_custom_domains", "Custom domains by phase.", []string{"phase"}, nil)
)

// phaseCollector counts objects by status.phase from the cache.
type phaseCollector struct{ reader client.Reader }

func (c *phaseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- accountsDesc
	ch <- subscriptionsDesc
	ch <- domainsDesc
}

func (c *phaseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	var accounts hostingv1alpha1.AccountList
	if err := c.reader.List(ctx, &accounts); err == nil {
		counts := map[string]int{}
		for _, a := range accounts.Items {
			counts[string(a.Status.Phase)]++
		}
		emit(ch, accountsDesc, counts, hostingv1alpha1.AccountPending, hostingv1alpha1.AccountActive,
			hostingv1alpha1.AccountSuspended, hostingv1alpha1.AccountTerminating)
	}
	var subs hostingv1alpha1.SubscriptionList
	if err := c.reader.List(ctx, &subs); err == nil {
		counts := map[string]int{}
		for _, s := range subs.Items {
			counts[string(s.Status.Phase)]++
		}
		emit(ch, subscriptionsDesc, counts, hostingv1alpha1.PhasePending, hostingv1alpha1.PhaseTrialing,
			hostingv1alpha1.PhaseActive, hostingv1alpha1.PhasePastDue, hostingv1alpha1.PhaseSuspended,
			hostingv1alpha1.PhaseCancelled, hostingv1alpha1.PhaseTerminated)
	}
	var domains hostingv1alpha1.CustomDomainList
	if err := c.reader.List(ctx, &domains); err == nil {
		counts := map[string]int{}
		for _, d := range domains.Items {
			counts[string(d.Status.Phase)]++
		}
		emit(ch, domainsDesc, counts, hostingv1alpha1.DomainPendingVerification, hostingv1alpha1.DomainVerified,
			hostingv1alpha1.DomainActive, hostingv1alpha1.DomainConflict, hostingv1alpha1.DomainLapsed, hostingv1alpha1.DomainFailed)
	}
}

// emit sends one gauge per known phase (zero included, so dashboards see
// every series), plus any other phase seen ("" while not yet reconciled).
func emit[P ~string](ch chan<- prometheus.Metric, desc *prometheus.Desc, counts map[string]int, phases ...P) {
	seen := map[string]bool{}
	for _, p := range phases {
		seen[string(p)] = true
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[string(p)]), string(p))
	}
	for p, n := range counts {
		if !seen[p] {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), p)
		}
	}
}
