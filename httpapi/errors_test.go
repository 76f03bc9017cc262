package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
)

// TestBadInput sends writes that must be refused, each with its exact
// code, and checks that nothing was stored.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *parse.Config, _ *httpapi.Options) {
		cfg.Limits.MaxBodyBytes = 1 << 10
		cfg.Limits.MaxBatchSize = 3
	})
	// The class exists with a Number field, and one object to update.
	id := e.create("Bad", map[string]any{"score": 1, "when": map[string]any{"__type": "Date", "iso": "2011-08-21T18:02:52.249Z"}})
	big := `{"a":"` + strings.Repeat("x", 2<<10) + `"}`
	creates := func(n int) string {
		var items []string
		for i := range n {
			items = append(items, fmt.Sprintf(`{"method":"POST","path":"/parse/classes/Bad","body":{"i":%d}}`, i))
		}
		return `{"requests":[` + strings.Join(items, ",") + `]}`
	}
	cases := []struct {
		name   string
		r      req
		status int
		code   int
		msg    string
	}{
		{"malformed JSON", req{method: "POST", path: "/classes/Bad", body: `{"a":`}, 400, 107, "Invalid JSON"},
		{"malformed JSON as text/plain", req{method: "POST", path: "/classes/Bad", contentType: "text/plain", body: `{bad`}, 400, 107, "Invalid JSON"},
		{"malformed JSON before the keys are checked", req{method: "POST", path: "/classes/Bad", auth: "none", body: `{bad`}, 400, 107, "Invalid JSON"},
		{"JSON that is not an object", req{method: "POST", path: "/classes/Bad", body: `"str"`}, 400, 107, "Invalid JSON"},
		{"JSON null", req{method: "POST", path: "/classes/Bad", body: `null`}, 400, 107, "Invalid JSON"},
		{"body is an array", req{method: "POST", path: "/classes/Bad", body: `[1,2]`}, 400, 105, "Invalid field name: 0."},
		{"update body is an array", req{method: "PUT", path: "/classes/Bad/" + id, body: `[1]`}, 400, 105, "Invalid field name: 0."},
		{"unknown operator", req{method: "POST", path: "/classes/Bad", body: `{"a":{"__op":"Nope"}}`}, 400, 108, "The Nope operator is not supported yet."},
		{"unknown operator on update", req{method: "PUT", path: "/classes/Bad/" + id, body: `{"score":{"__op":"Nope"}}`}, 400, 108, "The Nope operator is not supported yet."},
		{"increment without an amount", req{method: "PUT", path: "/classes/Bad/" + id, body: `{"score":{"__op":"Increment"}}`}, 400, 107, "incrementing must provide a number"},
		{"wrong type on create", req{method: "POST", path: "/classes/Bad", body: `{"score":"high"}`}, 400, 111, "schema mismatch for Bad.score; expected Number but got String"},
		{"wrong type on update", req{method: "PUT", path: "/classes/Bad/" + id, body: `{"when":5}`}, 400, 111, "schema mismatch for Bad.when; expected Date but got Number"},
		{"pointer into a number", req{method: "PUT", path: "/classes/Bad/" + id, body: `{"score":{"__type":"Pointer","className":"_User","objectId":"abcdefghij"}}`}, 400, 111, "schema mismatch for Bad.score; expected Number but got Pointer<_User>"},
		{"createdAt as a string", req{method: "POST", path: "/classes/Bad", body: `{"createdAt":"yesterday"}`}, 400, 111, "schema mismatch for Bad.createdAt; expected Date but got String"},
		{"invalid date", req{method: "POST", path: "/classes/Bad", body: `{"d":{"__type":"Date","iso":"yesterday"}}`}, 400, 111, ""},
		{"invalid class name", req{method: "POST", path: "/classes/bad-name", body: `{"a":1}`}, 400, 107, "schema class name does not revalidate"},
		{"class name with a leading underscore", req{method: "POST", path: "/classes/_Unknown", body: `{"a":1}`}, 400, 107, "schema class name does not revalidate"},
		{"class name with a leading digit", req{method: "POST", path: "/classes/1Class", body: `{"a":1}`}, 400, 107, "schema class name does not revalidate"},
		{"invalid field name", req{method: "POST", path: "/classes/Bad", body: `{"bl!ng":1}`}, 400, 105, "Invalid field name: bl!ng."},
		{"field starting with a digit", req{method: "POST", path: "/classes/Bad", body: `{"1abc":1}`}, 400, 105, "Invalid field name: 1abc."},
		{"objectId on create", req{method: "POST", path: "/classes/Bad", body: `{"objectId":"abcdefghij","a":1}`}, 400, 105, "objectId is an invalid field name."},
		{"nested key with a dollar", req{method: "POST", path: "/classes/Bad", body: `{"o":{"$x":1}}`}, 400, 121, ""},
		{"invalid ACL", req{method: "POST", path: "/classes/Bad", body: `{"ACL":{"*":{"read":"yes"}}}`}, 400, 123, ""},
		{"oversized body", req{method: "POST", path: "/classes/Bad", body: big}, 413, 116, "request entity too large"},
		{"oversized chunked body", req{method: "POST", path: "/classes/Bad", body: io.MultiReader(strings.NewReader(big))}, 413, 116, "request entity too large"},
		{"oversized body before the keys are checked", req{method: "POST", path: "/classes/Bad", auth: "none", body: big}, 413, 116, "request entity too large"},
		{"unknown objectId", req{method: "PUT", path: "/classes/Bad/aaaaaaaaaa", body: `{"score":2}`}, 404, 101, "Object not found."},
		{"unknown objectId on delete", req{method: "DELETE", path: "/classes/Bad/aaaaaaaaaa"}, 404, 101, "Object not found."},
		{"batch over the limit", req{method: "POST", path: "/batch", body: creates(4)}, 400, 107, "Batch request contains 4 sub-requests, which exceeds the limit of 3."},
		{"where that is not JSON", req{method: "GET", path: "/classes/Bad?where=" + `%7Bscore:1`}, 400, 107, "where parameter is not valid JSON"},
		{"where that is an array", req{method: "GET", path: "/classes/Bad?where=%5B1%5D"}, 400, 105, "Invalid key name: 0"},
		{"unknown query parameter", req{method: "GET", path: "/classes/Bad?foo=1"}, 400, 102, "Invalid parameter for query: foo"},
		{"where in a body that is not JSON", req{method: "POST", path: "/classes/Bad", contentType: "text/plain", body: `{"_method":"GET","where":"{bad"}`}, 400, 107, "where parameter is not valid JSON"},
		{"query body that is an array", req{method: "GET", path: "/classes/Bad", body: `[1]`}, 400, 102, "Invalid parameter for query: 0"},
		{"malformed escape kept as is", req{method: "GET", path: "/classes/Bad?foo%zz=1"}, 400, 102, "Invalid parameter for query: foo%zz"},
	}
	for _, c := range cases {
		r := e.do(c.r)
		if r.status != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.body)
		}
		r.expectError(t, c.status, c.code, c.msg)
	}
	// Nothing was stored: the one object is unchanged, and no class was made.
	e.do(req{method: "GET", path: "/classes/Bad/" + id}).expect(t, 200, `{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>",
		"score":1,"when":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"}}`)
	if n := e.count("Bad"); n != 1 {
		t.Fatalf("%d objects in Bad, want 1", n)
	}
	for _, class := range []string{"bad-name", "_Unknown", "1Class"} {
		if e.classExists(class) {
			t.Fatalf("class %s was created", class)
		}
	}
	// The schema gained no field from the refused writes.
	r := e.do(req{method: "GET", path: "/schemas/Bad", auth: "master"})
	if fields := r.obj(t)["fields"].(map[string]any); len(fields) != 6 {
		t.Fatalf("schema fields %v", fields)
	}
}

