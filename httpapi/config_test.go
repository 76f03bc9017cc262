package httpapi_test

import (
	"net/http"
	"testing"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Nothing saved yet: no masterKeyOnly, as the reference answers.
	e.do(req{method: "GET", path: "/config"}).expect(t, http.StatusOK, `{"params":{}}`)

	steps := []struct {
		name   string
		r      req
		status int
		want   string
	}{
		{"put without the master key", req{method: "PUT", path: "/config", body: `{"params":{"x":1}}`}, 403, `{"error":"Permission denied"}`},
		{"put", req{method: "PUT", path: "/config", auth: "master", body: `{"params":{"welcome":"hi","limit":10,
			"when":{"__type":"Date","iso":"2022-01-02T03:04:05.678Z"},"secret":{"k":[1,2]}},"masterKeyOnly":{"secret":true}}`}, 200, `{"result":true}`},
		{"client read hides the secret", req{method: "GET", path: "/config", auth: "js"}, 200,
			`{"params":{"welcome":"hi","limit":10,"when":{"__type":"Date","iso":"2022-01-02T03:04:05.678Z"}},
			"masterKeyOnly":{"welcome":false,"limit":false,"when":false}}`},
		{"master read shows it", req{method: "GET", path: "/config", auth: "master"}, 200,
			`{"params":{"welcome":"hi","limit":10,"when":{"__type":"Date","iso":"2022-01-02T03:04:05.678Z"},"secret":{"k":[1,2]}},
			"masterKeyOnly":{"welcome":false,"limit":false,"when":false,"secret":true}}`},
		{"increment and delete", req{method: "PUT", path: "/config", auth: "master", body: `{"params":{"limit":{"__op":"Increment","amount":2},"welcome":{"__op":"Delete"}}}`}, 200, `{"result":true}`},
		{"after", req{method: "GET", path: "/config", auth: "master"}, 200,
			`{"params":{"limit":12,"when":{"__type":"Date","iso":"2022-01-02T03:04:05.678Z"},"secret":{"k":[1,2]}},
			"masterKeyOnly":{"limit":false,"when":false,"secret":true}}`},
		{"saving without the flag makes a param public", req{method: "PUT", path: "/config", auth: "master", body: `{"params":{"secret":"open"}}`}, 200, `{"result":true}`},
		{"client sees it", req{method: "GET", path: "/config", auth: "rest"}, 200,
			`{"params":{"limit":12,"when":{"__type":"Date","iso":"2022-01-02T03:04:05.678Z"},"secret":"open"},
			"masterKeyOnly":{"limit":false,"when":false,"secret":false}}`},
		{"increment a string", req{method: "PUT", path: "/config", auth: "master", body: `{"params":{"secret":{"__op":"Increment","amount":1}}}`}, 400, `{"code":111,"error":"<any>"}`},
		{"dotted name", req{method: "PUT", path: "/config", auth: "master", body: `{"params":{"a.b":1}}`}, 400, `{"code":105,"error":"Invalid parameter name: a.b"}`},
		{"params not an object", req{method: "PUT", path: "/config", auth: "master", body: `{"params":"x"}`}, 400, `{"code":107,"error":"params must be an object"}`},
		{"bad flag", req{method: "PUT", path: "/config", auth: "master", body: `{"params":{"z":1},"masterKeyOnly":{"z":"yes"}}`}, 400, `{"code":111,"error":"masterKeyOnly.z must be a boolean"}`},
		{"delete as the dashboard does", req{method: "PUT", path: "/config", auth: "master",
			body: `{"params":{"gone":1},"masterKeyOnly":{"gone":true}}`}, 200, `{"result":true}`},
		{"delete as the dashboard does", req{method: "PUT", path: "/config", auth: "master",
			body: `{"params":{"gone":{"__op":"Delete"}},"masterKeyOnly":{"gone":{"__op":"Delete"}}}`}, 200, `{"result":true}`},
		{"bad flag op", req{method: "PUT", path: "/config", auth: "master", body: `{"params":{"z":1},"masterKeyOnly":{"z":{"__op":"Increment"}}}`}, 400, `{"code":111,"error":"masterKeyOnly.z must be a boolean"}`},
		{"bad date", req{method: "PUT", path: "/config", auth: "master", body: `{"params":{"z":{"__type":"Date","iso":"soon"}}}`}, 400, `{"code":111,"error":"<any>"}`},
		{"no keys", req{method: "GET", path: "/config", auth: "none"}, 403, `{"error":"unauthorized"}`},
		// The object behind the config is the master key's only.
		{"client reads _GlobalConfig", req{method: "GET", path: "/classes/_GlobalConfig"}, 400,
			`{"code":119,"error":"Permission denied"}`},
		{"client writes _GlobalConfig", req{method: "PUT", path: "/classes/_GlobalConfig/1", body: `{"params":{}}`}, 400,
			`{"code":119,"error":"Permission denied"}`},
	}
	for _, s := range steps {
		res := e.do(s.r)
		if res.status != s.status {
			t.Fatalf("%s: status %d, want %d: %s", s.name, res.status, s.status, res.body)
		}
		res.expect(t, s.status, s.want)
	}
	// Failed updates changed nothing; the config is not a listed class.
	e.do(req{method: "GET", path: "/config", auth: "master"}).expect(t, http.StatusOK,
		`{"params":{"limit":12,"when":{"__type":"Date","iso":"2022-01-02T03:04:05.678Z"},"secret":"open"},
		"masterKeyOnly":{"limit":false,"when":false,"secret":false}}`)
	for _, c := range e.do(req{method: "GET", path: "/schemas", auth: "master"}).obj(t)["results"].([]any) {
		if name := c.(map[string]any)["className"]; name == "_GlobalConfig" {
			t.Fatalf("GET /schemas lists %s", name)
		}
	}
}
