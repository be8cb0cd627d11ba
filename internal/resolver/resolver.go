// Package resolver looks up the DNS records that prove control of a custom
// domain. The controller depends on the Resolver interface; production uses a
// DNS client against a configured server (--dns-server) or the system resolver.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Resolver looks up TXT records.
type Resolver interface {
	// LookupTXT returns the TXT values at name, each record's strings joined.
	// A name with no TXT record (NXDOMAIN or no data) is (nil, nil); an error
	// means the question could not be answered and should be retried.
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// DefaultTimeout bounds one DNS exchange.
const DefaultTimeout = 3 * time.Second

// New returns a Resolver that asks server (host:port), or the system resolver
// when server is empty. Transient failures are retried a few times with
// exponential backoff before an error is returned.
func New(server string) Resolver {
	if server == "" {
		return &retrying{next: System{Resolver: net.DefaultResolver}}
	}
	return &retrying{next: &Client{Server: server, Timeout: DefaultTimeout}}
}

// Client asks one DNS server directly (UDP, falling back to TCP when the
// answer is truncated).
type Client struct {
	// Server is host:port.
	Server  string
	Timeout time.Duration
}

// LookupTXT implements Resolver.
func (c *Client) LookupTXT(ctx context.Context, name string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	m.RecursionDesired = true
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	udp := &dns.Client{Net: "udp", Timeout: timeout}
	r, _, err := udp.ExchangeContext(ctx, m, c.Server)
	if err == nil && r.Truncated {
		tcp := &dns.Client{Net: "tcp", Timeout: timeout}
		r, _, err = tcp.ExchangeContext(ctx, m, c.Server)
	}
	if err != nil {
		return nil, fmt.Errorf("asking %s for TXT %s: %w", c.Server, name, err)
	}
	switch r.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, nil
	default:
		return nil, fmt.Errorf("asking %s for TXT %s: %s", c.Server, name, dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out, nil
}

// System uses a net.Resolver (the host's resolver configuration).
type System struct {
	Resolver *net.Resolver
}

// LookupTXT implements Resolver.
func (s System) LookupTXT(ctx context.Context, name string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	out, err := s.Resolver.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up TXT %s: %w", name, err)
	}
	return out, nil
}

// retrying retries failed lookups with exponential backoff.
type retrying struct {
	next     Resolver
	attempts int
	base     time.Duration
}

func (r *retrying) LookupTXT(ctx context.Context, name string) ([]string, error) {
	attempts, wait := r.attempts, r.base
	if attempts == 0 {
		attempts = 3
	}
	if wait == 0 {
		wait = 200 * time.Millisecond
	}
	var err error
	for i := 0; i < attempts; i++ {
		var out []string
		if out, err = r.next.LookupTXT(ctx, name); err == nil {
			return out, nil
		}
		if i == attempts-1 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (%w)", err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
	return nil, fmt.Errorf("after %d attempts: %w", attempts, err)
}

// WithRetries wraps next so that a failed lookup is retried up to attempts
// times, waiting base, 2*base, 4*base... in between.
func WithRetries(next Resolver, attempts int, base time.Duration) Resolver {
	return &retrying{next: next, attempts: attempts, base: base}
}
