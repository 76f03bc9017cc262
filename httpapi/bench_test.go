package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/internal/pgtest"
)

// The benchmarks call the handler directly, with a request and a response
// writer reused across iterations, so that ns/op and allocs/op are the
// handler's (and the App's and the store's, with a real PostgreSQL round
// trip), not the HTTP client's.

func benchHandler(b *testing.B) (http.Handler, *parse.App) {
	b.Helper()
	store := pgtest.NewStore(b)
	app, err := parse.New(context.Background(), parse.Config{
		AppID: "APP", MasterKey: "MASTER", RESTKey: "REST", JavaScriptKey: "JS",
		ServerURL: "http://localhost/parse", Store: store, AllowClientClassCreation: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { app.Close() })
	return httpapi.New(app, httpapi.Options{}), app
}

// discardWriter is a ResponseWriter that keeps the status and drops the
// body; its header map is cleared between requests.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

type benchReq struct {
	r    *http.Request
	body *bytes.Reader
	raw  []byte
	w    discardWriter
}

func newBenchReq(method, target, body string) *benchReq {
	br := &benchReq{raw: []byte(body), w: discardWriter{h: http.Header{}}}
	br.body = bytes.NewReader(br.raw)
	br.r = httptest.NewRequest(method, target, nil)
	if body != "" {
		br.r.Body = io.NopCloser(br.body)
		br.r.ContentLength = int64(len(body))
		br.r.Header.Set("Content-Type", "application/json")
	}
	br.r.Header.Set("X-Parse-Application-Id", "APP")
	br.r.Header.Set("X-Parse-REST-API-Key", "REST")
	return br
}

// serve runs the request once. It reports a wrong status with b.Error,
// which, unlike Fatal, may be called from RunParallel's goroutines.
func (br *benchReq) serve(b *testing.B, h http.Handler, want int) bool {
	br.body.Reset(br.raw)
	clear(br.w.h)
	br.w.status, br.w.n = 0, 0
	h.ServeHTTP(&br.w, br.r)
	if br.w.status != want {
		b.Errorf("status %d, want %d", br.w.status, want)
		return false
	}
	return true
}

func BenchmarkCreate(b *testing.B) {
	h, _ := benchHandler(b)
	br := newBenchReq("POST", "/classes/Bench", `{"score":1337,"playerName":"Sean Plott","cheatMode":false}`)
	br.serve(b, h, 201) // creates the class
	b.ReportAllocs()
	for b.Loop() {
		br.serve(b, h, 201)
	}
}

func BenchmarkGet(b *testing.B) {
	h, app := benchHandler(b)
	o, err := app.Objects.Create(context.Background(), "Bench", map[string]any{"score": 1337, "playerName": "Sean Plott", "cheatMode": false})
	if err != nil {
		b.Fatal(err)
	}
	br := newBenchReq("GET", "/classes/Bench/"+o.ID, "")
	b.ReportAllocs()
	for b.Loop() {
		br.serve(b, h, 200)
	}
}

func BenchmarkUpdate(b *testing.B) {
	h, app := benchHandler(b)
	o, err := app.Objects.Create(context.Background(), "Bench", map[string]any{"score": 1337, "playerName": "Sean Plott"})
	if err != nil {
		b.Fatal(err)
	}
	br := newBenchReq("PUT", "/classes/Bench/"+o.ID, `{"score":{"__op":"Increment","amount":1}}`)
	b.ReportAllocs()
	for b.Loop() {
		br.serve(b, h, 200)
	}
}

func BenchmarkFind(b *testing.B) {
	h, app := benchHandler(b)
	for i := range 20 {
		if _, err := app.Objects.Create(context.Background(), "Bench", map[string]any{"score": i, "playerName": "Sean Plott"}); err != nil {
			b.Fatal(err)
		}
	}
	br := newBenchReq("GET", `/classes/Bench?where=%7B%22score%22%3A%7B%22%24gte%22%3A0%7D%7D&order=-score&limit=20`, "")
	b.ReportAllocs()
	for b.Loop() {
		br.serve(b, h, 200)
	}
}

// BenchmarkCreateParallel measures throughput with concurrent requests.
func BenchmarkCreateParallel(b *testing.B) {
	h, _ := benchHandler(b)
	newBenchReq("POST", "/classes/Bench", `{"score":1}`).serve(b, h, 201)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		br := newBenchReq("POST", "/classes/Bench", `{"score":1337,"playerName":"Sean Plott","cheatMode":false}`)
		for pb.Next() {
			if !br.serve(b, h, 201) {
				return
			}
		}
	})
}

// BenchmarkFindEq is the bench's query-eq: 20 of 2,000 objects by an
// equality on a field, as a client (REST key, so the ACL check applies).
func BenchmarkFindEq(b *testing.B) {
	h, app := benchHandler(b)
	ctx := context.Background()
	owner, err := app.Objects.Create(ctx, "BenchOwner", map[string]any{"name": "o"})
	if err != nil {
		b.Fatal(err)
	}
	items := make([]map[string]any, 2000)
	for i := range items {
		items[i] = map[string]any{
			"seq": i, "category": fmt.Sprintf("c%03d", i%100), "score": i, "code": fmt.Sprintf("k%05d", i),
			"title": fmt.Sprintf("Item number %d", i), "owner": parse.Pointer{ClassName: "BenchOwner", ObjectID: owner.ID},
		}
	}
	if _, errs := app.Objects.CreateMany(ctx, "BenchItem", items); errors.Join(errs...) != nil {
		b.Fatal(errors.Join(errs...))
	}
	br := newBenchReq("GET", `/classes/BenchItem?where=%7B%22category%22%3A%22c042%22%7D&limit=20`, "")
	b.ReportAllocs()
	for b.Loop() {
		br.serve(b, h, 200)
	}
}

// BenchmarkFunction is the bench's function workload: POST
// /functions/hello. It touches no table: what it costs is the handler's,
// the keys' check, the lookup of webhooks (an atomic load) and the call.
func BenchmarkFunction(b *testing.B) {
	h, app := benchHandler(b)
	app.Functions.Define("hello", func(context.Context, parse.FunctionRequest) (any, error) { return "Hello world!", nil })
	br := newBenchReq("POST", "/functions/hello", `{}`)
	b.ReportAllocs()
	for b.Loop() {
		br.serve(b, h, 200)
	}
}
