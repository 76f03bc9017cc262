package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
)

func TestServerInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(req{method: "GET", path: "/serverInfo"}).expect(t, http.StatusForbidden, `{"error":"Permission denied"}`)
	// The dashboard tunnels it.
	info := e.do(req{method: "POST", path: "/serverInfo", auth: "none", contentType: "text/plain",
		body: `{"_method":"GET","_ApplicationId":"APP","_MasterKey":"MASTER","_ClientVersion":"js8.5.0"}`}).obj(t)
	if info["parseServerVersion"] != httpapi.ParseServerVersion {
		t.Fatalf("serverInfo: %v", info)
	}
	features := info["features"].(map[string]any)
	if features["globalConfig"].(map[string]any)["update"] != true || features["logs"].(map[string]any)["level"] != true ||
		features["schemas"].(map[string]any)["editClassLevelPermissions"] != true {
		t.Fatalf("features: %v", features)
	}
}

func TestScriptLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *parse.Config, _ *httpapi.Options) { c.LogLines = 4 })
	e.app.Functions.Define("fail", func(context.Context, parse.FunctionRequest) (any, error) {
		return nil, parse.NewError(parse.ScriptFailed, "failed on purpose")
	})
	e.app.Functions.Define("boom", func(context.Context, parse.FunctionRequest) (any, error) {
		return nil, errors.New("plain error")
	})
	e.do(req{method: "POST", path: "/functions/fail", body: `{"marker":"mark_1"}`}).expectError(t, 400, 141, "failed on purpose")
	want := `[{"level":"error","timestamp":"<date>","functionName":"fail","user":"undefined",
		"message":"Failed running cloud function fail for user undefined with:\n  Input: {\"marker\":\"mark_1\"}\n  Error: {\"message\":\"failed on purpose\",\"code\":141}",
		"error":{"message":"failed on purpose","code":141},"params":{"marker":"mark_1"}}]`
	e.do(req{method: "GET", path: "/scriptlog?level=error&n=1", auth: "master"}).expect(t, http.StatusOK, want)
	// As the dashboard asks: tunnelled, the query in the body.
	e.do(req{method: "POST", path: "/scriptlog", auth: "none", contentType: "text/plain",
		body: `{"_method":"GET","_ApplicationId":"APP","_MasterKey":"MASTER","level":"error","n":1}`}).expect(t, http.StatusOK, want)
	e.do(req{method: "GET", path: "/scriptlog"}).expect(t, http.StatusForbidden, `{"error":"Permission denied"}`)

	e.do(req{method: "POST", path: "/functions/boom", body: `{}`}).expectError(t, 400, 141, "plain error")
	for i := range 3 {
		e.app.Logger().Info(fmt.Sprintf("line %d", i), "n", i, slog.Group("req", "m", "GET"))
	}
	e.app.Logger().Debug("not kept")
	// Info shows every level from info up, newest first; only the last
	// four lines are kept.
	lines := e.do(req{method: "GET", path: "/scriptlog?size=10", auth: "master"}).json(t).([]any)
	var msgs []string
	for _, l := range lines {
		msgs = append(msgs, strings.SplitN(l.(map[string]any)["message"].(string), " with", 2)[0])
	}
	if got := strings.Join(msgs, "|"); got != "line 2|line 1|line 0|Failed running cloud function boom for user undefined" {
		t.Fatalf("info lines: %s", got)
	}
	e.do(req{method: "GET", path: "/scriptlog?size=2&order=asc", auth: "master"}).expect(t, http.StatusOK,
		`[{"level":"error","timestamp":"<date>","functionName":"boom","user":"undefined","message":"<any>","error":{"message":"plain error","code":141},"params":{}},
		  {"level":"info","timestamp":"<date>","message":"line 0","n":0,"req.m":"GET"}]`)
	e.do(req{method: "GET", path: "/scriptlog?level=error&until=2001-01-01T00:00:00.000Z", auth: "master"}).expect(t, http.StatusOK, `[]`)
}
