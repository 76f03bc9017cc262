package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestSessionsHTTP(t *testing.T) {
	t.Parallel()
	e := &recorder{env: newEnv(t)}
	uid, tok := e.signUpHTTP(map[string]any{"username": "sessUser", "password": "pw"})
	_, otherTok := e.signUpHTTP(map[string]any{"username": "sessOther", "password": "pw"})
	res := e.do(req{method: "POST", path: "/login", headers: map[string]string{"X-Parse-Installation-Id": "sessinst"},
		body: map[string]any{"username": "sessUser", "password": "pw"}})
	tok2 := res.obj(t)["sessionToken"].(string)
	userPtr := `{"__type":"Pointer","className":"_User","objectId":"` + uid + `"}`
	session2 := func(id string) string {
		return `{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","createdWith":{"action":"login","authProvider":"password"},` +
			`"expiresAt":{"__type":"Date","iso":"<date>"},"installationId":"sessinst","sessionToken":"` + tok2 + `","user":` + userPtr + `}`
	}

	res = e.do(req{method: "GET", path: "/sessions/me", headers: session(tok2)})
	res.expect(t, http.StatusOK, session2("<id>"))
	sid := res.obj(t)["objectId"].(string)
	e.do(req{method: "GET", path: "/sessions/" + sid, headers: session(tok)}).expect(t, http.StatusOK, session2(sid))
	e.do(req{method: "GET", path: "/sessions/" + sid, headers: session(otherTok)}).expectError(t, http.StatusNotFound, 101, "Object not found.")
	e.do(req{method: "GET", path: "/sessions?order=createdAt", headers: session(tok)}).expect(t, http.StatusOK,
		`{"results":[{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","createdWith":{"action":"signup","authProvider":"password"},`+
			`"expiresAt":{"__type":"Date","iso":"<date>"},"sessionToken":"`+tok+`","user":`+userPtr+`},`+session2(sid)+`]}`)
	e.do(req{method: "GET", path: "/classes/_Session?count=1&limit=0", headers: session(otherTok)}).expect(t, http.StatusOK, `{"results":[],"count":1}`)
	e.do(req{method: "GET", path: "/sessions"}).expectError(t, http.StatusBadRequest, 209, "")
	e.do(req{method: "GET", path: "/sessions/me"}).expectError(t, http.StatusBadRequest, 209, "Session token required.")
	e.do(req{method: "GET", path: "/sessions/me", headers: session("bogus")}).expectError(t, http.StatusBadRequest, 209, "Session token not found.")

	// POST /sessions: a restricted session of the caller.
	res = e.do(req{method: "POST", path: "/sessions", headers: session(tok), body: map[string]any{"deviceName": "laptop"}})
	res.expect(t, http.StatusCreated, `{"objectId":"<id>","createdWith":{"action":"create"},"deviceName":"laptop","expiresAt":{"__type":"Date","iso":"<date>"},`+
		`"sessionToken":"<any>","user":`+userPtr+`}`)
	created := res.obj(t)
	if loc := res.header.Get("Location"); loc != e.url+"/classes/_Session/"+created["objectId"].(string) {
		t.Fatalf("Location %q", loc)
	}
	rtok := created["sessionToken"].(string)
	e.do(req{method: "GET", path: "/users/me", headers: session(rtok)}).expect(t, http.StatusOK, `"<any>"`)
	e.do(req{method: "POST", path: "/sessions", body: map[string]any{}}).expectError(t, http.StatusBadRequest, 209, "Session token required.")
	e.do(req{method: "POST", path: "/classes/_Session", headers: session(tok), body: map[string]any{"ACL": map[string]any{}}}).
		expectError(t, http.StatusBadRequest, 105, "Cannot set ACL on a Session.")
	for _, f := range []string{"installationId", "sessionToken", "expiresAt", "createdWith"} {
		e.do(req{method: "PUT", path: "/sessions/" + sid, headers: session(tok), body: map[string]any{f: "x"}}).
			expectError(t, http.StatusBadRequest, 105, "Invalid key name: "+f)
	}

	// Updates and deletes of one's own sessions.
	e.do(req{method: "PUT", path: "/sessions/" + sid, headers: session(tok), body: map[string]any{"deviceName": "phone"}}).expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)
	e.do(req{method: "PUT", path: "/sessions/" + sid, headers: session(otherTok), body: map[string]any{"deviceName": "x"}}).expectError(t, http.StatusNotFound, 101, "")
	e.do(req{method: "DELETE", path: "/sessions/" + sid, headers: session(otherTok)}).expectError(t, http.StatusNotFound, 101, "Object not found for delete.")
	e.do(req{method: "DELETE", path: "/sessions/" + sid, headers: session(tok)}).expect(t, http.StatusOK, `{}`)
	e.do(req{method: "GET", path: "/users/me", headers: session(tok2)}).expectError(t, http.StatusBadRequest, 209, "Invalid session token")
	e.do(req{method: "DELETE", path: "/classes/_Session/" + sid, headers: session(tok)}).expectError(t, http.StatusNotFound, 101, "Object not found for delete.")

	// The master key sees every session, never an ACL.
	res = e.do(req{method: "GET", path: "/sessions?where=" + url.QueryEscape(`{"user":`+userPtr+`}`), auth: "master"})
	res.expect(t, http.StatusOK, `"<any>"`)
	if n := len(res.obj(t)["results"].([]any)); n != 2 {
		t.Fatalf("master sees %d sessions of the user, want 2: %s", n, res.body)
	}
	// The master key beside a session token: /users/me and /logout act on
	// the token, as the reference's do.
	master := map[string]string{"X-Parse-Master-Key": "MASTER", "X-Parse-Session-Token": tok}
	e.do(req{method: "GET", path: "/users/me", headers: master}).expect(t, http.StatusOK,
		`{"objectId":"`+uid+`","createdAt":"<date>","updatedAt":"<date>","username":"sessUser","ACL":{"`+uid+`":{"read":true,"write":true}},"sessionToken":"`+tok+`"}`)
	e.do(req{method: "GET", path: "/users/me", headers: map[string]string{"X-Parse-Master-Key": "MASTER", "X-Parse-Session-Token": "r:bogus"}}).
		expectError(t, http.StatusBadRequest, 209, "")
	e.do(req{method: "POST", path: "/logout", headers: master}).expect(t, http.StatusOK, `{}`)
	e.do(req{method: "GET", path: "/users/me", headers: session(tok)}).expectError(t, http.StatusBadRequest, 209, "Invalid session token")
	e.noSecrets()
}

