// Package dnstest runs a small authoritative DNS server on loopback whose TXT
// records are set by the caller. Integration tests verify custom domains
// against it, and the local platform can use it as --dns-server.
package dnstest

import (
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Server answers TXT questions from an in-memory table, over UDP and TCP on
// the same loopback port. Unknown names get NXDOMAIN.
type Server struct {
	mu      sync.Mutex
	txt     map[string][]string
	fail    map[string]int
	queries map[string]int
	addr    string
	udp     *dns.Server
	tcp     *dns.Server
}

// Start starts a server on 127.0.0.1 on a free port.
func Start() (*Server, error) { return StartAt("127.0.0.1:0") }

// StartAt starts a server on addr (host:port; port 0 picks a free one).
func StartAt(addr string) (*Server, error) {
	var lastErr error
	for range 10 {
		s, err := start(addr)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(addr string) (*Server, error) {
	s := &Server{txt: map[string][]string{}, fail: map[string]int{}, queries: map[string]int{}}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("dnstest: listening on udp %s: %w", addr, err)
	}
	// TCP on the same port, for truncated answers.
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("dnstest: listening on tcp %s: %w", pc.LocalAddr(), err)
	}
	s.addr = pc.LocalAddr().String()
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: l, Handler: s}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	<-started
	<-started
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Close stops the server.
func (s *Server) Close() error {
	err1 := s.udp.Shutdown()
	err2 := s.tcp.Shutdown()
	if err1 != nil {
		return err1
	}
	return err2
}

func key(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// SetTXT replaces the TXT records at name (one record per value).
func (s *Server) SetTXT(name string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[key(name)] = append([]string(nil), values...)
}

// Remove deletes every record at name (it then answers NXDOMAIN).
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.txt, key(name))
}

// Fail makes questions for name answer with rcode (for example
// dns.RcodeServerFailure); rcode 0 clears it.
func (s *Server) Fail(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rcode == 0 {
		delete(s.fail, key(name))
		return
	}
	s.fail[key(name)] = rcode
}

// Queries is how many questions for name the server has answered.
func (s *Server) Queries(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[key(name)]
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		k := key(q.Name)
		s.mu.Lock()
		s.queries[k]++
		values, found := s.txt[k]
		rcode, failing := s.fail[k]
		s.mu.Unlock()
		switch {
		case failing:
			m.Rcode = rcode
		case !found:
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeTXT || q.Qtype == dns.TypeANY:
			for _, v := range values {
				m.Answer = append(m.Answer, &dns.TXT{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0},
					Txt: split(v),
				})
			}
		}
	} else {
		m.Rcode = dns.RcodeFormatError
	}
	_ = w.WriteMsg(m)
}

// split cuts a value into the 255-byte strings a TXT record holds.
func split(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}