// TestInternalErrors: unexpected errors and panics answer 500 with code 1,
// never their cause, which is logged.
func TestInternalErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(req{method: "GET", path: "/classes/Fail"}).
		expectError(t, 500, 1, "An internal server error occurred")
	if !strings.Contains(e.logs.String(), "disk on fire") {
		t.Fatalf("cause not logged: %s", e.logs)
	}
	r := e.do(req{method: "GET", path: "/classes/Boom/aaaaaaaaaa"})
	r.expectError(t, 500, 1, "An internal server error occurred")
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatal("no CORS headers on the 500")
	}
	if !strings.Contains(e.logs.String(), "store exploded") {
		t.Fatalf("panic not logged: %s", e.logs)
	}
	// In a batch, an internal error is the item's; a panic is the batch's.
	e.do(req{method: "POST", path: "/batch", body: `{"requests":[{"method":"GET","path":"/parse/classes/Fail"},{"method":"GET","path":"/parse/classes/Ok"}]}`}).
		expect(t, 200, `[{"error":{"code":1,"error":"An internal server error occurred"}},{"success":{"results":[]}}]`)
	e.do(req{method: "POST", path: "/batch", body: `{"requests":[{"method":"GET","path":"/parse/classes/Boom"}]}`}).
		expectError(t, 500, 1, "An internal server error occurred")
	// The server still serves.
	e.do(req{method: "GET", path: "/health"}).expect(t, 200, `{"status":"ok"}`)
}

