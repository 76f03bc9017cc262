package httpapi

import (
	"reflect"
	"testing"
	"time"

	"github.com/parsego/parse"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		method, path string
		want         route
	}{
		{"GET", "/classes/A", route{kind: routeFind, class: "A"}},
		{"HEAD", "/classes/A", route{kind: routeFind, class: "A"}},
		{"POST", "/classes/A/", route{kind: routeCreate, class: "A"}},
		{"GET", "//classes//A/x1", route{kind: routeGet, class: "A", id: "x1"}},
		{"PUT", "/Classes/A/x1", route{kind: routeUpdate, class: "A", id: "x1"}},
		{"DELETE", "/classes/A/x1", route{kind: routeDelete, class: "A", id: "x1"}},
		{"GET", "/users/u1", route{kind: routeGet, class: "_User", id: "u1"}},
		{"GET", "/roles", route{kind: routeFind, class: "_Role"}},
		{"GET", "/roles/r1", route{kind: routeGet, class: "_Role", id: "r1"}},
		{"GET", "/installations/i1", route{kind: routeGet, class: "_Installation", id: "i1"}},
		{"POST", "/batch", route{kind: routeBatch}},
		{"GET", "/schemas", route{kind: routeSchemas}},
		{"GET", "/schemas/A", route{kind: routeSchema, class: "A"}},
		{"PUT", "/schemas/A", route{kind: routeSchemaUpdate, class: "A"}},
		{"POST", "/schemas", route{kind: routeSchemaCreate}},
		{"POST", "/schemas/A", route{kind: routeSchemaCreate, class: "A"}},
		{"DELETE", "/schemas/A", route{kind: routeSchemaDelete, class: "A"}},
		{"PUT", "/schemas", route{}},
		{"DELETE", "/schemas", route{}},
		{"DELETE", "/purge/A", route{kind: routePurge, class: "A"}},
		{"DELETE", "/purge", route{}},
		{"GET", "/purge/A", route{}},
		{"POST", "/functions/hello", route{kind: routeFunction, class: "hello"}},
		{"GET", "/functions/hello", route{}},
		{"POST", "/functions", route{}},
		{"GET", "/users/me", route{kind: routeUserMe, class: "_User"}},
		{"GET", "/users/me/files", route{kind: routeUserMeFiles}},
		{"POST", "/users/me/files", route{}},
		{"GET", "/users/ME", route{kind: routeUserMe, class: "_User"}},
		{"GET", "/users", route{kind: routeFind, class: "_User"}},
		{"POST", "/users", route{kind: routeSignUp, class: "_User"}},
		{"POST", "/classes/_User", route{kind: routeSignUp, class: "_User"}},
		{"PUT", "/users/u1", route{kind: routeUserUpdate, class: "_User", id: "u1"}},
		{"PUT", "/classes/_User/u1", route{kind: routeUserUpdate, class: "_User", id: "u1"}},
		{"DELETE", "/users/u1", route{kind: routeDelete, class: "_User", id: "u1"}},
		{"PATCH", "/users/u1", route{}},
		{"GET", "/users/u1/x", route{}},
		{"GET", "/login", route{kind: routeLogin}},
		{"POST", "/login", route{kind: routeLogin}},
		{"PUT", "/login", route{}},
		{"POST", "/logout", route{kind: routeLogout}},
		{"GET", "/logout", route{}},
		{"GET", "/sessions", route{kind: routeFind, class: "_Session"}},
		{"POST", "/sessions", route{kind: routeSessionCreate, class: "_Session"}},
		{"POST", "/classes/_Session", route{kind: routeSessionCreate, class: "_Session"}},
		{"GET", "/sessions/me", route{kind: routeSessionMe, class: "_Session"}},
		{"GET", "/sessions/s1", route{kind: routeGet, class: "_Session", id: "s1"}},
		{"PUT", "/sessions/s1", route{kind: routeUpdate, class: "_Session", id: "s1"}},
		{"DELETE", "/sessions/s1", route{kind: routeDelete, class: "_Session", id: "s1"}},
		{"PUT", "/sessions", route{}},
		{"GET", "/installations", route{kind: routeFind, class: "_Installation"}},
		{"POST", "/installations", route{kind: routeCreate, class: "_Installation"}},
		{"PUT", "/installations/i1", route{kind: routeUpdate, class: "_Installation", id: "i1"}},
		{"DELETE", "/installations/i1", route{kind: routeDelete, class: "_Installation", id: "i1"}},
		{"PUT", "/installations", route{}},
		{"POST", "/push", route{kind: routePush}},
		{"GET", "/push", route{}},
		{"PUT", "/classes/A", route{}},
		{"PATCH", "/classes/A/x", route{}},
		{"post", "/classes/A", route{}},
		{"GET", "/classes/A/x/y", route{}},
		{"GET", "/classes", route{}},
		{"GET", "/", route{}},
		{"GET", "", route{}},
		{"GET", "/batch", route{}},
		{"GET", "/health", route{}},
	}
	for _, c := range cases {
		if got := match(c.method, c.path); got != c.want {
			t.Errorf("match(%s %q) = %+v, want %+v", c.method, c.path, got, c.want)
		}
	}
}

