// Package suspendedpage serves the page visitors of a suspended or cancelled
// site see. The manager runs it; a Service in the operator namespace fronts
// it, and suspended sites' routes point at that Service.
package suspendedpage

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/manager"
)

var page = template.Must(template.New("suspended").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>This site is suspended</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:15vh auto;padding:0 1em;color:#333}h1{font-weight:500}</style>
</head>
<body>
<h1>This site is suspended</h1>
<p>{{if .Host}}The site at <strong>{{.Host}}</strong>{{else}}This site{{end}} is temporarily unavailable.
If you own it, sign in to your hosting account to restore it.</p>
</body>
</html>
`))

// Handler serves the suspended page for every path: 503 with Retry-After, so
// that search engines keep the site's ranking, and no caching.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(http.StatusOK)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
		if r.Method == http.MethodHead {
			return
		}
		_ = page.Execute(w, struct{ Host string }{host})
	})
}

// Server is a manager Runnable that serves the page on addr ("0" disables it),
// on every replica, leader or not.
func Server(addr string) manager.Runnable {
	return everyReplica{manager.RunnableFunc(func(ctx context.Context) error {
		if addr == "" || addr == "0" {
			return nil
		}
		srv := &http.Server{Addr: addr, Handler: Handler(), ReadHeaderTimeout: 10 * time.Second}
		errc := make(chan error, 1)
		go func() { errc <- srv.ListenAndServe() }()
		select {
		case err := <-errc:
			return fmt.Errorf("serving the suspended page on %s: %w", addr, err)
		case <-ctx.Done():
			shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}
	})}
}

type everyReplica struct{ manager.RunnableFunc }

func (everyReplica) NeedLeaderElection() bool { return false }
