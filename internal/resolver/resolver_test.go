package resolver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/resolver"
)

// The real client against a real DNS server on loopback.
func TestClientAgainstLoopbackServer(t *testing.T) {
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	ctx := context.Background()
	r := resolver.New(srv.Addr())

	long := strings.Repeat("x", 300) // more than one TXT string
	srv.SetTXT("_landlord-challenge.shop.example.com", "landlord-verify=abc", long)
	got, err := r.LookupTXT(ctx, "_landlord-challenge.Shop.Example.com.")
	if err != nil || len(got) != 2 || got[0] != "landlord-verify=abc" || got[1] != long {
		t.Fatalf("LookupTXT = %q, %v", got, err)
	}

	got, err = r.LookupTXT(ctx, "_landlord-challenge.other.example.com")
	if err != nil || len(got) != 0 {
		t.Fatalf("missing name: LookupTXT = %q, %v; want no records and no error", got, err)
	}

	srv.Fail("_landlord-challenge.broken.example.com", dns.RcodeServerFailure)
	before := srv.Queries("_landlord-challenge.broken.example.com")
	fast := resolver.WithRetries(&resolver.Client{Server: srv.Addr(), Timeout: time.Second}, 3, time.Millisecond)
	if _, err := fast.LookupTXT(ctx, "_landlord-challenge.broken.example.com"); err == nil || !strings.Contains(err.Error(), "SERVFAIL") {
		t.Fatalf("SERVFAIL: err = %v, want an error", err)
	}
	if n := srv.Queries("_landlord-challenge.broken.example.com") - before; n != 3 {
		t.Errorf("a failing lookup was tried %d times, want 3", n)
	}
}

func TestClientUnreachableServer(t *testing.T) {
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	_ = srv.Close()
	c := &resolver.Client{Server: addr, Timeout: 200 * time.Millisecond}
	if _, err := c.LookupTXT(context.Background(), "example.com"); err == nil {
		t.Fatal("a lookup against a closed server succeeded")
	}
}
