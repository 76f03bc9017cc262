package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
)

const defaultCLP = `{"ACL":{"*":{"read":true,"write":true}},"addField":{"*":true},"count":{"*":true},"create":{"*":true},
	"delete":{"*":true},"find":{"*":true},"get":{"*":true},"protectedFields":{"*":[]},"update":{"*":true}}`

// defaultFields are the fields of every class, as the schema API shows them.
const defaultFields = `"ACL":{"type":"ACL"},"objectId":{"type":"String"},"createdAt":{"type":"Date"},"updatedAt":{"type":"Date"}`

func TestSchemas(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create("SchA", map[string]any{"title": "t", "count": 1, "tags": []any{"x"}})
	e.create("SchB", map[string]any{"p": map[string]any{"__type": "Pointer", "className": "SchA", "objectId": "aaaaaaaaaa"}})

	schA := `{"className":"SchA","classLevelPermissions":` + defaultCLP + `,"fields":{` + defaultFields + `,
		"title":{"type":"String"},"count":{"type":"Number"},"tags":{"type":"Array"}}}`
	schB := `{"className":"SchB","classLevelPermissions":` + defaultCLP + `,"fields":{` + defaultFields + `,
		"p":{"type":"Pointer","targetClass":"SchA"}}}`
	// The system classes the reference creates at start are listed too.
	role := `{"className":"_Role","classLevelPermissions":` + defaultCLP + `,"fields":{` + defaultFields + `,
		"name":{"type":"String"},"users":{"type":"Relation","targetClass":"_User"},"roles":{"type":"Relation","targetClass":"_Role"}}}`
	user := `{"className":"_User","classLevelPermissions":` + defaultCLP + `,"fields":{` + defaultFields + `,
		"username":{"type":"String"},"password":{"type":"String"},"email":{"type":"String"},"emailVerified":{"type":"Boolean"},
		"authData":{"type":"Object"}}}`
	e.do(req{method: "GET", path: "/schemas/SchA", auth: "master"}).expect(t, http.StatusOK, schA)
	e.do(req{method: "GET", path: "/schemas", auth: "master"}).expect(t, http.StatusOK, `{"results":[`+schA+`,`+schB+`,`+role+`,`+user+`]}`)
	e.do(req{method: "GET", path: "/schemas/Nope", auth: "master"}).
		expectError(t, http.StatusBadRequest, 103, "Class Nope does not exist.")

	// Master only, with the reference's sanitized 403, for every method,
	// before the body is looked at.
	for _, r := range []req{
		{method: "GET", path: "/schemas"},
		{method: "GET", path: "/schemas/SchA"},
		{method: "GET", path: "/schemas/SchA", auth: "js"},
		{method: "POST", path: "/schemas/SchA", body: `{"fields":{"a":{"type":"String"}}}`},
		{method: "PUT", path: "/schemas/SchA", body: `{"fields":{"a":{"type":"String"}}}`},
		{method: "PUT", path: "/schemas/SchA", body: `{"className":"Other"}`},
		{method: "DELETE", path: "/schemas/SchA"},
		{method: "POST", path: "/schemas", body: `{"className":"SchC"}`},
		{method: "DELETE", path: "/purge/SchA"},
	} {
		res := e.do(r)
		res.expect(t, http.StatusForbidden, `{"error":"Permission denied"}`)
		if ct := res.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
	}
	if n := e.count("SchA"); n != 1 {
		t.Fatalf("a refused purge deleted objects: %d left", n)
	}
}

