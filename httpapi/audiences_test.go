package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	pushrec "github.com/parsego/parse/push/recorder"
)

// TestPushAudiences drives /push_audiences as Parse Dashboard does, and as
// the reference answers: the /classes routes on _Audience with the query
// decoded on reads, the master key's only.
func TestPushAudiences(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *parse.Config, _ *httpapi.Options) { c.Push.Provider = &pushrec.Recorder{} })
	res := e.do(req{method: "POST", path: "/push_audiences", auth: "master",
		body: `{"name":"fans","query":"{\"channels\":{\"$in\":[\"news\"]}}"}`})
	res.expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>"}`)
	id := res.obj(t)["objectId"].(string)
	if loc := res.header.Get("Location"); loc != e.url+"/classes/_Audience/"+id {
		t.Fatalf("Location %q", loc)
	}
	e.do(req{method: "POST", path: "/push_audiences", auth: "master", body: `{"name":"all","query":"{}"}`}).
		expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>"}`)

	fans := `{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","name":"fans","query":{"channels":{"$in":["news"]}}}`
	e.do(req{method: "GET", path: "/push_audiences/" + id, auth: "master"}).expect(t, http.StatusOK, fans)
	e.do(req{method: "GET", path: `/push_audiences?where={"name":"fans"}`, auth: "master"}).
		expect(t, http.StatusOK, `{"results":[`+fans+`]}`)
	// As the dashboard sends it: tunnelled, keys in the body.
	e.do(req{method: "POST", path: "/push_audiences", auth: "none", contentType: "text/plain",
		body: `{"_method":"GET","_ApplicationId":"APP","_MasterKey":"MASTER","limit":1000,"order":"name"}`}).
		expect(t, http.StatusOK, `{"results":[{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","name":"all","query":{}},`+fans+`]}`)
	// Counts are exact (the reference's is PostgreSQL's estimate).
	e.do(req{method: "GET", path: "/push_audiences?count=1&limit=0", auth: "master"}).expect(t, http.StatusOK, `{"results":[],"count":2}`)
	// /classes shows what is stored: the query as a string.
	e.do(req{method: "GET", path: "/classes/_Audience/" + id, auth: "master"}).
		expect(t, http.StatusOK, strings.Replace(fans, `{"channels":{"$in":["news"]}}`, `"{\"channels\":{\"$in\":[\"news\"]}}"`, 1))

	e.do(req{method: "PUT", path: "/push_audiences/" + id, auth: "master", body: `{"name":"readers"}`}).
		expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)

	for _, tc := range []struct {
		name, method, path, auth, body string
		status                         int
		want                           string
	}{
		{"list with the REST key", "GET", "/push_audiences", "rest", "", 403, `{"error":"Permission denied"}`},
		{"get with the JavaScript key", "GET", "/push_audiences/" + id, "js", "", 403, `{"error":"Permission denied"}`},
		{"create with the REST key", "POST", "/push_audiences", "rest", `{"name":"x","query":"{}"}`, 403, `{"error":"Permission denied"}`},
		{"update with the REST key", "PUT", "/push_audiences/" + id, "rest", `{"name":"x"}`, 403, `{"error":"Permission denied"}`},
		{"delete with the REST key", "DELETE", "/push_audiences/" + id, "rest", "", 403, `{"error":"Permission denied"}`},
		{"no keys", "GET", "/push_audiences", "none", "", 403, `{"error":"unauthorized"}`},
		{"get a missing audience", "GET", "/push_audiences/nope", "master", "", 404, `{"code":101,"error":"Object not found."}`},
		{"update a missing audience", "PUT", "/push_audiences/nope", "master", `{"name":"x"}`, 404, `{"code":101,"error":"Object not found."}`},
		{"query as an object", "POST", "/push_audiences", "master", `{"name":"x","query":{"a":1}}`, 400,
			`{"code":111,"error":"schema mismatch for _Audience.query; expected String but got Object"}`},
		// The reference stores these, then answers 500 to every list.
		{"query not JSON", "POST", "/push_audiences", "master", `{"name":"x","query":"not json"}`, 400,
			`{"code":107,"error":"query must be a JSON object encoded as a string"}`},
		{"query a JSON array", "PUT", "/push_audiences/" + id, "master", `{"query":"[1]"}`, 400,
			`{"code":107,"error":"query must be a JSON object encoded as a string"}`},
		{"query not JSON through /classes", "POST", "/classes/_Audience", "master", `{"name":"x","query":"{"}`, 400,
			`{"code":107,"error":"query must be a JSON object encoded as a string"}`},
		{"a field _Audience lacks", "POST", "/push_audiences", "master", `{"name":"x","query":"{}","foo":3}`, 400,
			`{"code":107,"error":"Could not add field foo"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req{method: tc.method, path: tc.path, auth: tc.auth}
			if tc.body != "" {
				r.body = tc.body
			}
			e.do(r).expect(t, tc.status, tc.want)
		})
	}
	// Nothing was written by the refused requests.
	e.do(req{method: "GET", path: "/push_audiences?count=1&limit=0", auth: "master"}).expect(t, http.StatusOK, `{"results":[],"count":2}`)

	// A push sent to the audience records its use, as the reference.
	for range 2 {
		e.sendPush(map[string]any{"where": map[string]any{"channels": map[string]any{"$in": []any{"news"}}},
			"data": map[string]any{"alert": "hi"}, "audience_id": id})
	}
	e.do(req{method: "GET", path: "/push_audiences/" + id, auth: "master"}).expect(t, http.StatusOK,
		`{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","name":"readers","query":{"channels":{"$in":["news"]}},`+
			`"lastUsed":{"__type":"Date","iso":"<date>"},"timesUsed":2}`)
	// An unknown audience_id doesn't fail the push.
	e.sendPush(map[string]any{"channels": []any{"news"}, "data": map[string]any{"alert": "hi"}, "audience_id": "nope"})

	e.do(req{method: "DELETE", path: "/push_audiences/" + id, auth: "master"}).expect(t, http.StatusOK, `{}`)
	e.do(req{method: "DELETE", path: "/push_audiences/" + id, auth: "master"}).expectError(t, http.StatusNotFound, 101, "Object not found.")
}

// TestServerInfoPushAudiences: Parse Dashboard offers the audiences pages
// only when /serverInfo says they are served.
func TestServerInfoPushAudiences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	feats := e.do(req{method: "GET", path: "/serverInfo", auth: "master"}).obj(t)["features"].(map[string]any)
	if on := feats["push"].(map[string]any)["pushAudiences"]; on != true {
		t.Fatalf("features.push.pushAudiences %v", on)
	}
}
