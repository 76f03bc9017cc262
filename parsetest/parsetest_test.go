package parsetest_test

import (
	"net/http"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/parsetest"
)

// The server answers with the fixture keys only, and each App is private.
func TestServerKeys(t *testing.T) {
	t.Parallel()
	srv := parsetest.NewServer(t)
	if status, _ := srv.Do(t, "GET", "/schemas", nil); status != http.StatusForbidden && status != http.StatusUnauthorized {
		t.Errorf("GET /schemas with the REST key: %d, want a refusal", status)
	}
	status, got := srv.Do(t, "GET", "/schemas", nil, "X-Parse-Master-Key", parsetest.MasterKey)
	if status != http.StatusOK {
		t.Fatalf("GET /schemas with the master key: %d %v", status, got)
	}
	if status, got := srv.Do(t, "GET", "/classes/GameScore", nil, "X-Parse-REST-API-Key", "wrong"); status != http.StatusForbidden {
		t.Errorf("a wrong REST key: %d %v, want 403", status, got)
	}
	if srv.App.Config().ServerURL != srv.URL {
		t.Errorf("ServerURL %q, want %q", srv.App.Config().ServerURL, srv.URL)
	}
}

func TestNewAppConfigure(t *testing.T) {
	t.Parallel()
	app := parsetest.NewApp(t, func(c *parse.Config) { c.AllowClientClassCreation = false })
	anonymous := parse.WithAuth(t.Context(), parse.Auth{})
	_, err := app.Objects.Create(anonymous, "NewClass", map[string]any{"a": 1})
	if parse.ErrorCode(err) != parse.OperationForbidden {
		t.Errorf("client class creation turned off: %v, want code %d", err, parse.OperationForbidden)
	}
	other := parsetest.NewApp(t)
	if _, err := other.Objects.Create(anonymous, "NewClass", map[string]any{"a": 1}); err != nil {
		t.Errorf("client class creation by default: %v", err)
	}
}
