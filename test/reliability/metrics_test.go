package reliability_test

import (
	"testing"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metricSum is the sum over all label values of a counter in
// controller-runtime's registry (every manager of this process adds to it;
// tests run one at a time).
func metricSum(t testing.TB, name string) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	must(t, err)
	sum := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

const (
	reconcilesMetric      = "controller_runtime_reconcile_total"
	reconcileErrorsMetric = "controller_runtime_reconcile_errors_total"
)