func TestQueryParams(t *testing.T) {
	got := queryParams("limit=10&order=-a&where=%7B%22a%22%3A1%7D&keys=a&keys=b&count=true&x=&y&s=%22q%22&bad=%zz+1&n=null&e=1e400")
	want := map[string]any{
		"limit": 10.0, "order": "-a", "where": map[string]any{"a": 1.0}, "keys": []any{"a", "b"},
		"count": true, "x": "", "y": "", "s": "q", "bad": "%zz 1", "n": nil, "e": "1e400",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}

func TestDecodeParam(t *testing.T) {
	for in, want := range map[string]any{
		"10": 10.0, "-1.5e3": -1500.0, "0": 0.0, " 7 ": 7.0, "-0.0": 0.0, "1E2": 100.0,
		"01": "01", "-": "-", "-score": "-score", "1.": "1.", ".5": ".5", "1e": "1e", "0x10": "0x10",
		"Infinity": "Infinity", "NaN": "NaN", "1_000": "1_000", "1e400": "1e400",
		"true": true, "false": false, "null": nil, "True": "True", "nul": "nul",
		`"s"`: "s", `{"a":1}`: map[string]any{"a": 1.0}, "[1,2]": []any{1.0, 2.0}, "{bad": "{bad", "name": "name", "": "",
	} {
		if got := decodeParam(in); !reflect.DeepEqual(got, want) {
			t.Errorf("decodeParam(%q) = %#v, want %#v", in, got, want)
		}
	}
}

func TestDecodeBody(t *testing.T) {
	for _, c := range []struct {
		in       string
		body     map[string]any
		arrayLen int
		err      bool
	}{
		{in: "", body: nil},
		{in: "  \n", body: nil},
		{in: `{"a":1}`, body: map[string]any{"a": 1.0}},
		{in: ` {"a":[1,"x",null]}`, body: map[string]any{"a": []any{1.0, "x", nil}}},
		{in: `[1,2]`, arrayLen: 2},
		{in: `[]`},
		{in: `{"a":`, err: true},
		{in: `null`, err: true},
		{in: `5`, err: true},
		{in: `"s"`, err: true},
		{in: `{"a":1}x`, err: true},
	} {
		got, err := decodeBody([]byte(c.in))
		if c.err {
			if err != errInvalidJSON {
				t.Errorf("%q: err %v, want Invalid JSON", c.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got.body, c.body) || got.arrayLen != c.arrayLen {
			t.Errorf("%q: %#v %v", c.in, got, err)
		}
	}
}

func TestComputedFields(t *testing.T) {
	when := time.Date(2011, 8, 21, 18, 2, 52, 249e6, time.UTC)
	saved := &parse.Object{Fields: map[string]any{
		"n": 5.0, "s": "x", "d": when, "arr": []any{1.0}, "obj": map[string]any{"a": 2.0, "b": 1.0},
		"rel": parse.Relation{ClassName: "T"}, "dflt": "hello", "f": parse.File{Name: "f.txt", URL: "http://x/f.txt"},
		"changed": "by a trigger",
	}}
	sent := map[string]any{
		"n": parse.Increment(1), "s": "x", "d": when, "arr": parse.Add(1.0), "obj.a": parse.Increment(1), "obj.b": 1.0,
		"rel": parse.AddRelation(parse.Pointer{ClassName: "T", ObjectID: "t"}), "gone": parse.Delete(), "nl": nil,
		"f": parse.File{Name: "f.txt"}, "changed": "by the client", "ACL": map[string]any{}, "objectId": "x",
	}
	if got, want := computedFields(nil, sent, saved, false), []string{"arr", "changed", "n", "obj"}; !reflect.DeepEqual(got, want) {
		t.Errorf("update: %v, want %v", got, want)
	}
	delete(sent, "obj.a")
	delete(sent, "obj.b")
	if got, want := computedFields(nil, sent, saved, true), []string{"arr", "changed", "dflt", "n", "obj"}; !reflect.DeepEqual(got, want) {
		t.Errorf("create: %v, want %v", got, want)
	}
}

func TestEscapeHTML(t *testing.T) {
	if got := escapeHTML(`/a"b&c'd<e>`); got != "/a&quot;b&amp;c&#39;d&lt;e&gt;" {
		t.Fatal(got)
	}
}
