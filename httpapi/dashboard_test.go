package httpapi_test

import (
	"net/http"
	"testing"
)

// TestDashboardTransport replays requests as Parse Dashboard sends them:
// tunnelled as text/plain POSTs with _method and the keys in the body,
// where as a JSON string inside the JSON body, exact counts of system
// classes, the schema list with a trailing slash, and the DashboardConfig
// lookup of a class that doesn't exist.
func TestDashboardTransport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(req{method: "POST", path: "/users", body: `{"username":"dash","password":"pw"}`}).expect(t, http.StatusCreated, "")
	e.do(req{method: "POST", path: "/login", body: `{"username":"dash","password":"pw"}`}).expect(t, http.StatusOK, "")
	e.create("DashPet", map[string]any{"name": "rex", "tags": []any{"a"}})
	e.create("DashPet", map[string]any{"name": "tom", "tags": []any{"b"}})
	tunnel := func(path, fields string) resp {
		return e.do(req{method: "POST", path: path, auth: "none", contentType: "text/plain",
			body: `{"_method":"GET","_ApplicationId":"APP","_MasterKey":"MASTER","_ClientVersion":"js8.5.0","_InstallationId":"i1"` + fields + `}`})
	}
	tunnel("/classes/DashPet", `,"where":"{\"tags\":{\"$in\":[\"b\"]}}","count":1,"limit":0`).expect(t, http.StatusOK, `{"results":[],"count":1}`)
	tunnel("/classes/DashPet", `,"where":"{\"name\":\"rex\"}","limit":100,"order":"-createdAt"`).expect(t, http.StatusOK,
		`{"results":[{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","name":"rex","tags":["a"]}]}`)
	tunnel("/classes/DashPet", `,"where":"{nope"`).expectError(t, http.StatusBadRequest, 107, "")
	// Counts are exact, system classes included (the reference answers
	// PostgreSQL's estimate: 0 for a fresh table).
	tunnel("/classes/_User", `,"where":{},"count":1,"limit":0`).expect(t, http.StatusOK, `{"results":[],"count":1}`)
	tunnel("/classes/_Session", `,"where":{},"count":1,"limit":0`).expect(t, http.StatusOK, `{"results":[],"count":2}`)
	tunnel("/classes/_Role", `,"where":{},"count":1,"limit":0`).expect(t, http.StatusOK, `{"results":[],"count":0}`)
	tunnel("/classes/DashPet", `,"where":{},"count":1,"limit":0`).expect(t, http.StatusOK, `{"results":[],"count":2}`)
	tunnel("/classes/DashboardConfig", `,"where":{"appId":"APP","key":"browser.panels.settings","user":{"$exists":false}},"limit":1`).
		expect(t, http.StatusOK, `{"results":[]}`)
	for _, p := range []string{"/schemas", "/schemas/"} {
		res := tunnel(p, "").obj(t)
		if n := len(res["results"].([]any)); n != 4 { // _Role, _Session, _User, DashPet
			t.Fatalf("%s: %d classes: %v", p, n, res)
		}
	}
}
