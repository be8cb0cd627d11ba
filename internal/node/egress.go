package node

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// netns is a network namespace this process can dial into and listen in.
type netns struct{ fd int }

func openNetns(pid int) (*netns, error) {
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/net", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the node's network namespace: %w", err)
	}
	return &netns{fd: fd}, nil
}

func (ns *netns) close() { _ = unix.Close(ns.fd) }

// do runs f on an OS thread moved into the namespace: a socket f creates
// belongs to the namespace for good, whatever thread uses it later. The
// thread moves back afterwards; if it cannot, it is never reused (the
// goroutine ends locked, and the runtime drops the thread).
func (ns *netns) do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(self)
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering the node's network namespace: %w", err)
			return
		}
		ferr := f()
		if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("leaving the node's network namespace: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func (ns *netns) dial(addr string) (net.Conn, error) {
	var c net.Conn
	err := ns.do(func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 10*time.Second)
		return err
	})
	return c, err
}

func (ns *netns) listen(addr string) (net.Listener, error) {
	var l net.Listener
	err := ns.do(func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}

// egressProxy is the HTTP CONNECT proxy the API server's egress selector
// uses for the cluster: addresses on the node's network (the node, its
// pods) are dialled inside the node's network namespace — the node's
// address and KubeletPort to the kubelet on that namespace's loopback —
// and any other address from the host, as without a proxy.
type egressProxy struct {
	ns      *netns
	network Network
	subnet  *net.IPNet
	ln      net.Listener
}

func startEgressProxy(socket string, ns *netns, n Network) (*egressProxy, error) {
	_, subnet, err := net.ParseCIDR(n.Subnet)
	if err != nil {
		return nil, err
	}
	_ = os.Remove(socket)
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("the egress proxy's socket: %w", err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		_ = ln.Close()
		return nil, err
	}
	p := &egressProxy{ns: ns, network: n, subnet: subnet, ln: ln}
	go p.serve()
	return p, nil
}

func (p *egressProxy) close() { _ = p.ln.Close() }

func (p *egressProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

// target maps a CONNECT address to where to dial and whether to dial inside
// the node's network namespace.
func (p *egressProxy) target(addr string) (dial string, inside bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false, err
	}
	ip := net.ParseIP(host)
	if ip == nil || !p.subnet.Contains(ip) {
		return addr, false, nil
	}
	if host == p.network.NodeIP && port == strconv.Itoa(KubeletPort) {
		return net.JoinHostPort("127.0.0.1", port), true, nil
	}
	return addr, true, nil
}

func (p *egressProxy) handle(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		_, _ = io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	}
	addr, inside, err := p.target(req.Host)
	if err != nil {
		_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
		return
	}
	var out net.Conn
	if inside {
		out, err = p.ns.dial(addr)
	} else {
		out, err = net.DialTimeout("tcp", addr, 10*time.Second)
	}
	if err != nil {
		_, _ = fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer out.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	splice(c, br, out)
}

// splice copies both ways until either side is done; from carries what the
// client already sent past its request.
func splice(c net.Conn, from io.Reader, out net.Conn) {
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(out, from)
		closeWrite(out)
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(c, out)
		closeWrite(c)
		done <- struct{}{}
	}()
	<-done
	<-done
}

// forwardInto listens on addr inside the namespace and copies each
// connection to the same address on the host: the kubelet reaches the API
// server on the host's loopback at the address of its kubeconfig.
func forwardInto(ns *netns, addr string) (net.Listener, error) {
	ln, err := ns.listen(addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s in the node's network namespace: %w", addr, err)
	}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err != nil {
					return
				}
				defer out.Close()
				splice(in, in, out)
			}()
		}
	}()
	return ln, nil
}

func closeWrite(c net.Conn) {
	if w, ok := c.(interface{ CloseWrite() error }); ok {
		_ = w.CloseWrite()
	}
}
