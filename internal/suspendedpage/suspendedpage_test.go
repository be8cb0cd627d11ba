package suspendedpage

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	for _, c := range []struct {
		name, method, path, host string
		code                     int
		body                     []string
	}{
		{"any path of a suspended site", "GET", "/wp-admin/", "www-acme.sites.example:8080", 503, []string{"This site is suspended", "www-acme.sites.example"}},
		{"hostile host is escaped", "GET", "/", "<script>x</script>", 503, []string{"&lt;script&gt;"}},
		{"head", "HEAD", "/", "a.example", 503, nil},
		{"health", "GET", "/healthz", "", 200, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, nil)
			req.Host = c.host
			rec := httptest.NewRecorder()
			Handler().ServeHTTP(rec, req)
			if rec.Code != c.code {
				t.Fatalf("code %d, want %d", rec.Code, c.code)
			}
			for _, want := range c.body {
				if !strings.Contains(rec.Body.String(), want) {
					t.Fatalf("body does not contain %q:\n%s", want, rec.Body.String())
				}
			}
			if strings.Contains(rec.Body.String(), "<script>") {
				t.Fatal("host not escaped")
			}
			if c.code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
				t.Fatal("no Retry-After")
			}
		})
	}
}
