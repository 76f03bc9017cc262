package httpapi_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var tokenRE = regexp.MustCompile(`^r:[0-9a-f]{32}$`)

// recorder keeps every response body, to check that none leaks a secret.
type recorder struct {
	*env
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) do(q req) resp {
	r.t.Helper()
	res := r.env.do(q)
	r.mu.Lock()
	r.bodies = append(r.bodies, res.body)
	r.mu.Unlock()
	return res
}

// noSecrets fails when a recorded body carries a password or its hash.
func (r *recorder) noSecrets(passwords ...string) {
	r.t.Helper()
	for _, b := range r.bodies {
		for _, bad := range append([]string{`"password":`, `_hashed_password`, `$2a$`, `$2b$`, `$2y$`}, passwords...) {
			if bytes.Contains(b, []byte(bad)) {
				r.t.Fatalf("a response carries %q: %s", bad, b)
			}
		}
	}
}

func session(tok string) map[string]string { return map[string]string{"X-Parse-Session-Token": tok} }

// signUpHTTP signs a user up and returns its objectId and session token.
func (r *recorder) signUpHTTP(fields map[string]any) (id, tok string) {
	r.t.Helper()
	res := r.do(req{method: "POST", path: "/users", body: fields})
	res.expect(r.t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>","sessionToken":"<any>"}`)
	m := res.obj(r.t)
	id, tok = m["objectId"].(string), m["sessionToken"].(string)
	if !tokenRE.MatchString(tok) {
		r.t.Fatalf("token %q", tok)
	}
	if loc := res.header.Get("Location"); loc != r.url+"/users/"+id {
		r.t.Fatalf("Location %q", loc)
	}
	return id, tok
}

func TestUsersEndToEnd(t *testing.T) {
	t.Parallel()
	e := &recorder{env: newEnv(t)}
	id, tok := e.signUpHTTP(map[string]any{"username": "cooldude6", "password": "p_n7!-e8", "email": "cool@example.com", "phone": "415-392-0202"})
	acl := `{"` + id + `":{"read":true,"write":true}}`
	user := func(token string) string {
		return `{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","username":"cooldude6","email":"cool@example.com","phone":"415-392-0202","ACL":` + acl + `,"sessionToken":"` + token + `"}`
	}

	// Login, by GET and by POST, with the username or the email; a session
	// token sent to /login is ignored, even an invalid one.
	var tokens []string
	for _, q := range []req{
		{method: "GET", path: "/login?username=cooldude6&password=" + url.QueryEscape("p_n7!-e8")},
		{method: "POST", path: "/login", body: map[string]any{"username": "cooldude6", "password": "p_n7!-e8"}},
		{method: "POST", path: "/login", body: map[string]any{"email": "cool@example.com", "password": "p_n7!-e8"}},
		{method: "POST", path: "/login", body: map[string]any{"username": "cool@example.com", "password": "p_n7!-e8"}, headers: session("r:0123456789abcdef0123456789abcdef")},
		{method: "POST", path: "/login?username=cooldude6&password=" + url.QueryEscape("p_n7!-e8"), body: map[string]any{}},
	} {
		res := e.do(q)
		res.expect(t, http.StatusOK, user("<any>"))
		tokens = append(tokens, res.obj(t)["sessionToken"].(string))
	}
	e.do(req{method: "GET", path: "/users/me", headers: session(tok)}).expect(t, http.StatusOK, user(tok))
	e.do(req{method: "GET", path: "/users/" + id, headers: session(tokens[0])}).expect(t, http.StatusOK, user(tokens[0]))
	e.do(req{method: "GET", path: "/classes/_User/" + id, headers: session(tok)}).expect(t, http.StatusOK, user(tok))
	e.do(req{method: "GET", path: "/users/" + id}).expectError(t, http.StatusNotFound, 101, "Object not found.")
	e.do(req{method: "GET", path: "/users/" + id, auth: "master"}).expect(t, http.StatusOK,
		`{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","username":"cooldude6","email":"cool@example.com","phone":"415-392-0202","ACL":`+acl+`}`)
	e.do(req{method: "GET", path: "/users?where=" + url.QueryEscape(`{"username":"cooldude6"}`), headers: session(tok)}).expect(t, http.StatusOK,
		`{"results":[{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","username":"cooldude6","email":"cool@example.com","phone":"415-392-0202","ACL":`+acl+`}]}`)

	// Updates: the user itself only.
	e.do(req{method: "PUT", path: "/users/" + id, headers: session(tok), body: map[string]any{"phone": "555-0100"}}).
		expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)
	e.do(req{method: "PUT", path: "/users/" + id, body: map[string]any{"phone": "555-0199"}}).
		expectError(t, http.StatusBadRequest, 206, "")
	e.do(req{method: "PUT", path: "/users/" + id, headers: session(tok), body: map[string]any{"emailVerified": true}}).
		expectError(t, http.StatusBadRequest, 119, "")

	// A password change: a new token in the answer, every old one revoked.
	res := e.do(req{method: "PUT", path: "/classes/_User/" + id, headers: session(tok), body: map[string]any{"password": "n3w-pw"}})
	res.expect(t, http.StatusOK, `{"updatedAt":"<date>","sessionToken":"<any>"}`)
	fresh := res.obj(t)["sessionToken"].(string)
	if !tokenRE.MatchString(fresh) {
		t.Fatalf("new token %q", fresh)
	}
	for _, old := range append(tokens, tok) {
		e.do(req{method: "GET", path: "/users/me", headers: session(old)}).expectError(t, http.StatusBadRequest, 209, "Invalid session token")
	}
	e.do(req{method: "POST", path: "/login", body: map[string]any{"username": "cooldude6", "password": "p_n7!-e8"}}).
		expectError(t, http.StatusNotFound, 101, "Invalid username/password.")
	e.do(req{method: "GET", path: "/users/me", headers: session(fresh)}).expect(t, http.StatusOK,
		`{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","username":"cooldude6","email":"cool@example.com","phone":"555-0100","ACL":`+acl+`,"sessionToken":"`+fresh+`"}`)

	// Logout; then the token is refused.
	e.do(req{method: "POST", path: "/logout", headers: session(fresh)}).expect(t, http.StatusOK, `{}`)
	e.do(req{method: "GET", path: "/users/me", headers: session(fresh)}).expectError(t, http.StatusBadRequest, 209, "Invalid session token")
	e.do(req{method: "POST", path: "/logout"}).expect(t, http.StatusOK, `{}`)
	e.do(req{method: "POST", path: "/logout", headers: session(fresh)}).expectError(t, http.StatusBadRequest, 209, "Invalid session token")
	e.do(req{method: "GET", path: "/users/me"}).expectError(t, http.StatusBadRequest, 209, "")

	// Deletion: the user itself only; its sessions go with it.
	res = e.do(req{method: "POST", path: "/login", body: map[string]any{"username": "cooldude6", "password": "n3w-pw"}})
	last := res.obj(t)["sessionToken"].(string)
	e.do(req{method: "DELETE", path: "/users/" + id}).expectError(t, http.StatusBadRequest, 206, "Insufficient auth to delete user")
	e.do(req{method: "DELETE", path: "/users/" + id, headers: session(last)}).expect(t, http.StatusOK, `{}`)
	e.do(req{method: "GET", path: "/users/me", headers: session(last)}).expectError(t, http.StatusBadRequest, 209, "")
	e.do(req{method: "POST", path: "/login", body: map[string]any{"username": "cooldude6", "password": "n3w-pw"}}).
		expectError(t, http.StatusNotFound, 101, "Invalid username/password.")

	e.noSecrets("p_n7!-e8", "n3w-pw")
}

