package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestBatchMixed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.create("BatchObj", map[string]any{"score": 1})
	other := e.create("BatchObj", map[string]any{"score": 2, "playerName": "Other"})

	r := e.do(req{method: "POST", path: "/batch", body: `{"requests":[
		{"method":"POST","path":"/parse/classes/BatchObj","body":{"score":1337,"playerName":"Sean Plott"}},
		{"method":"PUT","path":"/parse/classes/BatchObj/` + id + `","body":{"score":{"__op":"Increment","amount":5}}},
		{"method":"PUT","path":"/parse/classes/BatchObj/nosuchobj1","body":{"score":1}},
		{"method":"POST","path":"/parse/classes/BatchObj","body":{"score":"not a number"}},
		{"method":"GET","path":"/parse/classes/BatchObj/` + other + `"},
		{"method":"GET","path":"/parse/classes/BatchObj","body":{"where":{"score":2},"keys":"score","count":1}},
		{"method":"GET","path":"/parse/schemas/BatchObj"}
	]}`})
	r.expect(t, http.StatusOK, `[
		{"success":{"objectId":"<id>","createdAt":"<date>"}},
		{"success":{"updatedAt":"<date>","score":6}},
		{"error":{"code":101,"error":"Object not found."}},
		{"error":{"code":111,"error":"schema mismatch for BatchObj.score; expected Number but got String"}},
		{"success":{"objectId":"`+other+`","createdAt":"<date>","updatedAt":"<date>","playerName":"Other","score":2}},
		{"success":{"results":[{"objectId":"`+other+`","createdAt":"<date>","updatedAt":"<date>","score":2}],"count":1}},
		{"error":{"error":"Permission denied"}}
	]`)
	if loc := r.header.Get("Location"); loc != "" {
		t.Fatalf("Location %q on a batch", loc)
	}

	r = e.do(req{method: "POST", path: "/batch", body: `{"requests":[
		{"method":"DELETE","path":"/parse/classes/BatchObj/` + id + `"},
		{"method":"DELETE","path":"/parse/classes/BatchObj/nosuchobj2"}]}`})
	r.expect(t, http.StatusOK, `[{"success":{}},{"error":{"code":101,"error":"Object not found."}}]`)

	e.do(req{method: "GET", path: "/classes/BatchObj?" + encodeQuery("keys=score,playerName&order=score")}).
		expect(t, http.StatusOK, `{"results":[
			{"objectId":"`+other+`","createdAt":"<date>","updatedAt":"<date>","playerName":"Other","score":2},
			{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","playerName":"Sean Plott","score":1337}]}`)

	e.do(req{method: "POST", path: "/batch", body: `{"requests":[]}`}).expect(t, http.StatusOK, `[]`)
	// The JavaScript SDK's transport works for batches too.
	e.do(req{method: "POST", path: "/batch", auth: "none", contentType: "text/plain",
		body: `{"_ApplicationId":"APP","_JavaScriptKey":"JS","requests":[{"method":"GET","path":"/parse/classes/BatchObj","body":{"limit":0,"count":1}}]}`}).
		expect(t, http.StatusOK, `[{"success":{"results":[],"count":2}}]`)
}

// TestBatchErrors: whole-batch errors are 107, checked before any item
// runs, so nothing is written.
func TestBatchErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ok := `{"method":"POST","path":"/parse/classes/BatchErr","body":{"a":1}}`
	cases := []struct {
		body, msg string
	}{
		{`{}`, "requests must be an array"},
		{`{"requests":{"method":"GET"}}`, "requests must be an array"},
		{`[1]`, "requests must be an array"},
		{`{"requests":[` + ok + `,5]}`, "batch request path must be a string"},
		{`{"requests":[` + ok + `,{"method":"GET","path":5}]}`, "batch request path must be a string"},
		{`{"requests":[` + ok + `,{"method":"POST","path":"/classes/BatchErr","body":{"a":1}}]}`, "cannot route batch path /classes/BatchErr"},
		{`{"requests":[` + ok + `,{"method":"GET","path":"/parse/nowhere"}]}`, "cannot route GET /nowhere"},
		{`{"requests":[` + ok + `,{"method":"POST","path":"/parse/batch","body":{"requests":[]}}]}`, "nested batch requests are not allowed"},
		{`{"requests":[` + ok + `,{"method":"post","path":"/parse/classes/BatchErr"}]}`, "cannot route post /classes/BatchErr"},
		{`{"requests":[` + ok + `,{"path":"/parse/classes/BatchErr"}]}`, "cannot route undefined /classes/BatchErr"},
		{`{"requests":[` + ok + `,{"method":"GET","path":"/parse/health"}]}`, "cannot route GET /health"},
		{`{"requests":[` + ok + `,{"method":"OPTIONS","path":"/parse/classes/BatchErr"}]}`, "cannot route OPTIONS /classes/BatchErr"},
		{`{"requests":[` + ok + `,{"method":"GET","path":"/parse/../parse/nowhere"}]}`, "cannot route GET /parse/nowhere"},
	}
	for _, c := range cases {
		e.do(req{method: "POST", path: "/batch", body: c.body}).expectError(t, http.StatusBadRequest, 107, c.msg)
	}
	if e.classExists("BatchErr") {
		t.Fatal("a class was created")
	}
}

