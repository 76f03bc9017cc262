package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/storage"
)

// withSession stores a user "alice" (objectId alice00001) and her session
// token r:alice before the App starts: users and sessions can't be made
// through the API yet.
func withSession(t *testing.T) envOption {
	return func(cfg *parse.Config, _ *httpapi.Options) {
		ctx := context.Background()
		st := cfg.Store
		if _, err := st.AddFields(ctx, parse.ClassUser, map[string]storage.Field{"username": {Type: "String"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddFields(ctx, parse.ClassSession, map[string]storage.Field{
			"sessionToken": {Type: "String"}, "user": {Type: "Pointer", TargetClass: parse.ClassUser}, "expiresAt": {Type: "Date"},
		}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		if err := st.Insert(ctx, parse.ClassUser, storage.Object{ID: "alice00001", CreatedAt: now, UpdatedAt: now,
			ReadPerm: []string{"*"}, WritePerm: []string{"alice00001"}, Data: json.RawMessage(`{"username":"alice"}`)}); err != nil {
			t.Fatal(err)
		}
		exp := parse.FormatDate(now.Add(time.Hour))
		if err := st.Insert(ctx, parse.ClassSession, storage.Object{ID: "sess000001", CreatedAt: now, UpdatedAt: now,
			ReadPerm: []string{}, WritePerm: []string{}, Data: json.RawMessage(`{"sessionToken":"r:alice",` +
				`"user":{"__type":"Pointer","className":"_User","objectId":"alice00001"},` +
				`"expiresAt":{"__type":"Date","iso":"` + exp + `"}}`)}); err != nil {
			t.Fatal(err)
		}
	}
}

func basic(user, pass string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
}

// TestKeys runs one query (the public object and, with the master key or
// alice's session, the private ones) with every way of presenting keys.
func TestKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSession(t))
	pub := e.create("KeyObj", map[string]any{"v": "public"})
	mine := e.create("KeyObj", map[string]any{"v": "alice's", "ACL": map[string]any{"alice00001": map[string]any{"read": true}}})
	priv := e.create("KeyObj", map[string]any{"v": "master's", "ACL": map[string]any{}})

	const (
		public = iota + 1
		alice
		master
	)
	query := `"where":{},"order":"v","keys":"v"`
	cases := []struct {
		name string
		r    req
		sees int // 0: refused with 403 unauthorized
	}{
		{"REST key", req{}, public},
		{"JavaScript key", req{auth: "js"}, public},
		{"client key", req{auth: "client"}, public},
		{".NET key", req{auth: "dotnet"}, public},
		{"master key", req{auth: "master"}, master},
		{"no keys", req{auth: "none"}, 0},
		{"application id only", req{auth: "app"}, 0},
		{"wrong application id", req{auth: "none", headers: map[string]string{"X-Parse-Application-Id": "NOPE", "X-Parse-REST-API-Key": "REST"}}, 0},
		{"wrong REST key", req{auth: "app", headers: map[string]string{"X-Parse-REST-API-Key": "WRONG"}}, 0},
		{"wrong master key alone", req{auth: "app", headers: map[string]string{"X-Parse-Master-Key": "WRONG"}}, 0},
		{"wrong master key beside a client key is ignored", req{headers: map[string]string{"X-Parse-Master-Key": "WRONG"}}, public},
		{"session token", req{headers: map[string]string{"X-Parse-Session-Token": "r:alice"}}, alice},
		{"master key with a stale session token", req{auth: "master", headers: map[string]string{"X-Parse-Session-Token": "r:stale"}}, master},

		{"basic javascript-key", req{auth: "none", headers: basic("APP", "javascript-key=JS")}, public},
		{"basic master key", req{auth: "none", headers: basic("APP", "MASTER")}, master},
		{"basic lower-case scheme", req{auth: "none", headers: map[string]string{"Authorization": "basic " + base64.RawStdEncoding.EncodeToString([]byte("APP:MASTER"))}}, master},
		{"basic REST key is not a key", req{auth: "none", headers: basic("APP", "rest-api-key=REST")}, 0},
		{"basic wrong javascript-key", req{auth: "none", headers: basic("APP", "javascript-key=WRONG")}, 0},
		{"basic unknown application", req{auth: "none", headers: basic("NOPE", "javascript-key=JS")}, 0},
		{"basic with a colon in the key", req{auth: "none", headers: basic("APP", "MAS:TER")}, 0},

		{"body keys", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_JavaScriptKey":"JS","_ClientVersion":"js8.6.2","_InstallationId":"inst","_RevocableSession":"1",` + query + `}`}, public},
		{"body master key", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_MasterKey":"MASTER",` + query + `}`}, master},
		{"body client key", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_ClientKey":"CLIENT",` + query + `}`}, public},
		{"body session token", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_JavaScriptKey":"JS","_SessionToken":"r:alice",` + query + `}`}, alice},
		{"body context", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_JavaScriptKey":"JS","_context":"{\"a\":1}",` + query + `}`}, public},
		{"body keys beside a wrong header application id", req{auth: "none", headers: map[string]string{"X-Parse-Application-Id": "NOPE"}, contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_JavaScriptKey":"JS",` + query + `}`}, public},
		{"body wrong JavaScript key", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_JavaScriptKey":"WRONG",` + query + `}`}, 0},
		{"body unknown application", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"NOPE","_JavaScriptKey":"JS",` + query + `}`}, 0},
		{"body without application id", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_JavaScriptKey":"JS",` + query + `}`}, 0},
		{"body application id beside a wrong header master key", req{auth: "none", headers: map[string]string{"X-Parse-Master-Key": "WRONG"}, contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_JavaScriptKey":"JS",` + query + `}`}, 0},
		{"body session token not a string", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_JavaScriptKey":"JS","_SessionToken":5,` + query + `}`}, 0},
		{"body installation id not a string", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_JavaScriptKey":"JS","_InstallationId":{},` + query + `}`}, 0},
		{"body master key not a string", req{auth: "none", contentType: "text/plain", body: `{"_method":"GET","_ApplicationId":"APP","_JavaScriptKey":"JS","_MasterKey":true,` + query + `}`}, 0},
	}
	pubJSON := `{"objectId":"` + pub + `","createdAt":"<date>","updatedAt":"<date>","v":"public"}`
	mineJSON := `{"objectId":"` + mine + `","createdAt":"<date>","updatedAt":"<date>","v":"alice's","ACL":{"alice00001":{"read":true}}}`
	privJSON := `{"objectId":"` + priv + `","createdAt":"<date>","updatedAt":"<date>","v":"master's","ACL":{}}`
	results := map[int]string{
		public: `{"results":[` + pubJSON + `]}`,
		alice:  `{"results":[` + mineJSON + `,` + pubJSON + `]}`,
		master: `{"results":[` + mineJSON + `,` + privJSON + `,` + pubJSON + `]}`,
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := c.r
			if r.body == nil {
				r.method, r.path = "GET", "/classes/KeyObj?"+encodeQuery(`order=v&keys=v`)
			} else {
				r.method, r.path = "POST", "/classes/KeyObj"
			}
			res := e.do(r)
			if c.sees == 0 {
				expectUnauthorized(t, res)
				return
			}
			res.expect(t, http.StatusOK, results[c.sees])
		})
	}
}

// expectUnauthorized checks the reference's raw 403: no Content-Type.
func expectUnauthorized(t *testing.T, r resp) {
	t.Helper()
	if r.status != http.StatusForbidden || string(r.body) != `{"error":"unauthorized"}` {
		t.Fatalf("got %d %s, want 403 unauthorized", r.status, r.body)
	}
	if ct, ok := r.header["Content-Type"]; ok {
		t.Fatalf("Content-Type %q on the 403", ct)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("no CORS headers on the 403: %v", r.header)
	}
}

// TestBadSessionToken: an invalid session token is 209 wherever it is
// sent, known routes or not, and nothing is written.
func TestBadSessionToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSession(t))
	bad := map[string]string{"X-Parse-Session-Token": "r:0123456789abcdef0123456789abcdef"}
	for _, r := range []req{
		{method: "GET", path: "/classes/BadTok"},
		{method: "POST", path: "/classes/BadTok", body: map[string]any{"a": 1}},
		{method: "GET", path: "/classes/BadTok/aaaaaaaaaa"},
		{method: "POST", path: "/batch", body: map[string]any{"requests": []any{map[string]any{"method": "POST", "path": "/parse/classes/BadTok", "body": map[string]any{}}}}},
		{method: "GET", path: "/users/me"},
		{method: "POST", path: "/functions/hello", body: map[string]any{}},
		{method: "POST", path: "/logout"},
		{method: "GET", path: "/nowhere"},
		{method: "POST", path: "/classes/BadTok", auth: "none", contentType: "text/plain", body: `{"_ApplicationId":"APP","_JavaScriptKey":"JS","_SessionToken":"bogus","a":1}`},
	} {
		if r.headers == nil && r.auth != "none" {
			r.headers = bad
		}
		e.do(r).expectError(t, http.StatusBadRequest, 209, "Invalid session token")
	}
	// GET /sessions/me looks its token up itself, with its own message.
	e.do(req{method: "GET", path: "/sessions/me", headers: bad}).expectError(t, http.StatusBadRequest, 209, "Session token not found.")
	if e.classExists("BadTok") {
		t.Fatal("a class was created")
	}
}

// TestTransportFieldsRemoved: the JavaScript SDK's body fields never reach
// the object, even when the headers carry the keys.
func TestTransportFieldsRemoved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(req{method: "POST", path: "/classes/Transport", body: `{"a":1,"_ApplicationId":"APP","_JavaScriptKey":"JS",
		"_ClientVersion":"js8","_InstallationId":"i","_RevocableSession":"1","_context":{"x":1},"_noBody":true,"_ClientKey":"c","_SessionToken":"r:x","_MasterKey":"M"}`})
	r.expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>"}`)
	id := r.obj(t)["objectId"].(string)
	e.do(req{method: "GET", path: "/classes/Transport/" + id}).
		expect(t, http.StatusOK, `{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","a":1}`)
	// Other underscored fields are still invalid field names.
	e.do(req{method: "POST", path: "/classes/Transport", body: `{"_private":1}`}).
		expectError(t, http.StatusBadRequest, 105, "Invalid field name: _private.")
}

func TestContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, r := range []req{
		{method: "GET", path: "/classes/Ctx", headers: map[string]string{"X-Parse-Cloud-Context": "[1]"}},
		{method: "GET", path: "/classes/Ctx", headers: map[string]string{"X-Parse-Cloud-Context": "nope"}},
		{method: "POST", path: "/classes/Ctx", body: `{"_context":"[1]","a":1}`},
		{method: "POST", path: "/classes/Ctx", body: `{"_context":5,"a":1}`},
	} {
		e.do(r).expectError(t, http.StatusBadRequest, 107, "Invalid object for context.")
	}
	e.do(req{method: "GET", path: "/classes/Ctx", headers: map[string]string{"X-Parse-Cloud-Context": `{"a":1}`}}).
		expect(t, http.StatusOK, `{"results":[]}`)
	if e.classExists("Ctx") {
		t.Fatal("a class was created")
	}
}
