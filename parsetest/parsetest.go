// Package parsetest gives a host program's tests a working parsego App with
// nothing to set up: NewApp returns one on a private in-memory embedded
// store, NewServer serves one over HTTP (httptest) in Parse's REST format.
// Both are cleaned up when the test ends.
//
//	func TestScores(t *testing.T) {
//		app := parsetest.NewApp(t)
//		score, err := app.Objects.Create(t.Context(), "GameScore", map[string]any{"score": 1337})
//		...
//	}
//
// The App has the keys of the conformance fixture app (AppID "APP",
// MasterKey "MASTER", RESTKey "REST", ...), lets clients create classes and
// upload files, and behaves as it does on PostgreSQL: the embedded store
// passes the same storage suite.
package parsetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
)

// The fixture keys.
const (
	AppID         = "APP"
	MasterKey     = "MASTER"
	RESTKey       = "REST"
	JavaScriptKey = "JS"
	ClientKey     = "CLIENT"
	DotNetKey     = "DOTNET"
)

// MountPath is where NewServer mounts the API.
const MountPath = "/parse"

// Config returns the configuration NewApp starts from: the fixture keys,
// client class creation and file uploads for everyone, and no Store (so
// the App opens a private in-memory one).
func Config() parse.Config {
	return parse.Config{
		AppID: AppID, MasterKey: MasterKey,
		RESTKey: RESTKey, JavaScriptKey: JavaScriptKey, ClientKey: ClientKey, DotNetKey: DotNetKey,
		AllowClientClassCreation: true,
		Files: parse.FilesConfig{Upload: &parse.FileUpload{
			EnableForPublic: true, EnableForAnonymousUser: true, EnableForAuthenticatedUser: true,
		}},
	}
}

// NewApp returns an App on a fresh in-memory store, closed when t ends.
// configure, if given, changes the Config (from Config()) first; a Store
// set there is used instead of the in-memory one.
func NewApp(t testing.TB, configure ...func(*parse.Config)) *parse.App {
	t.Helper()
	cfg := Config()
	for _, c := range configure {
		c(&cfg)
	}
	return newApp(t, cfg)
}

func newApp(t testing.TB, cfg parse.Config) *parse.App {
	t.Helper()
	app, err := parse.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("parsetest: %v", err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return app
}

// Server is an App served over HTTP.
type Server struct {
	// URL is the API's URL, mount path included: "http://127.0.0.1:port/parse".
	URL string
	App *parse.App
	srv *httptest.Server
}

// NewServer starts an httptest server with the REST API of a NewApp App at
// MountPath, stopped when t ends.
func NewServer(t testing.TB, configure ...func(*parse.Config)) *Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().(*net.TCPAddr).String() + MountPath
	cfg := Config()
	cfg.ServerURL = url
	for _, c := range configure {
		c(&cfg)
	}
	app := newApp(t, cfg)
	api := httpapi.New(app, httpapi.Options{MountPath: MountPath})
	mux := http.NewServeMux()
	mux.Handle(MountPath+"/", api)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &Server{URL: url, App: app, srv: srv}
}

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Do sends a request to the API with the application id and the REST key
// (and the given extra headers, such as X-Parse-Session-Token or
// X-Parse-Master-Key), body marshalled as JSON unless nil, and returns the
// status and the decoded JSON answer. path is relative to URL
// ("/classes/GameScore"). It fails t when the request can't be made or
// the answer is not JSON.
func (s *Server) Do(t testing.TB, method, path string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("parsetest: %s %s: %v", method, path, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, r)
	if err != nil {
		t.Fatalf("parsetest: %s %s: %v", method, path, err)
	}
	req.Header.Set("X-Parse-Application-Id", AppID)
	req.Header.Set("X-Parse-REST-API-Key", RESTKey)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("parsetest: %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("parsetest: %s %s: %d, answer not a JSON object: %v", method, path, res.StatusCode, err)
	}
	return res.StatusCode, out
}
