package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/internal/pgtest"
)

// hostEnv is a Host serving two Apps, A and B, each on its own database
// namespace, under /parse, with the Apps API's account configured.
type hostEnv struct {
	t    *testing.T
	url  string
	a, b *parse.App
}

func newHostEnv(t *testing.T, withDefault bool) *hostEnv {
	t.Helper()
	ctx := context.Background()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	open := func(cfg parse.Config) *parse.App {
		if cfg.Store == nil {
			cfg.Store = pgtest.NewStore(t)
		}
		cfg.ServerURL = srv.URL + "/parse"
		app, err := parse.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		return app
	}
	a := open(parse.Config{AppID: "A", MasterKey: "MASTER-A", RESTKey: "REST-A", JavaScriptKey: "JS-A", AllowClientClassCreation: true})
	b := open(parse.Config{AppID: "B", MasterKey: "MASTER-B", RESTKey: "REST-B", AllowClientClassCreation: true})
	apps := httpapi.NewAppSet(a, b)
	apps.New = func(ctx context.Context, cfg parse.Config) (*parse.App, error) { return open(cfg), nil }
	opts := httpapi.HostOptions{
		Options: httpapi.Options{MountPath: "/parse"},
		Apps:    apps,
		Account: httpapi.Account{Email: "owner@example.com", Password: "owner-password", Key: "ACCOUNTKEY"},
	}
	if withDefault {
		opts.Default = a
	}
	host := httpapi.NewHost(opts)
	srv.Config.Handler = host
	return &hostEnv{t: t, url: srv.URL + "/parse", a: a, b: b}
}

// send makes a request with the given headers and answers its status and
// body.
func (e *hostEnv) send(method, path, body string, headers ...string) (int, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestHostRoutesByApplicationID(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t, false)
	status, body := e.send("POST", "/classes/Pet", `{"name":"rex"}`, "X-Parse-Application-Id", "A", "X-Parse-REST-API-Key", "REST-A")
	if status != 201 {
		t.Fatalf("create in A: %d %s", status, body)
	}
	// The JavaScript SDK's transport: the app id in a text/plain body.
	status, body = e.send("POST", "/classes/Pet", `{"_method":"GET","_ApplicationId":"A","_JavaScriptKey":"JS-A","where":{"name":"rex"}}`,
		"Content-Type", "text/plain")
	if status != 200 || !strings.Contains(body, `"rex"`) {
		t.Fatalf("tunnelled find in A: %d %s", status, body)
	}
	// B is another app with its own data and keys.
	status, body = e.send("GET", "/classes/Pet", "", "X-Parse-Application-Id", "B", "X-Parse-REST-API-Key", "REST-B")
	if status != 200 || body != `{"results":[]}` {
		t.Fatalf("find in B: %d %s", status, body)
	}
	for _, h := range [][]string{
		{"X-Parse-Application-Id", "B", "X-Parse-REST-API-Key", "REST-A"}, // A's key on B
		{"X-Parse-Application-Id", "C", "X-Parse-REST-API-Key", "REST-A"}, // no such app
		{}, // no app at all
	} {
		if status, body := e.send("GET", "/classes/Pet", "", h...); status != 403 || body != `{"error":"unauthorized"}` {
			t.Fatalf("%v: %d %s", h, status, body)
		}
	}
	// HTTP Basic names the app too; /health and preflights need none.
	r, _ := http.NewRequest("GET", e.url+"/classes/Pet", nil)
	r.SetBasicAuth("A", "MASTER-A")
	res, err := http.DefaultClient.Do(r)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("basic auth: %v %v", res, err)
	}
	res.Body.Close()
	if status, body := e.send("OPTIONS", "/classes/Pet", ""); status != 200 || body != "OK" {
		t.Fatalf("preflight: %d %s", status, body)
	}
}

// TestHostDefault: with a default App, requests that name no app are
// answered as that App's own handler answers them.
func TestHostDefault(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t, true)
	for _, c := range []struct{ method, path, body, want string }{
		{"GET", "/health", "", `{"status":"ok"}`},
		{"POST", "/classes/Pet", "{nope", `{"code":107,"error":"Invalid JSON"}`},
		{"GET", "/classes/Pet", "", `{"error":"unauthorized"}`},
	} {
		if _, body := e.send(c.method, c.path, c.body); body != c.want {
			t.Fatalf("%s %s: %s, want %s", c.method, c.path, body, c.want)
		}
	}
	// An app that does exist is still chosen by its id.
	if status, body := e.send("GET", "/classes/Pet", "", "X-Parse-Application-Id", "B", "X-Parse-Master-Key", "MASTER-B"); status != 200 {
		t.Fatalf("B through a host with a default: %d %s", status, body)
	}
}

