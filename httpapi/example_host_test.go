package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/teststore"
)

// TestExampleHostMux runs ExampleNew's wiring: the host's own route and the
// Parse API side by side on one mux.
func TestExampleHostMux(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := teststore.New(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", RESTKey: "REST",
		ServerURL: srv.URL + "/parse", Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	mux.Handle("/", hostMux(app))

	get := func(path string, hdr map[string]string, body string) (int, string, http.Header) {
		method := "GET"
		if body != "" {
			method = "POST"
		}
		r, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	if code, body, _ := get("/hello", nil, ""); code != 200 || body != "hello from the host\n" {
		t.Fatalf("/hello: %d %q", code, body)
	}
	if code, body, _ := get("/parse/health", nil, ""); code != 200 || body != `{"status":"ok"}` {
		t.Fatalf("/parse/health: %d %q", code, body)
	}
	// Client class creation is off by default: the master key makes the class.
	master := map[string]string{"X-Parse-Application-Id": "APP", "X-Parse-Master-Key": "MASTER"}
	code, body, hdr := get("/parse/classes/Note", master, `{"text":"hi"}`)
	if code != 201 || !strings.HasPrefix(hdr.Get("Location"), srv.URL+"/parse/classes/Note/") {
		t.Fatalf("create: %d %s %v", code, body, hdr)
	}
	keys := map[string]string{"X-Parse-Application-Id": "APP", "X-Parse-REST-API-Key": "REST"}
	if code, body, _ := get("/parse/classes/Note?keys=text", keys, ""); code != 200 || !strings.Contains(body, `"text":"hi"`) {
		t.Fatalf("find: %d %s", code, body)
	}
}