// TestRestrictedSessionsHTTP: a session made with POST /sessions may read
// but not write _User, _Session or _Role, sees only restricted sessions,
// and may be paired once with an installation through PUT /sessions/me.
func TestRestrictedSessionsHTTP(t *testing.T) {
	t.Parallel()
	e := &recorder{env: newEnv(t)}
	uid, tok := e.signUpHTTP(map[string]any{"username": "rsOwner", "password": "pw"})
	res := e.do(req{method: "POST", path: "/sessions", headers: session(tok), body: map[string]any{"deviceName": "thermostat"}})
	res.expect(t, http.StatusCreated, `"<any>"`)
	rtok, rid := res.obj(t)["sessionToken"].(string), res.obj(t)["objectId"].(string)
	if _, shown := res.obj(t)["restricted"]; shown {
		t.Errorf("the session shows a restricted field, which the reference's never do: %v", res.obj(t))
	}
	forbidden := func(what string) func(resp) {
		return func(r resp) {
			r.expectError(t, http.StatusBadRequest, 119, "A restricted session cannot "+what+" objects.")
		}
	}
	for _, c := range []struct {
		r      req
		expect func(resp)
	}{
		{req{method: "PUT", path: "/users/" + uid, body: map[string]any{"nick": "x"}}, forbidden("update _User")},
		{req{method: "DELETE", path: "/users/" + uid}, forbidden("delete _User")},
		{req{method: "POST", path: "/users", body: map[string]any{"username": "rsNew", "password": "pw"}}, forbidden("create _User")},
		{req{method: "POST", path: "/sessions", body: map[string]any{}}, forbidden("create _Session")},
		{req{method: "PUT", path: "/sessions/" + rid, body: map[string]any{"deviceName": "x"}}, forbidden("update _Session")},
		{req{method: "DELETE", path: "/sessions/" + rid}, forbidden("delete _Session")},
		{req{method: "POST", path: "/roles", body: map[string]any{"name": "rsRole", "ACL": map[string]any{"*": map[string]any{"read": true}}}}, forbidden("create _Role")},
		{req{method: "POST", path: "/classes/Reading", body: map[string]any{"celsius": 21}}, func(r resp) { r.expect(t, http.StatusCreated, `"<any>"`) }},
		{req{method: "GET", path: "/users/me"}, func(r resp) { r.expect(t, http.StatusOK, `"<any>"`) }},
		{req{method: "GET", path: "/users/" + uid}, func(r resp) { r.expect(t, http.StatusOK, `"<any>"`) }},
		// Its own sessions, restricted ones only: not the login's.
		{req{method: "GET", path: "/sessions?keys=deviceName"}, func(r resp) {
			r.expect(t, http.StatusOK, `{"results":[{"objectId":"`+rid+`","createdAt":"<date>","updatedAt":"<date>","deviceName":"thermostat"}]}`)
		}},
	} {
		c.r.headers = session(rtok)
		c.expect(e.do(c.r))
	}
	// The unrestricted session sees both, and may write.
	e.do(req{method: "GET", path: "/sessions?count=1&limit=0", headers: session(tok)}).expect(t, http.StatusOK, `{"results":[],"count":2}`)
	e.do(req{method: "PUT", path: "/users/" + uid, headers: session(tok), body: map[string]any{"nick": "x"}}).expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)

	// Pairing with an installation: restricted sessions only, once.
	inst := func(tok, id string) map[string]string {
		h := session(tok)
		if id != "" {
			h["X-Parse-Installation-Id"] = id
		}
		return h
	}
	e.do(req{method: "PUT", path: "/sessions/me", headers: inst(tok, "dev-1"), body: map[string]any{}}).
		expectError(t, http.StatusBadRequest, 119, "Only a restricted session can be paired with an installation.")
	e.do(req{method: "PUT", path: "/sessions/me", headers: inst(rtok, ""), body: map[string]any{}}).
		expectError(t, http.StatusBadRequest, 135, "An installation id (X-Parse-Installation-Id) is required.")
	e.do(req{method: "PUT", path: "/sessions/me", body: map[string]any{}}).expectError(t, http.StatusBadRequest, 209, "Session token required.")
	e.do(req{method: "PUT", path: "/sessions/me", headers: inst(rtok, "dev-1"), body: map[string]any{}}).expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)
	e.do(req{method: "PUT", path: "/sessions/me", headers: inst(rtok, "dev-1"), body: map[string]any{}}).expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)
	e.do(req{method: "PUT", path: "/sessions/me", headers: inst(rtok, "dev-2"), body: map[string]any{}}).
		expectError(t, http.StatusBadRequest, 136, "This session is paired with another installation already.")
	res = e.do(req{method: "GET", path: "/sessions/me", headers: session(rtok)})
	if got := res.obj(t)["installationId"]; got != "dev-1" {
		t.Errorf("paired session's installationId = %v, want dev-1", got)
	}
	// Logging out ends the restricted session like any other.
	e.do(req{method: "POST", path: "/logout", headers: session(rtok)}).expect(t, http.StatusOK, `{}`)
	e.do(req{method: "GET", path: "/users/me", headers: session(rtok)}).expectError(t, http.StatusBadRequest, 209, "Invalid session token")
}