func TestAppsAPI(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t, false)
	owner := []string{"X-Parse-Email", "owner@example.com", "X-Parse-Password", "owner-password"}
	key := []string{"X-Parse-Account-Key", "ACCOUNTKEY"}

	// Wrong or missing credentials: 403, for every route.
	for _, creds := range [][]string{
		nil,
		{"X-Parse-Email", "owner@example.com", "X-Parse-Password", "wrong"},
		{"X-Parse-Email", "other@example.com", "X-Parse-Password", "owner-password"},
		{"X-Parse-Email", "owner@example.com"},
		{"X-Parse-Account-Key", "ACCOUNTKEY2"},
		{"X-Parse-Account-Key", "wrong", "X-Parse-Email", "owner@example.com", "X-Parse-Password", "owner-password"},
		{"X-Parse-Application-Id", "A", "X-Parse-Master-Key", "MASTER-A"}, // an app's keys are not an account
	} {
		for _, r := range [][2]string{{"GET", "/apps"}, {"GET", "/apps/A"}, {"PUT", "/apps/A"}, {"POST", "/apps"}} {
			if status, body := e.send(r[0], r[1], `{"appName":"x","clientPushEnabled":true}`, creds...); status != 403 || body != `{"error":"unauthorized"}` {
				t.Fatalf("%s %s with %v: %d %s", r[0], r[1], creds, status, body)
			}
		}
	}
	if s, _ := e.a.Settings(context.Background()); s.ClientPushEnabled {
		t.Fatal("a refused PUT changed a setting")
	}

	appA := `{"appName":"","applicationId":"A","clientClassCreationEnabled":true,"clientKey":"","clientPushEnabled":false,
		"javascriptKey":"JS-A","masterKey":"MASTER-A","requireRevocableSessions":true,"restKey":"REST-A",
		"revokeSessionOnPasswordChange":true,"webhookKey":"","windowsKey":""}`
	appB := `{"appName":"","applicationId":"B","clientClassCreationEnabled":true,"clientKey":"","clientPushEnabled":false,
		"javascriptKey":"","masterKey":"MASTER-B","requireRevocableSessions":true,"restKey":"REST-B",
		"revokeSessionOnPasswordChange":true,"webhookKey":"","windowsKey":""}`
	expect := func(what string, status int, body string, wantStatus int, want string) {
		t.Helper()
		if status != wantStatus {
			t.Fatalf("%s: status %d, want %d: %s", what, status, wantStatus, body)
		}
		var g, w any
		if err := json.Unmarshal([]byte(body), &g); err != nil {
			t.Fatalf("%s: %s", what, body)
		}
		json.Unmarshal([]byte(want), &w)
		if diff := jsonDiff(what, w, g); diff != "" {
			t.Fatalf("%s\n got: %s\nwant: %s", diff, body, want)
		}
	}
	s, b := e.send("GET", "/apps", "", owner...)
	expect("list", s, b, 200, `{"results":[`+appA+`,`+appB+`]}`)
	r, _ := http.NewRequest("GET", e.url+"/apps/A", nil)
	r.Header.Set("X-Parse-Account-Key", "ACCOUNTKEY")
	if res, err := http.DefaultClient.Do(r); err != nil || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /apps/A: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	s, b = e.send("GET", "/apps/B", "", key...)
	expect("get", s, b, 200, appB)
	s, b = e.send("GET", "/apps/Z", "", key...)
	expect("get unknown", s, b, 404, `{"code":101,"error":"App not found."}`)

	// Settings changes are stored with the app and take effect.
	s, b = e.send("PUT", "/apps/A", `{"appName":"Pets","clientClassCreationEnabled":false,"clientPushEnabled":true,"revokeSessionOnPasswordChange":false}`, key...)
	expect("update", s, b, 200, strings.Replace(strings.Replace(strings.Replace(strings.Replace(appA,
		`"appName":""`, `"appName":"Pets"`, 1), `"clientClassCreationEnabled":true`, `"clientClassCreationEnabled":false`, 1),
		`"clientPushEnabled":false`, `"clientPushEnabled":true`, 1), `"revokeSessionOnPasswordChange":true`, `"revokeSessionOnPasswordChange":false`, 1))
	s, b = e.send("POST", "/classes/NewClass", `{"n":1}`, "X-Parse-Application-Id", "A", "X-Parse-REST-API-Key", "REST-A")
	expect("client class creation off", s, b, 400, `{"code":119,"error":"This user is not allowed to access non-existent class: NewClass"}`)
	s, b = e.send("POST", "/classes/NewClass", `{"n":1}`, "X-Parse-Application-Id", "B", "X-Parse-REST-API-Key", "REST-B")
	if s != 201 {
		t.Fatalf("class creation in B: %d %s", s, b)
	}
	// A password change keeps the user's other sessions now.
	s, b = e.send("POST", "/users", `{"username":"u","password":"p1"}`, "X-Parse-Application-Id", "A", "X-Parse-REST-API-Key", "REST-A")
	var user struct{ ObjectID, SessionToken string }
	json.Unmarshal([]byte(b), &user)
	s, b = e.send("PUT", "/users/"+user.ObjectID, `{"password":"p2"}`,
		"X-Parse-Application-Id", "A", "X-Parse-REST-API-Key", "REST-A", "X-Parse-Session-Token", user.SessionToken)
	if s != 200 || strings.Contains(b, "sessionToken") {
		t.Fatalf("password change: %d %s", s, b)
	}
	if s, b = e.send("GET", "/users/me", "", "X-Parse-Application-Id", "A", "X-Parse-REST-API-Key", "REST-A", "X-Parse-Session-Token", user.SessionToken); s != 200 {
		t.Fatalf("the old session after a password change: %d %s", s, b)
	}

	for _, c := range []struct{ method, path, body, want string }{
		{"PUT", "/apps/A", `{"clientPushEnabled":"yes"}`, `{"code":111,"error":"clientPushEnabled must be a boolean."}`},
		{"PUT", "/apps/A", `{"masterKey":"mine"}`, `{"code":105,"error":"masterKey is not an app setting that can be changed."}`},
		{"PUT", "/apps/A", `[1]`, `{"code":107,"error":"Invalid JSON"}`},
		{"POST", "/apps", `{"clientPushEnabled":true}`, `{"code":135,"error":"appName is required."}`},
		{"DELETE", "/apps/A", ``, `{"code":107,"error":"DELETE is not an Apps API request."}`},
	} {
		s, b = e.send(c.method, c.path, c.body, owner...)
		expect(c.method+" "+c.body, s, b, 400, c.want)
	}

	// A new app gets random keys, works at once, and is listed.
	s, b = e.send("POST", "/apps", `{"appName":"Fresh","clientPushEnabled":true}`, owner...)
	var fresh struct {
		ApplicationID, RESTKey, MasterKey string
		ClientPushEnabled                 bool
		ClientClassCreationEnabled        bool
	}
	json.Unmarshal([]byte(b), &fresh)
	if s != 201 || len(fresh.ApplicationID) != 40 || len(fresh.RESTKey) != 40 || fresh.MasterKey == fresh.RESTKey ||
		!fresh.ClientPushEnabled || !fresh.ClientClassCreationEnabled {
		t.Fatalf("create: %d %s", s, b)
	}
	s, b = e.send("POST", "/classes/Pet", `{"name":"new"}`, "X-Parse-Application-Id", fresh.ApplicationID, "X-Parse-REST-API-Key", fresh.RESTKey)
	if s != 201 {
		t.Fatalf("create in the new app: %d %s", s, b)
	}
	if _, b = e.send("GET", "/apps", "", key...); strings.Count(b, `"applicationId"`) != 3 || !strings.Contains(b, `"appName":"Fresh"`) {
		t.Fatalf("list after create: %s", b)
	}
}

