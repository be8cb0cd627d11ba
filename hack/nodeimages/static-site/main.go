// Command static-site is the site image of the local platform's "static"
// template on the real node (internal/node): it serves the files under its
// root (the template's dataPath, the site's volume) on the template's port,
// as nginx-unprivileged does for the shipped sample: port 8080, root
// /usr/share/nginx/html, a directory listing or its index.html at "/" (the
// readiness path). It runs as a non-root user (the image says 65532) and
// reads each file on request, so what a Developer writes into the volume is
// served at once.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	root := flag.String("root", env("SITE_ROOT", "/usr/share/nginx/html"), "Directory to serve (the template's dataPath).")
	listen := flag.String("listen", ":"+env("PORT", "8080"), "Address to listen on (the template's port).")
	flag.Parse()
	files := http.FileServer(http.Dir(*root))
	srv := &http.Server{
		Addr:              *listen,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.Printf("%s %s %s", r.RemoteAddr, r.Method, r.URL.Path)
			w.Header().Set("Cache-Control", "no-store")
			files.ServeHTTP(w, r)
		}),
	}
	// SIGTERM (the kubelet stopping the pod: suspension, a rollout) ends it
	// at once, as nginx does, instead of after the grace period.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	log.Printf("serving %s on %s", *root, *listen)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
