package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/internal/teststore"
	"github.com/parsego/parse/storage"
)

// env is one App on a fresh PostgreSQL namespace, served by httpapi under
// /parse on a real HTTP server, as a host program would mount it.
type env struct {
	t    testing.TB
	app  *parse.App
	url  string // server URL with the mount: http://127.0.0.1:port/parse
	logs *syncBuffer
}

type envOption func(*parse.Config, *httpapi.Options)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	store := teststore.New(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	logs := &syncBuffer{}
	cfg := parse.Config{
		AppID: "APP", MasterKey: "MASTER", RESTKey: "REST", JavaScriptKey: "JS",
		ClientKey: "CLIENT", DotNetKey: "DOTNET",
		ServerURL: srv.URL + "/parse", Store: faultStore{store},
		AllowClientClassCreation: true,
		Logger:                   slog.New(slog.NewTextHandler(logs, nil)),
	}
	var o httpapi.Options
	for _, opt := range opts {
		opt(&cfg, &o)
	}
	app, err := parse.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("parse.New: %v", err)
	}
	t.Cleanup(func() { app.Close() })
	mux.Handle("/parse/", http.StripPrefix("/parse", httpapi.New(app, o)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "outside the mount", 418) })
	return &env{t: t, app: app, url: srv.URL + "/parse", logs: logs}
}

// faultStore makes the classes Fail and Boom misbehave on reads, so that
// tests can see how unexpected errors and panics are answered.
type faultStore struct{ storage.Store }

func (s faultStore) fault(class string) error {
	switch class {
	case "Fail":
		return errors.New("disk on fire")
	case "Boom":
		panic("store exploded")
	}
	return nil
}

func (s faultStore) Find(ctx context.Context, class string, q storage.Query) ([]storage.Object, error) {
	if err := s.fault(class); err != nil {
		return nil, err
	}
	return s.Store.Find(ctx, class, q)
}

func (s faultStore) Get(ctx context.Context, class, id string, perms []string) (storage.Object, error) {
	if err := s.fault(class); err != nil {
		return storage.Object{}, err
	}
	return s.Store.Get(ctx, class, id, perms)
}

func (s faultStore) Tx(ctx context.Context, fn func(tx storage.Store) error) error {
	return s.Store.Tx(ctx, func(tx storage.Store) error { return fn(faultStore{tx}) })
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// req is one HTTP request to the API.
type req struct {
	method, path string
	// body is sent JSON-encoded; a string or []byte is sent as is.
	body any
	// auth picks the keys sent as headers: "rest" (default), "master", "js",
	// "client", "dotnet", "app" (application id only), "none".
	auth        string
	contentType string
	headers     map[string]string
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(r req) resp {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	case io.Reader:
		body = b // of unknown length: sent chunked
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encoding body: %v", err)
		}
		body = bytes.NewReader(enc)
	}
	url := r.path
	if !strings.HasPrefix(url, "http") {
		url = e.url + r.path
	}
	hr, err := http.NewRequest(r.method, url, body)
	if err != nil {
		e.t.Fatalf("request: %v", err)
	}
	if body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	keys := map[string][2]string{
		"rest":   {"X-Parse-REST-API-Key", "REST"},
		"master": {"X-Parse-Master-Key", "MASTER"},
		"js":     {"X-Parse-Javascript-Key", "JS"},
		"client": {"X-Parse-Client-Key", "CLIENT"},
		"dotnet": {"X-Parse-Windows-Key", "DOTNET"},
	}
	switch a := r.auth; a {
	case "none":
	case "":
		a = "rest"
		fallthrough
	default:
		hr.Header.Set("X-Parse-Application-Id", "APP")
		if k, ok := keys[a]; ok {
			hr.Header.Set(k[0], k[1])
		}
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading: %v", r.method, r.path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// json decodes the response body.
func (r resp) json(t testing.TB) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.body)
	}
	return v
}

// obj decodes a JSON object response.
func (r resp) obj(t testing.TB) map[string]any {
	t.Helper()
	m, ok := r.json(t).(map[string]any)
	if !ok {
		t.Fatalf("response is not a JSON object: %s", r.body)
	}
	return m
}

// expect checks the status and the body against want, a JSON document in
// which "<id>" matches an objectId, "<date>" a wire date and "<any>"
// anything. Objects must have exactly the keys want has.
func (r resp) expect(t testing.TB, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if want == "" {
		return
	}
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	if diff := jsonDiff("body", w, r.json(t)); diff != "" {
		t.Fatalf("%s\n got: %s\nwant: %s", diff, r.body, want)
	}
}

// expectError checks a Parse error answer: status, code and message.
func (r resp) expectError(t testing.TB, status, code int, msg string) {
	t.Helper()
	want := fmt.Sprintf(`{"code":%d,"error":%q}`, code, msg)
	if msg == "" {
		want = fmt.Sprintf(`{"code":%d,"error":"<any>"}`, code)
	}
	r.expect(t, status, want)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
}

var (
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9]{10}$`)
	datePattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

func jsonDiff(path string, want, got any) string {
	switch w := want.(type) {
	case string:
		switch w {
		case "<any>":
			return ""
		case "<id>":
			if s, ok := got.(string); ok && idPattern.MatchString(s) {
				return ""
			}
			return fmt.Sprintf("%s: want an objectId, got %v", path, got)
		case "<date>":
			if s, ok := got.(string); ok && datePattern.MatchString(s) {
				return ""
			}
			return fmt.Sprintf("%s: want a date, got %v", path, got)
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, got %v", path, got)
		}
		var keys []string
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s: unexpected key %q", path, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s: missing key %q", path, k)
			}
			if d := jsonDiff(path+"."+k, w[k], gv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: want %d items, got %v", path, len(w), got)
		}
		for i := range w {
			if d := jsonDiff(fmt.Sprintf("%s.%d", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		return fmt.Sprintf("%s: want %s, got %s", path, wj, gj)
	}
	return ""
}

// golden compares a response body with testdata/name.json (placeholders as
// in expect).
func (r resp) golden(t testing.TB, status int, name string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatalf("golden: %v (body was %s)", err, r.body)
	}
	r.expect(t, status, string(want))
}

// create saves an object through the API and returns its objectId.
func (e *env) create(class string, fields map[string]any) string {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/classes/" + class, body: fields})
	if r.status != http.StatusCreated {
		e.t.Fatalf("create %s: %d %s", class, r.status, r.body)
	}
	return r.obj(e.t)["objectId"].(string)
}

// count returns how many objects class holds, asked with the master key.
func (e *env) count(class string) int {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/classes/" + class + "?count=1&limit=0", auth: "master"})
	if r.status != http.StatusOK {
		e.t.Fatalf("count %s: %d %s", class, r.status, r.body)
	}
	return int(r.obj(e.t)["count"].(float64))
}

// classExists asks the schemas API whether class exists.
func (e *env) classExists(class string) bool {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/schemas/" + class, auth: "master"})
	return r.status == http.StatusOK
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// encodeQuery URL-encodes the values of a readable query string
// ("a=1&where={...}").
func encodeQuery(q string) string {
	if q == "" {
		return ""
	}
	var parts []string
	for _, p := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(p, "=")
		parts = append(parts, neturl.QueryEscape(k)+"="+neturl.QueryEscape(v))
	}
	return strings.Join(parts, "&")
}

func newServer(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