func TestUserErrorsHTTP(t *testing.T) {
	t.Parallel()
	e := &recorder{env: newEnv(t)}
	aID, aTok := e.signUpHTTP(map[string]any{"username": "uniqA", "password": "pw", "email": "uniqA@example.com"})
	bID, bTok := e.signUpHTTP(map[string]any{"username": "uniqB", "password": "pw"})
	for _, tc := range []struct {
		name         string
		q            req
		status, code int
		msg          string
	}{
		{"sign-up: username taken", req{method: "POST", path: "/users", body: map[string]any{"username": "UNIQA", "password": "pw"}}, 400, 202, "Account already exists for this username."},
		{"sign-up: email taken", req{method: "POST", path: "/users", body: map[string]any{"username": "uniqC", "password": "pw", "email": "UNIQA@example.com"}}, 400, 203, "Account already exists for this email address."},
		{"sign-up: no username", req{method: "POST", path: "/users", body: map[string]any{"password": "pw"}}, 400, 200, "bad or missing username"},
		{"sign-up: no password", req{method: "POST", path: "/users", body: map[string]any{"username": "uniqC"}}, 400, 201, "password is required"},
		{"sign-up: no body", req{method: "POST", path: "/users"}, 400, 200, "bad or missing username"},
		{"sign-up: invalid email", req{method: "POST", path: "/classes/_User", body: map[string]any{"username": "uniqC", "password": "pw", "email": "x"}}, 400, 125, "Email address format is invalid."},
		{"sign-up: emailVerified", req{method: "POST", path: "/users", body: map[string]any{"username": "uniqC", "password": "pw", "emailVerified": false}}, 400, 119, ""},
		{"sign-up: unknown provider", req{method: "POST", path: "/users", body: map[string]any{"authData": map[string]any{"myoauth": map[string]any{"id": "x"}}}}, 400, 252, "This authentication method is unsupported."},
		{"login: no username", req{method: "POST", path: "/login", body: map[string]any{"password": "pw"}}, 400, 200, "username/email is required."},
		{"login: no password", req{method: "GET", path: "/login?username=uniqA"}, 400, 201, "password is required."},
		{"login: password not a string", req{method: "POST", path: "/login", body: map[string]any{"username": "uniqA", "password": 5}}, 404, 101, "Invalid username/password."},
		{"login: username an object", req{method: "GET", path: "/login?username[a]=b&password=pw"}, 404, 101, "Invalid username/password."},
		{"login: wrong password", req{method: "GET", path: "/login?username=uniqA&password=nope"}, 404, 101, "Invalid username/password."},
		{"login: other case", req{method: "GET", path: "/login?username=UNIQA&password=pw"}, 404, 101, "Invalid username/password."},
		{"update: rename onto a taken name", req{method: "PUT", path: "/users/" + bID, headers: session(bTok), body: map[string]any{"username": "uniqa"}}, 400, 202, ""},
		{"update: another user", req{method: "PUT", path: "/users/" + aID, headers: session(bTok), body: map[string]any{"x": 1}}, 400, 206, ""},
		{"delete: another user", req{method: "DELETE", path: "/users/" + aID, headers: session(bTok)}, 400, 206, ""},
		{"get: another user", req{method: "GET", path: "/users/" + aID, headers: session(bTok)}, 404, 101, "Object not found."},
		{"query by email", req{method: "GET", path: "/users?where=" + url.QueryEscape(`{"email":"uniqA@example.com"}`), headers: session(bTok)}, 400, 119, ""},
		{"me: bad token", req{method: "GET", path: "/users/me", headers: session("r:0123456789abcdef0123456789abcdef")}, 400, 209, "Invalid session token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do(tc.q).expectError(t, tc.status, tc.code, tc.msg)
		})
	}
	// The user's own rename to another letter case is fine.
	e.do(req{method: "PUT", path: "/users/" + aID, headers: session(aTok), body: map[string]any{"username": "UniqA"}}).
		expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)
	e.noSecrets()
}

