package dnstest

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// Publish plays the customers who follow the instructions: every interval
// it publishes, for each CustomDomain whose hostname publish accepts (nil:
// all), the TXT record its status asks for. It returns when ctx is done.
func (s *Server) Publish(ctx context.Context, c client.Reader, interval time.Duration, publish func(hostname string) bool, logf func(format string, args ...any)) {
	published := map[string]string{}
	for {
		var domains hostingv1alpha1.CustomDomainList
		if err := c.List(ctx, &domains); err == nil {
			for _, d := range domains.Items {
				v := d.Status.Verification
				if v.RecordName == "" || v.Value == "" || published[v.RecordName] == v.Value {
					continue
				}
				if publish != nil && !publish(d.Status.Hostname) {
					continue
				}
				s.SetTXT(v.RecordName, v.Value)
				published[v.RecordName] = v.Value
				if logf != nil {
					logf("published TXT %s %q", v.RecordName, v.Value)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
