package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
)

const allowHeaders = "X-Parse-Master-Key, X-Parse-REST-API-Key, X-Parse-Javascript-Key, X-Parse-Application-Id, " +
	"X-Parse-Client-Version, X-Parse-Session-Token, X-Requested-With, X-Parse-Revocable-Session, X-Parse-Request-Id, " +
	"Content-Type, Pragma, Cache-Control"

func checkCORS(t *testing.T, r resp, origin, headers string) {
	t.Helper()
	want := map[string]string{
		"Access-Control-Allow-Origin":   origin,
		"Access-Control-Allow-Methods":  "GET,PUT,POST,DELETE,OPTIONS",
		"Access-Control-Allow-Headers":  headers,
		"Access-Control-Expose-Headers": "X-Parse-Job-Status-Id, X-Parse-Push-Status-Id",
	}
	for k, v := range want {
		if got := r.header.Values(k); len(got) != 1 || got[0] != v {
			t.Fatalf("%s: %q, want %q", k, got, v)
		}
	}
}

// TestCORS: every response carries the CORS headers; OPTIONS answers 200
// OK on any path without keys.
func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"/classes/CorsObj", "/functions/hello", "/users/me", "/nowhere", "/batch", "/health"} {
		r := e.do(req{method: "OPTIONS", path: p, auth: "none", headers: map[string]string{
			"Origin": "http://example.com", "Access-Control-Request-Method": "POST"}})
		if r.status != 200 || string(r.body) != "OK" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("OPTIONS %s: %d %q %v", p, r.status, r.body, r.header)
		}
		checkCORS(t, r, "*", allowHeaders)
	}
	for _, r := range []req{
		{method: "GET", path: "/classes/CorsObj"},
		{method: "POST", path: "/classes/CorsObj", body: `{"a":1}`},
		{method: "GET", path: "/classes/CorsObj/aaaaaaaaaa"},
		{method: "GET", path: "/classes/CorsObj", auth: "none"},
		{method: "GET", path: "/nowhere"},
		{method: "POST", path: "/classes/CorsObj", body: `{bad`},
		{method: "GET", path: "/health", auth: "none"},
	} {
		checkCORS(t, e.do(r), "*", allowHeaders)
	}
	if e.count("CorsObj") != 1 {
		t.Fatal("OPTIONS wrote something")
	}
}

func TestCORSOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *parse.Config, o *httpapi.Options) {
		o.AllowOrigin = []string{"https://a.example", "https://b.example"}
		o.AllowHeaders = []string{"X-Custom", "X-Other"}
	})
	headers := allowHeaders + ", X-Custom, X-Other"
	for origin, want := range map[string]string{
		"https://b.example": "https://b.example",
		"https://a.example": "https://a.example",
		"https://evil.com":  "https://a.example",
		"":                  "https://a.example",
	} {
		h := map[string]string{}
		if origin != "" {
			h["Origin"] = origin
		}
		checkCORS(t, e.do(req{method: "OPTIONS", path: "/classes/X", auth: "none", headers: h}), want, headers)
		r := e.do(req{method: "GET", path: "/classes/X", headers: h})
		r.expect(t, http.StatusOK, `{"results":[]}`)
		checkCORS(t, r, want, headers)
	}
}