// TestBatchCreates: a run of creates in one class is saved together; an
// item that fails answers its own error and the others land.
func TestBatchCreates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create("Many", map[string]any{"i": -1})
	var items, want []string
	for i := range 51 {
		body := fmt.Sprintf(`{"i":%d}`, i)
		ans := `{"success":{"objectId":"<id>","createdAt":"<date>"}}`
		switch i {
		case 10:
			body, ans = `{"i":"ten"}`, `{"error":{"code":111,"error":"schema mismatch for Many.i; expected Number but got String"}}`
		case 20:
			body, ans = `{"i":{"__op":"Nope"}}`, `{"error":{"code":108,"error":"The Nope operator is not supported yet."}}`
		case 30:
			body, ans = `{"bad field":1}`, `{"error":{"code":105,"error":"Invalid field name: bad field."}}`
		case 40:
			body, ans = `{"i":40,"n":{"__op":"Increment","amount":2}}`, `{"success":{"objectId":"<id>","createdAt":"<date>","n":2}}`
		}
		items = append(items, `{"method":"POST","path":"/parse/classes/Many","body":`+body+`}`)
		want = append(want, ans)
	}
	// A create in another class and a get end the run.
	items = append(items, `{"method":"POST","path":"/parse/classes/Other","body":{"x":1}}`,
		`{"method":"POST","path":"/parse/classes/Many","body":{"i":100}}`)
	want = append(want, `{"success":{"objectId":"<id>","createdAt":"<date>"}}`, `{"success":{"objectId":"<id>","createdAt":"<date>"}}`)
	r := e.do(req{method: "POST", path: "/batch", body: `{"requests":[` + strings.Join(items, ",") + `]}`})
	r.expect(t, http.StatusOK, `[`+strings.Join(want, ",")+`]`)
	if n := e.count("Many"); n != 1+51-3+1 {
		t.Fatalf("%d objects in Many", n)
	}
	// Every id is distinct and each object is the one its item asked for.
	results := r.json(t).([]any)
	seen := map[string]bool{}
	for i, res := range results {
		s, ok := res.(map[string]any)["success"].(map[string]any)
		if !ok || i == 51 {
			continue
		}
		id := s["objectId"].(string)
		if seen[id] {
			t.Fatalf("id %s twice", id)
		}
		seen[id] = true
		want := float64(i)
		if i == 52 {
			want = 100
		}
		got := e.do(req{method: "GET", path: "/classes/Many/" + id + "?keys=i"}).obj(t)["i"]
		if got != want {
			t.Fatalf("item %d stored i=%v", i, got)
		}
	}
}

// TestBatchTransaction: with transaction true, one failing item rolls back
// every write of the batch, class creation included, and the batch is
// answered as the reference answers it: 500 {"code":1,"message":...}.
func TestBatchTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.create("TxObj", map[string]any{"score": 1})
	failing := []string{
		`{"method":"PUT","path":"/parse/classes/TxObj/nosuchobj1","body":{"score":1}}`,
		`{"method":"POST","path":"/parse/classes/TxObj","body":{"score":"x"}}`,
		`{"method":"POST","path":"/parse/classes/TxObj","body":{"score":{"__op":"Nope"}}}`,
		`{"method":"DELETE","path":"/parse/classes/TxObj/nosuchobj1"}`,
		`{"method":"GET","path":"/parse/classes/TxObj/nosuchobj1"}`,
	}
	for _, bad := range failing {
		r := e.do(req{method: "POST", path: "/batch", body: `{"transaction":true,"requests":[
			{"method":"POST","path":"/parse/classes/TxObj","body":{"score":2}},
			{"method":"POST","path":"/parse/classes/TxObj","body":{"score":3}},
			{"method":"PUT","path":"/parse/classes/TxObj/` + id + `","body":{"score":{"__op":"Increment","amount":10},"extra":"field"}},
			{"method":"POST","path":"/parse/classes/TxNew","body":{"a":1}},
			` + bad + `,
			{"method":"POST","path":"/parse/classes/TxObj","body":{"score":4}}]}`})
		if r.status != 500 || string(r.body) != `{"code":1,"message":"Internal server error."}` {
			t.Fatalf("%s: %d %s", bad, r.status, r.body)
		}
		if n := e.count("TxObj"); n != 1 {
			t.Fatalf("%s: %d objects in TxObj, want 1", bad, n)
		}
		e.do(req{method: "GET", path: "/classes/TxObj/" + id}).
			expect(t, http.StatusOK, `{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","score":1}`)
		if e.classExists("TxNew") {
			t.Fatalf("%s: class TxNew survived the rollback", bad)
		}
	}
	// The schema cache forgot the rolled-back field: writing another type
	// to it works.
	e.do(req{method: "PUT", path: "/classes/TxObj/" + id, body: `{"extra":5}`}).expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)

	r := e.do(req{method: "POST", path: "/batch", body: `{"transaction":true,"requests":[
		{"method":"POST","path":"/parse/classes/TxObj","body":{"score":2}},
		{"method":"PUT","path":"/parse/classes/TxObj/` + id + `","body":{"score":{"__op":"Increment","amount":10}}},
		{"method":"GET","path":"/parse/classes/TxObj","body":{"where":{"score":{"$gte":2}},"keys":"score","order":"score"}}]}`})
	r.expect(t, http.StatusOK, `[{"success":{"objectId":"<id>","createdAt":"<date>"}},{"success":{"updatedAt":"<date>","score":11}},
		{"success":{"results":[{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","score":2},{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","score":11}]}}]`)
	if n := e.count("TxObj"); n != 2 {
		t.Fatalf("%d objects in TxObj after a committed batch, want 2", n)
	}
}