// TestRouting: unknown routes answer Express's 404 page after the keys are
// checked; Express's path tolerance is kept.
func TestRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.create("Route", map[string]any{"a": 1})
	notFound := []struct {
		r    req
		text string
	}{
		{req{method: "GET", path: "/nowhere"}, "Cannot GET /parse/nowhere"},
		{req{method: "GET", path: "/nowhere?x=<1>"}, "Cannot GET /parse/nowhere"},
		{req{method: "GET", path: "/classes"}, "Cannot GET /parse/classes"},
		{req{method: "PUT", path: "/classes/Route", body: `{}`}, "Cannot PUT /parse/classes/Route"},
		{req{method: "DELETE", path: "/classes/Route"}, "Cannot DELETE /parse/classes/Route"},
		{req{method: "PATCH", path: "/classes/Route/" + id}, "Cannot PATCH /parse/classes/Route/" + id},
		{req{method: "POST", path: "/classes/Route/" + id, body: `{"_method":"PATCH"}`}, "Cannot PATCH /parse/classes/Route/" + id},
		{req{method: "POST", path: "/classes/Route/" + id, body: `{"a":2}`}, "Cannot POST /parse/classes/Route/" + id},
		{req{method: "GET", path: "/classes/Route/" + id + "/extra"}, "Cannot GET /parse/classes/Route/" + id + "/extra"},
		{req{method: "GET", path: "/users/me/x"}, "Cannot GET /parse/users/me/x"},
		{req{method: "PATCH", path: "/users"}, "Cannot PATCH /parse/users"},
		{req{method: "PUT", path: "/login", body: `{}`}, "Cannot PUT /parse/login"},
		{req{method: "GET", path: "/batch"}, "Cannot GET /parse/batch"},
		{req{method: "PUT", path: "/schemas", auth: "master", body: `{}`}, "Cannot PUT /parse/schemas"},
		{req{method: "GET", path: "/functions/hello"}, "Cannot GET /parse/functions/hello"},
		{req{method: "GET", path: "/a'b\"<c>&"}, "Cannot GET /parse/a%27b%22%3Cc%3E&amp;"},
	}
	for _, c := range notFound {
		r := e.do(c.r)
		want := "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>" +
			c.text + "</pre>\n</body>\n</html>\n"
		if r.status != 404 || string(r.body) != want {
			t.Fatalf("%s %s: %d %q, want 404 %q", c.r.method, c.r.path, r.status, r.body, want)
		}
		if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Content-Security-Policy") != "default-src 'none'" {
			t.Fatalf("headers %v", r.header)
		}
	}
	// Keys are checked first, even on unknown routes.
	expectUnauthorized(t, e.do(req{method: "GET", path: "/nowhere", auth: "none"}))

	// Doubled and trailing slashes and the case of fixed segments don't
	// matter, as in Express; HEAD is GET without a body.
	want := `{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","a":1}`
	for _, p := range []string{"/classes/Route/" + id + "/", "//classes//Route/" + id, "/CLASSES/Route/" + id} {
		e.do(req{method: "GET", path: p}).expect(t, 200, want)
	}
	r := e.do(req{method: "HEAD", path: "/classes/Route/" + id})
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Length") == "" {
		t.Fatalf("HEAD: %d %q %v", r.status, r.body, r.header)
	}
	for _, m := range []string{"GET", "POST", "DELETE"} {
		e.do(req{method: m, path: "/health", auth: "none"}).expect(t, 200, `{"status":"ok"}`)
	}
	e.do(req{method: "GET", path: "/HEALTH/", auth: "none"}).expect(t, 200, `{"status":"ok"}`)
}

// TestMounting: the handler also works mounted without http.StripPrefix,
// and batch paths accept the public URL's mount path.
func TestMounting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *parse.Config, o *httpapi.Options) {
		cfg.PublicServerURL = "https://api.example.com/v1/parse/"
	})
	direct := newServer(t, httpapi.New(e.app, httpapi.Options{}))
	r := e.do(req{method: "POST", path: direct + "/parse/classes/Mount", body: `{"a":1}`})
	r.expect(t, 201, `{"objectId":"<id>","createdAt":"<date>"}`)
	id := r.obj(t)["objectId"].(string)
	if got, want := r.header.Get("Location"), "https://api.example.com/v1/parse/classes/Mount/"+id; got != want {
		t.Fatalf("Location %q, want %q", got, want)
	}
	e.do(req{method: "POST", path: direct + "/parse/batch", body: `{"requests":[
		{"method":"GET","path":"/parse/classes/Mount/` + id + `"},
		{"method":"GET","path":"/v1/parse/classes/Mount/` + id + `"},
		{"method":"GET","path":"/elsewhere/classes/Mount/` + id + `"}]}`}).
		expectError(t, 400, 107, "cannot route batch path /elsewhere/classes/Mount/"+id)
	one := `{"success":{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","a":1}}`
	e.do(req{method: "POST", path: direct + "/parse/batch", body: `{"requests":[
		{"method":"GET","path":"/parse/classes/Mount/` + id + `"},
		{"method":"GET","path":"/v1/parse/classes/Mount/` + id + `"}]}`}).
		expect(t, 200, `[`+one+`,`+one+`]`)

	// A custom mount path.
	custom := newServer(t, http.StripPrefix("/api", httpapi.New(e.app, httpapi.Options{MountPath: "/api/"})))
	e.do(req{method: "POST", path: custom + "/api/batch", body: `{"requests":[{"method":"GET","path":"/api/classes/Mount/` + id + `"}]}`}).
		expect(t, 200, `[`+one+`]`)
}
