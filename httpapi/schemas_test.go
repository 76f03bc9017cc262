package httpapi_test

import (
	"net/http"
	"testing"
)

func TestSchemas(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create("SchA", map[string]any{"title": "t", "count": 1, "tags": []any{"x"}})
	e.create("SchB", map[string]any{"p": map[string]any{"__type": "Pointer", "className": "SchA", "objectId": "aaaaaaaaaa"}})

	clp := `{"ACL":{"*":{"read":true,"write":true}},"addField":{"*":true},"count":{"*":true},"create":{"*":true},
		"delete":{"*":true},"find":{"*":true},"get":{"*":true},"protectedFields":{"*":[]},"update":{"*":true}}`
	schA := `{"className":"SchA","classLevelPermissions":` + clp + `,"fields":{"ACL":{"type":"ACL"},"objectId":{"type":"String"},
		"createdAt":{"type":"Date"},"updatedAt":{"type":"Date"},"title":{"type":"String"},"count":{"type":"Number"},"tags":{"type":"Array"}}}`
	schB := `{"className":"SchB","classLevelPermissions":` + clp + `,"fields":{"ACL":{"type":"ACL"},"objectId":{"type":"String"},
		"createdAt":{"type":"Date"},"updatedAt":{"type":"Date"},"p":{"type":"Pointer","targetClass":"SchA"}}}`
	e.do(req{method: "GET", path: "/schemas/SchA", auth: "master"}).expect(t, http.StatusOK, schA)
	e.do(req{method: "GET", path: "/schemas", auth: "master"}).expect(t, http.StatusOK, `{"results":[`+schA+`,`+schB+`]}`)
	e.do(req{method: "GET", path: "/schemas/Nope", auth: "master"}).
		expectError(t, http.StatusBadRequest, 103, "Class Nope does not exist.")

	// Master only, with the reference's sanitized 403, for every method.
	for _, r := range []req{
		{method: "GET", path: "/schemas"},
		{method: "GET", path: "/schemas/SchA"},
		{method: "GET", path: "/schemas/SchA", auth: "js"},
		{method: "POST", path: "/schemas/SchA", body: `{"fields":{"a":{"type":"String"}}}`},
		{method: "PUT", path: "/schemas/SchA", body: `{"fields":{"a":{"type":"String"}}}`},
		{method: "DELETE", path: "/schemas/SchA"},
		{method: "POST", path: "/schemas", body: `{"className":"SchC"}`},
	} {
		res := e.do(r)
		res.expect(t, http.StatusForbidden, `{"error":"Permission denied"}`)
		if ct := res.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
	}
}