// Concurrent sign-ups over HTTP of one username in several letter cases:
// exactly one is created.
func TestConcurrentSignUpsHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(req{method: "POST", path: "/users", body: map[string]any{"username": "first", "password": "pw"}}).expect(t, 201, `"<any>"`)
	names := []string{"dup", "Dup", "DUP", "dUp", "duP", "DuP"}
	statuses := make([]int, len(names))
	codes := make([]string, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			res := e.do(req{method: "POST", path: "/users", body: map[string]any{"username": n, "password": "pw"}})
			statuses[i], codes[i] = res.status, string(res.body)
		})
	}
	wg.Wait()
	created := 0
	for i, s := range statuses {
		switch {
		case s == http.StatusCreated:
			created++
		case s != http.StatusBadRequest || !strings.Contains(codes[i], `"code":202`):
			t.Errorf("%s: %d %s", names[i], s, codes[i])
		}
	}
	if created != 1 {
		t.Fatalf("%d created, want 1: %v", created, codes)
	}
}

func TestUsersInBatchAndJSStyle(t *testing.T) {
	t.Parallel()
	e := &recorder{env: newEnv(t)}
	res := e.do(req{method: "POST", path: "/batch", body: map[string]any{"requests": []any{
		map[string]any{"method": "POST", "path": "/parse/users", "body": map[string]any{"username": "b1", "password": "pw"}},
		map[string]any{"method": "POST", "path": "/parse/classes/_User", "body": map[string]any{"username": "b2", "password": "pw"}},
		map[string]any{"method": "POST", "path": "/parse/users", "body": map[string]any{"username": "B1", "password": "pw"}},
	}}})
	res.expect(t, http.StatusOK, `[{"success":{"objectId":"<id>","createdAt":"<date>","sessionToken":"<any>"}},`+
		`{"success":{"objectId":"<id>","createdAt":"<date>","sessionToken":"<any>"}},`+
		`{"error":{"code":202,"error":"Account already exists for this username."}}]`)

	// The JavaScript SDK's transport: keys and installation id in the body.
	res = e.do(req{method: "POST", path: "/login", auth: "none", contentType: "text/plain", body: map[string]any{
		"_method": "GET", "_ApplicationId": "APP", "_JavaScriptKey": "JS", "_InstallationId": "inst-1", "username": "b1", "password": "pw"}})
	res.expect(t, http.StatusOK, `"<any>"`)
	tok := res.obj(t)["sessionToken"].(string)
	e.do(req{method: "POST", path: "/sessions/me", auth: "none", contentType: "text/plain", body: map[string]any{
		"_method": "GET", "_ApplicationId": "APP", "_JavaScriptKey": "JS", "_SessionToken": tok}}).
		expect(t, http.StatusOK, `{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","createdWith":{"action":"login","authProvider":"password"},`+
			`"expiresAt":{"__type":"Date","iso":"<date>"},"installationId":"inst-1","sessionToken":"`+tok+`","user":{"__type":"Pointer","className":"_User","objectId":"<id>"}}`)
	e.noSecrets()
}

func TestAnonymousUsersHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := map[string]any{"authData": map[string]any{"anonymous": map[string]any{"id": "anonA"}}}
	res := e.do(req{method: "POST", path: "/users", body: body})
	res.expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>","sessionToken":"<any>","username":"<any>","authDataResponse":{}}`)
	id := res.obj(t)["objectId"].(string)
	res = e.do(req{method: "POST", path: "/users", body: body})
	res.expect(t, http.StatusOK, `{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","username":"<any>","authData":{"anonymous":{"id":"anonA"}},`+
		`"ACL":{"`+id+`":{"read":true,"write":true}},"sessionToken":"<any>","authDataResponse":{}}`)
	if loc := res.header.Get("Location"); loc != e.url+"/users/"+id {
		t.Fatalf("Location %q", loc)
	}
	tok := res.obj(t)["sessionToken"].(string)
	e.do(req{method: "PUT", path: "/users/" + id, headers: session(tok), body: map[string]any{"authData": map[string]any{"anonymous": nil}}}).
		expect(t, http.StatusOK, `{"updatedAt":"<date>","authDataResponse":{}}`)
	e.do(req{method: "GET", path: "/users/me", headers: session(tok)}).expect(t, http.StatusOK,
		`{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","username":"<any>","ACL":{"`+id+`":{"read":true,"write":true}},"sessionToken":"`+tok+`"}`)
}

// A master-key sign-up gets no session unless it names an installation,
// as the reference's master key acts from the "cloud" installation.
func TestMasterSignUpSession(t *testing.T) {
	t.Parallel()
	e := &recorder{env: newEnv(t)}
	sessions := func() string {
		return string(e.do(req{method: "GET", path: "/sessions?count=1&limit=0", auth: "master"}).body)
	}
	e.do(req{method: "POST", path: "/users", auth: "master", body: map[string]any{"username": "byMaster", "password": "pw"}}).
		expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>"}`)
	e.do(req{method: "POST", path: "/classes/_User", auth: "master", body: map[string]any{"username": "byMaster2", "password": "pw"}}).
		expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>"}`)
	if got := sessions(); got != `{"results":[],"count":0}` {
		t.Fatalf("sessions after master sign-ups: %s", got)
	}
	e.do(req{method: "POST", path: "/users", auth: "master", headers: map[string]string{"X-Parse-Installation-Id": "dev-7"},
		body: map[string]any{"username": "byMaster3", "password": "pw"}}).
		expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>","sessionToken":"<any>"}`)
	// A client's sign-up gets its session, and a master-key login too.
	e.do(req{method: "POST", path: "/users", body: map[string]any{"username": "byClient", "password": "pw"}}).
		expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>","sessionToken":"<any>"}`)
	e.do(req{method: "POST", path: "/login", auth: "master", body: map[string]any{"username": "byMaster", "password": "pw"}}).
		expect(t, http.StatusOK, `"<any>"`)
	if got := sessions(); got != `{"results":[],"count":3}` {
		t.Fatalf("sessions: %s", got)
	}
}