// TestSchemaWrites replays the schema API's conversations of the
// conformance scenarios and the reference's answers to malformed bodies.
func TestSchemaWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	city := `{"className":"SchCity","classLevelPermissions":` + defaultCLP + `,"fields":{` + defaultFields + `,
		"name":{"type":"String"},"population":{"type":"Number"},"capital":{"type":"Boolean"},
		"country":{"type":"Pointer","targetClass":"SchCountry"},"sisters":{"type":"Relation","targetClass":"SchCity"},"loc":{"type":"GeoPoint"}}}`
	steps := []struct {
		name string
		req
		status int
		want   string // a body, or {"code":N,"error":"message"}
	}{
		{"create", req{method: "POST", path: "/schemas/SchCity", body: map[string]any{"className": "SchCity", "fields": map[string]any{
			"name": map[string]any{"type": "String"}, "population": map[string]any{"type": "Number"}, "capital": map[string]any{"type": "Boolean"},
			"country": map[string]any{"type": "Pointer", "targetClass": "SchCountry"}, "sisters": map[string]any{"type": "Relation", "targetClass": "SchCity"},
			"loc": map[string]any{"type": "GeoPoint"}}}}, 200, city},
		{"fetch", req{method: "GET", path: "/schemas/SchCity"}, 200, city},
		{"create again", req{method: "POST", path: "/schemas/SchCity", body: `{"className":"SchCity"}`}, 400,
			`{"code":103,"error":"Class SchCity already exists."}`},
		{"mismatch", req{method: "POST", path: "/schemas/SchCountry", body: `{"className":"SchCity"}`}, 400,
			`{"code":103,"error":"Class name mismatch between SchCity and SchCountry."}`},
		{"mismatch, number", req{method: "POST", path: "/schemas/SchCountry", body: `{"className":5}`}, 400,
			`{"code":103,"error":"Class name mismatch between 5 and SchCountry."}`},
		{"no class name", req{method: "POST", path: "/schemas", body: `{}`}, 400, `{"code":135,"error":"POST /schemas needs a class name."}`},
		{"no body", req{method: "POST", path: "/schemas"}, 400, `{"code":135,"error":"POST /schemas needs a class name."}`},
		{"invalid field type", req{method: "POST", path: "/schemas/SchCountry", body: `{"fields":{"x":{"type":"Integer"}}}`}, 400,
			`{"code":111,"error":"invalid field type: Integer"}`},
		{"type not a string", req{method: "POST", path: "/schemas/SchCountry", body: `{"fields":{"x":{"type":5}}}`}, 400,
			`{"code":107,"error":"invalid JSON"}`},
		{"field not an object", req{method: "POST", path: "/schemas/SchCountry", body: `{"fields":{"x":"String"}}`}, 400,
			`{"code":107,"error":"invalid JSON"}`},
		{"target not a string", req{method: "POST", path: "/schemas/SchCountry", body: `{"fields":{"x":{"type":"Pointer","targetClass":5}}}`}, 400,
			`{"code":107,"error":"invalid JSON"}`},
		{"fields a string", req{method: "POST", path: "/schemas/SchCountry", body: `{"fields":"abc"}`}, 400,
			`{"code":105,"error":"invalid field name: 0"}`},
		{"field deleted at creation", req{method: "POST", path: "/schemas/SchCountry", body: `{"fields":{"a":{"__op":"Delete"}}}`}, 400,
			`{"code":107,"error":"invalid JSON"}`},
		{"pointer without target", req{method: "POST", path: "/schemas/SchCountry", body: `{"fields":{"x":{"type":"Pointer"}}}`}, 400,
			`{"code":135,"error":"type Pointer needs a class name"}`},
		{"invalid name", req{method: "POST", path: "/schemas/bad-name", body: `{}`}, 400,
			`{"code":103,"error":"Invalid classname: bad-name, classnames can only have alphanumeric characters and _, and must start with an alpha character "}`},
		{"class name in the body", req{method: "POST", path: "/schemas", body: `{"className":"SchCountry","fields":{"code":{"type":"String","required":1}},
			"indexes":{"by_code":{"code":1}},"classLevelPermissions":{"find":{"*":true}}}`}, 200,
			`{"className":"SchCountry","classLevelPermissions":{"find":{"*":true},"get":{},"count":{},"create":{},"update":{},"delete":{},"addField":{},"protectedFields":{}},
			"fields":{` + defaultFields + `,"code":{"type":"String","required":true}},"indexes":{"by_code":{"code":1}}}`},
		{"indexes read back", req{method: "GET", path: "/schemas/SchCountry"}, 200,
			`{"className":"SchCountry","classLevelPermissions":"<any>","fields":"<any>","indexes":{"_id_":{"_id":1},"by_code":{"code":1}}}`},

		{"add fields", req{method: "PUT", path: "/schemas/SchCountry", body: `{"className":"SchCountry","fields":{"b":{"type":"Date"},"code":{"type":"String"}},
			"indexes":{"by_b":{"b":-1},"by_code":{"__op":"Delete"}}}`}, 200,
			`{"className":"SchCountry","classLevelPermissions":"<any>","fields":{` + defaultFields + `,"code":{"type":"String"},"b":{"type":"Date"}},
			"indexes":{"_id_":{"_id":1},"by_b":{"b":-1}}}`},
		{"add an existing field", req{method: "PUT", path: "/schemas/SchCountry", body: `{"fields":{"b":{"type":"Number"}}}`}, 400,
			`{"code":255,"error":"Field b exists, cannot update."}`},
		// The field's index goes with it; without indexes, _id_ isn't
		// listed either (the reference keeps listing it).
		{"delete a field", req{method: "PUT", path: "/schemas/SchCountry", body: `{"fields":{"b":{"__op":"Delete"}},"classLevelPermissions":null}`}, 200,
			`{"className":"SchCountry","classLevelPermissions":` + defaultCLP + `,"fields":{` + defaultFields + `,"code":{"type":"String"}}}`},
		{"delete a missing field", req{method: "PUT", path: "/schemas/SchCountry", body: `{"fields":{"zzz":{"__op":"Delete"}}}`}, 400,
			`{"code":255,"error":"Field zzz does not exist, cannot delete."}`},
		{"delete a default field", req{method: "PUT", path: "/schemas/SchCountry", body: `{"fields":{"createdAt":{"__op":"Delete"}}}`}, 400,
			`{"code":136,"error":"field createdAt cannot be changed"}`},
		{"untyped field that exists", req{method: "PUT", path: "/schemas/SchCountry", body: `{"fields":{"code":{"__op":"Add"}}}`}, 400,
			`{"code":255,"error":"Field code exists, cannot update."}`},
		{"drop a missing index", req{method: "PUT", path: "/schemas/SchCountry", body: `{"indexes":{"nope":{"__op":"Delete"}}}`}, 400,
			`{"code":102,"error":"Index nope does not exist, cannot delete."}`},
		{"invalid CLP", req{method: "PUT", path: "/schemas/SchCountry", body: `{"classLevelPermissions":{"find":{"*":"yes"}}}`}, 400,
			`{"code":107,"error":"'yes' is not a valid value for class level permissions acl find:*"}`},
		{"update mismatch", req{method: "PUT", path: "/schemas/SchCountry", body: `{"className":"Other"}`}, 400,
			`{"code":103,"error":"Class name mismatch between Other and SchCountry."}`},
		{"update an unknown class", req{method: "PUT", path: "/schemas/SchNope", body: `{"fields":{"x":{"type":"String"}}}`}, 400,
			`{"code":103,"error":"Class SchNope does not exist."}`},
		{"update without a body", req{method: "PUT", path: "/schemas/SchCountry"}, 200, `{"className":"SchCountry","classLevelPermissions":"<any>","fields":"<any>"}`},

		{"object", req{method: "POST", path: "/classes/SchCountry", body: `{"code":"no"}`, auth: "rest"}, 201, `{"objectId":"<id>","createdAt":"<date>"}`},
		{"delete a non-empty class", req{method: "DELETE", path: "/schemas/SchCountry"}, 400,
			`{"code":255,"error":"Class SchCountry is not empty, contains 1 objects, cannot drop schema."}`},
		{"purge", req{method: "DELETE", path: "/purge/SchCountry"}, 200, `{}`},
		{"purged", req{method: "GET", path: "/classes/SchCountry", auth: "rest"}, 200, `{"results":[]}`},
		{"purge a missing class", req{method: "DELETE", path: "/purge/SchNope"}, 200, `{}`},
		{"delete", req{method: "DELETE", path: "/schemas/SchCountry"}, 200, `{}`},
		{"deleted", req{method: "GET", path: "/schemas/SchCountry"}, 400, `{"code":103,"error":"Class SchCountry does not exist."}`},
		{"delete again", req{method: "DELETE", path: "/schemas/SchCountry"}, 200, `{}`},
		{"delete an invalid class", req{method: "DELETE", path: "/schemas/_Hooks"}, 400,
			`{"code":103,"error":"Invalid classname: _Hooks, classnames can only have alphanumeric characters and _, and must start with an alpha character "}`},
		{"volatile class", req{method: "GET", path: "/schemas/_Idempotency"}, 200,
			`{"className":"_Idempotency","classLevelPermissions":{},"fields":{` + defaultFields + `,"reqId":{"type":"String"},"expire":{"type":"Date"}}}`},
		{"no DELETE /schemas", req{method: "DELETE", path: "/schemas"}, 404, ""},
		{"no GET /purge", req{method: "GET", path: "/purge/SchCity"}, 404, ""},

		// Schema writes route in batches too.
		{"batch", req{method: "POST", path: "/batch", body: `{"requests":[
			{"method":"POST","path":"/parse/schemas/SchBatch","body":{"fields":{"a":{"type":"String"}}}},
			{"method":"PUT","path":"/parse/schemas/SchBatch","body":{"fields":{"a":{"type":"Number"}}}},
			{"method":"DELETE","path":"/parse/schemas/SchBatch"}]}`}, 200,
			`[{"success":{"className":"SchBatch","classLevelPermissions":"<any>","fields":"<any>"}},
			{"error":{"code":255,"error":"Field a exists, cannot update."}},{"success":{}}]`},
	}
	for _, s := range steps {
		r := s.req
		if r.auth == "" {
			r.auth = "master"
		}
		res := e.do(r)
		if s.want == "" {
			if res.status != s.status {
				t.Fatalf("%s: status %d, want %d", s.name, res.status, s.status)
			}
			continue
		}
		res.expect(t, s.status, s.want)
	}
}

func TestSchemasReadOnlyMasterKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *parse.Config, _ *httpapi.Options) { c.ReadOnlyMasterKey = "RO" })
	e.create("SchRo", map[string]any{"a": 1})
	ro := map[string]string{"X-Parse-Master-Key": "RO"}
	e.do(req{method: "GET", path: "/schemas/SchRo", auth: "app", headers: ro}).
		expect(t, http.StatusOK, `{"className":"SchRo","classLevelPermissions":"<any>","fields":"<any>"}`)
	e.do(req{method: "GET", path: "/schemas", auth: "app", headers: ro}).expect(t, http.StatusOK, `{"results":"<any>"}`)
	for _, r := range []req{
		{method: "POST", path: "/schemas/SchRo2", body: `{}`},
		{method: "PUT", path: "/schemas/SchRo", body: `{"fields":{"b":{"type":"String"}}}`},
		{method: "DELETE", path: "/schemas/SchRo"},
		{method: "DELETE", path: "/purge/SchRo"},
	} {
		r.auth, r.headers = "app", ro
		e.do(r).expectError(t, http.StatusBadRequest, parse.OperationForbidden, "Permission denied")
	}
	if n := e.count("SchRo"); n != 1 {
		t.Fatalf("the read-only key changed data: %d objects", n)
	}
}