// TestAppSettingsSharedByInstances changes a setting through one App and
// sees it take effect on another instance of it at once.
func TestAppSettingsSharedByInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	open := func() *parse.App {
		app, err := parse.New(ctx, parse.Config{AppID: "A", MasterKey: "M", Store: store, AllowClientClassCreation: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		return app
	}
	one, two := open(), open()
	off := false
	if _, err := one.UpdateSettings(ctx, parse.SettingsUpdate{ClientClassCreationEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	client := parse.WithAuth(ctx, parse.Auth{})
	_, err := two.Objects.Create(client, "Fresh", map[string]any{"n": 1})
	if parse.ErrorCode(err) != parse.OperationForbidden {
		t.Fatalf("create on the other instance: %v", err)
	}
	if _, err := two.UpdateSettings(client, parse.SettingsUpdate{ClientClassCreationEnabled: &off}); err != parse.ErrMasterKeyRequired {
		t.Fatalf("client settings update: %v", err)
	}
}

// BenchmarkHostGet is BenchmarkGet through a Host of two apps with the
// Apps API on, as examples/server serves: the difference is the cost of
// choosing the app.
func BenchmarkHostGet(b *testing.B) {
	_, app := benchHandler(b)
	other, err := parse.New(context.Background(), parse.Config{AppID: "OTHER", MasterKey: "M", Store: pgtest.NewStore(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { other.Close() })
	h := httpapi.NewHost(httpapi.HostOptions{Apps: httpapi.NewAppSet(other, app), Default: app,
		Account: httpapi.Account{Key: "ACCOUNTKEY"}})
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
