package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/parsego/parse"
)

func TestFunctions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fn := e.app.Functions
	fn.Define("hello", func(context.Context, parse.FunctionRequest) (any, error) { return "Hello world!", nil })
	fn.Define("echo", func(_ context.Context, req parse.FunctionRequest) (any, error) { return req.Params, nil })
	fn.Define("isMaster", func(_ context.Context, req parse.FunctionRequest) (any, error) { return req.Auth.Master, nil })
	fn.Define("whoami", func(_ context.Context, req parse.FunctionRequest) (any, error) {
		if req.Auth.User == nil {
			return nil, nil
		}
		return req.Auth.User.Fields["username"], nil
	})
	fn.Define("fail", func(context.Context, parse.FunctionRequest) (any, error) {
		return nil, parse.NewError(parse.ScriptFailed, "failed on purpose")
	})
	fn.Define("notFound", func(context.Context, parse.FunctionRequest) (any, error) {
		return nil, parse.NewError(parse.ObjectNotFound, "nothing here")
	})
	fn.Define("crash", func(context.Context, parse.FunctionRequest) (any, error) { return nil, errors.New("boom") })
	// The params arrive typed.
	fn.Define("types", func(_ context.Context, req parse.FunctionRequest) (any, error) {
		when, _ := req.Params["when"].(time.Time)
		ptr, _ := req.Params["ptr"].(parse.Pointer)
		geo, _ := req.Params["geo"].(parse.GeoPoint)
		return []any{when.Year(), ptr.ClassName, geo.Latitude}, nil
	})
	fn.Define("object", func(ctx context.Context, _ parse.FunctionRequest) (any, error) {
		return &parse.Object{ClassName: "Thing", ID: "abcdefghij", Fields: map[string]any{"n": 1}}, nil
	})

	tests := []struct {
		name string
		req
		status int
		want   string
	}{
		{"hello", req{method: "POST", path: "/functions/hello", body: `{}`}, 200, `{"result":"Hello world!"}`},
		{"no body", req{method: "POST", path: "/functions/hello"}, 200, `{"result":"Hello world!"}`},
		{"echo", req{method: "POST", path: "/functions/echo", body: `{"a":1,"b":[true,null,"x"],"nested":{"k":1.5},"op":{"__op":"Increment","amount":1}}`}, 200,
			`{"result":{"a":1,"b":[true,null,"x"],"nested":{"k":1.5},"op":{"__op":"Increment","amount":1}}}`},
		{"echo Parse types", req{method: "POST", path: "/functions/echo", body: `{"when":{"__type":"Date","iso":"2011-08-21T18:02:52Z"},
			"where":{"__type":"GeoPoint","latitude":1,"longitude":2},"list":[{"__type":"Pointer","className":"A","objectId":"b"}],
			"obj":{"__type":"Object","className":"Foo","objectId":"x","v":{"__type":"Bytes","base64":"AAA="}}}`}, 200,
			`{"result":{"when":{"__type":"Date","iso":"2011-08-21T18:02:52.000Z"},"where":{"__type":"GeoPoint","latitude":1,"longitude":2},
			"list":[{"__type":"Pointer","className":"A","objectId":"b"}],"obj":{"__type":"Object","className":"Foo","objectId":"x","v":{"__type":"Bytes","base64":"AAA="}}}}`},
		{"typed params", req{method: "POST", path: "/functions/types", body: `{"when":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"},
			"ptr":{"__type":"Pointer","className":"A","objectId":"b"},"geo":{"__type":"GeoPoint","latitude":7,"longitude":2}}`}, 200,
			`{"result":[2011,"A",7]}`},
		// Query parameters override the body's, and stay strings, nested
		// as the qs package nests them.
		{"query string", req{method: "POST", path: "/functions/echo?x=1&y=true&z[a]=2&r=1&r=2&l[]=a&l[]=b&w=%7B%22a%22%3A1%7D", body: `{"x":5,"keep":true}`}, 200,
			`{"result":{"x":"1","y":"true","z":{"a":"2"},"r":["1","2"],"l":["a","b"],"w":"{\"a\":1}","keep":true}}`},
		{"invalid Date", req{method: "POST", path: "/functions/echo", body: `{"d":{"__type":"Date","iso":"garbage"}}`}, 400,
			`{"code":111,"error":"invalid date: \"garbage\""}`},
		{"object result", req{method: "POST", path: "/functions/object", body: `{}`}, 200,
			`{"result":{"__type":"Object","className":"Thing","objectId":"abcdefghij","n":1}}`},
		{"unknown", req{method: "POST", path: "/functions/doesNotExist", body: `{}`}, 400, `{"code":141,"error":"Invalid function: \"doesNotExist\""}`},
		{"fail", req{method: "POST", path: "/functions/fail", body: `{"x":[1,2,3]}`}, 400, `{"code":141,"error":"failed on purpose"}`},
		{"code kept", req{method: "POST", path: "/functions/notFound", body: `{}`}, 404, `{"code":101,"error":"nothing here"}`},
		{"Go error", req{method: "POST", path: "/functions/crash", body: `{}`}, 400, `{"code":141,"error":"boom"}`},
		{"isMaster, master", req{method: "POST", path: "/functions/isMaster", body: `{}`, auth: "master"}, 200, `{"result":true}`},
		{"isMaster, REST key", req{method: "POST", path: "/functions/isMaster", body: `{}`}, 200, `{"result":false}`},
		{"isMaster, JS key", req{method: "POST", path: "/functions/isMaster", body: `{}`, auth: "js"}, 200, `{"result":false}`},
		{"whoami without a session", req{method: "POST", path: "/functions/whoami", body: `{}`}, 200, `{"result":null}`},
		{"whoami, bad session", req{method: "POST", path: "/functions/whoami", body: `{}`, headers: map[string]string{"X-Parse-Session-Token": "r:bogus"}},
			400, `{"code":209,"error":"Invalid session token"}`},
		// The JavaScript SDK's transport: a text/plain body with the keys.
		{"JS SDK style", req{method: "POST", path: "/functions/echo", auth: "none", contentType: "text/plain",
			body: `{"_ApplicationId":"APP","_JavaScriptKey":"JS","_ClientVersion":"js5","a":1}`}, 200, `{"result":{"a":1}}`},
		{"batch", req{method: "POST", path: "/batch", body: `{"requests":[{"method":"POST","path":"/parse/functions/echo","body":{"a":1}},
			{"method":"POST","path":"/parse/functions/fail","body":{}}]}`}, 200,
			`[{"success":{"result":{"a":1}}},{"error":{"code":141,"error":"failed on purpose"}}]`},
		{"keys checked first", req{method: "POST", path: "/functions/hello", auth: "none", body: `{}`}, 403, `{"error":"unauthorized"}`},
	}
	for _, tt := range tests {
		res := e.do(tt.req)
		res.expect(t, tt.status, tt.want)
	}
	// Only POST is routed, as on the reference.
	for _, r := range []req{
		{method: "GET", path: "/functions/hello"},
		{method: "PUT", path: "/functions/hello", body: `{}`},
		{method: "POST", path: "/functions/hello", body: `{"_method":"GET"}`},
		{method: "POST", path: "/functions"},
		{method: "POST", path: "/functions/hello/x"},
	} {
		if res := e.do(r); res.status != http.StatusNotFound {
			t.Errorf("%s %s: %d %s, want 404", r.method, r.path, res.status, res.body)
		}
	}
}

// TestFunctionsWhoami calls a function with a session: it sees the
// session's user.
func TestFunctionsWhoami(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.app.Functions.Define("whoami", func(_ context.Context, req parse.FunctionRequest) (any, error) {
		if req.Auth.User == nil {
			return nil, nil
		}
		return req.Auth.User.Fields["username"], nil
	})
	res := e.do(req{method: "POST", path: "/users", body: `{"username":"fnUser","password":"pw"}`})
	if res.status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", res.status, res.body)
	}
	tok, _ := res.obj(t)["sessionToken"].(string)
	e.do(req{method: "POST", path: "/functions/whoami", body: `{}`, headers: map[string]string{"X-Parse-Session-Token": tok}}).
		expect(t, http.StatusOK, `{"result":"fnUser"}`)
}
