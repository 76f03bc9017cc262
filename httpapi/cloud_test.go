package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
)

// defineDocTriggers gives class Doc a beforeSave that stamps every write
// (changing n when it is 13) and rejects bad ones, and an afterSave that
// counts.
func defineDocTriggers(t *testing.T, app *parse.App) *int {
	var mu sync.Mutex
	saved := new(int)
	err := app.Triggers.Define(parse.TriggerBeforeSave, "Doc", func(_ context.Context, req *parse.TriggerRequest) error {
		f := req.Object.Fields
		if f["bad"] == true {
			return parse.NewError(parse.ValidationError, "bad docs are rejected")
		}
		f["stamp"] = "set"
		if f["n"] == 13.0 {
			f["n"] = 14.0
		}
		return nil
	})
	if err == nil {
		err = app.Triggers.Define(parse.TriggerAfterSave, "Doc", func(context.Context, *parse.TriggerRequest) error {
			mu.Lock()
			defer mu.Unlock()
			*saved++
			return nil
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

// TestTriggersOverREST: what a beforeSave sets is stored and echoed in the
// create and update answers (the fields it set, as the reference's
// response shows them), a rejection keeps its code and stores nothing,
// over plain requests and batches alike.
func TestTriggersOverREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	saved := defineDocTriggers(t, e.app)

	r := e.do(req{method: "POST", path: "/classes/Doc", body: map[string]any{"n": 13, "s": "x"}})
	r.expect(t, 201, `{"objectId":"<id>","createdAt":"<date>","n":14,"stamp":"set"}`)
	id := r.obj(t)["objectId"].(string)
	e.do(req{method: "PUT", path: "/classes/Doc/" + id, body: map[string]any{"s": "y"}}).
		expect(t, 200, `{"updatedAt":"<date>","stamp":"set"}`)
	e.do(req{method: "PUT", path: "/classes/Doc/" + id, body: map[string]any{"n": 13}}).
		expect(t, 200, `{"updatedAt":"<date>","n":14,"stamp":"set"}`)
	e.do(req{method: "POST", path: "/classes/Doc", body: map[string]any{"bad": true}}).
		expectError(t, 400, parse.ValidationError, "bad docs are rejected")
	e.do(req{method: "PUT", path: "/classes/Doc/" + id, body: map[string]any{"bad": true, "s": "z"}}).
		expectError(t, 400, parse.ValidationError, "bad docs are rejected")
	e.do(req{method: "GET", path: "/classes/Doc/" + id}).
		expect(t, 200, `{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","n":14,"s":"y","stamp":"set"}`)

	batch := map[string]any{"requests": []any{
		map[string]any{"method": "POST", "path": "/parse/classes/Doc", "body": map[string]any{"n": 13}},
		map[string]any{"method": "POST", "path": "/parse/classes/Doc", "body": map[string]any{"bad": true}},
		map[string]any{"method": "POST", "path": "/parse/classes/Doc", "body": map[string]any{"n": 1}},
		map[string]any{"method": "PUT", "path": "/parse/classes/Doc/" + id, "body": map[string]any{"n": 13}},
		map[string]any{"method": "PUT", "path": "/parse/classes/Doc/" + id, "body": map[string]any{"bad": true}},
	}}
	e.do(req{method: "POST", path: "/batch", body: batch}).expect(t, 200, `[
		{"success":{"objectId":"<id>","createdAt":"<date>","n":14,"stamp":"set"}},
		{"error":{"code":142,"error":"bad docs are rejected"}},
		{"success":{"objectId":"<id>","createdAt":"<date>","stamp":"set"}},
		{"success":{"updatedAt":"<date>","n":14,"stamp":"set"}},
		{"error":{"code":142,"error":"bad docs are rejected"}}]`)
	if n := e.count("Doc"); n != 3 {
		t.Errorf("%d docs, want 3", n)
	}
	// A transactional batch with a rejected item stores nothing, and its
	// afterSave triggers don't run.
	before := *saved
	batch["transaction"] = true
	e.do(req{method: "POST", path: "/batch", body: batch}).expect(t, 500, "")
	if n := e.count("Doc"); n != 3 {
		t.Errorf("%d docs after a failed transaction, want 3", n)
	}
	if *saved != before {
		t.Errorf("afterSave ran %d times for a rolled-back batch", *saved-before)
	}
	if *saved != 6 {
		t.Errorf("afterSave ran %d times, want 6", *saved)
	}
}

// webhookReceiver is a webhook server: it answers each path as told and
// records what it received.
type webhookReceiver struct {
	url string
	mu  sync.Mutex
	got []map[string]any
	key []string
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	w := &webhookReceiver{}
	w.url = newServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body map[string]any
		raw, _ := io.ReadAll(r.Body)
		json.Unmarshal(raw, &body)
		w.mu.Lock()
		w.got = append(w.got, body)
		w.key = append(w.key, r.Header.Get("X-Parse-Webhook-Key"))
		w.mu.Unlock()
		switch r.URL.Path {
		case "/slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		case "/garbage":
			rw.Write([]byte("<html>not JSON</html>"))
		case "/reject":
			rw.Write([]byte(`{"error":"no way"}`))
		case "/echo":
			json.NewEncoder(rw).Encode(map[string]any{"success": body["params"]})
		case "/hook":
			obj, _ := body["object"].(map[string]any)
			obj["hooked"] = true
			json.NewEncoder(rw).Encode(map[string]any{"success": obj})
		default:
			rw.Write([]byte(`{"success":true}`))
		}
	}))
	return w
}

func (w *webhookReceiver) calls() []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *parse.Config, _ *httpapi.Options) {
		c.WebhookKey = "HOOKKEY"
		c.WebhookTimeout = 300 * time.Millisecond
	})
	wh := newWebhookReceiver(t)
	e.app.Functions.Define("shadowed", func(context.Context, parse.FunctionRequest) (any, error) { return "from Go", nil })
	if err := e.app.Triggers.Define(parse.TriggerBeforeSave, "Slow", func(_ context.Context, req *parse.TriggerRequest) error {
		req.Object.Fields["go"] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	hook := func(body map[string]any) resp {
		path := "/hooks/functions"
		if _, ok := body["className"]; ok {
			path = "/hooks/triggers"
		}
		return e.do(req{method: "POST", path: path, auth: "master", body: body})
	}
	hook(map[string]any{"functionName": "shadowed", "url": wh.url + "/echo"}).
		expect(t, 200, `{"functionName":"shadowed","url":"`+wh.url+`/echo","warning":"a cloudcode function with name: shadowed already exists"}`)
	hook(map[string]any{"className": "Slow", "triggerName": "beforeSave", "url": wh.url + "/slow"}).
		expect(t, 200, `{"className":"Slow","triggerName":"beforeSave","url":"`+wh.url+`/slow","warning":"beforeSave trigger already defined for class Slow in cloud code"}`)
	for class, path := range map[string]string{"Garbage": "/garbage", "Rejected": "/reject", "Hooked": "/hook"} {
		hook(map[string]any{"className": class, "triggerName": "beforeSave", "url": wh.url + path}).expect(t, 200, "")
	}
	hook(map[string]any{"functionName": "down", "url": "http://127.0.0.1:1/nothing"}).expect(t, 200, "")
	hook(map[string]any{"functionName": "garbage", "url": wh.url + "/garbage"}).expect(t, 200, "")
	e.do(req{method: "GET", path: "/hooks/functions"}).expect(t, 403, `{"error":"Permission denied"}`)

	// The webhook takes precedence over the Go function, and gets the
	// webhook key and the request, but never the master key.
	e.do(req{method: "POST", path: "/functions/shadowed", auth: "master", body: `{}`}).expect(t, 200, `{"result":{}}`)
	if h := wh.calls()[0]["headers"].(map[string]any); h["x-parse-master-key"] != nil || wh.calls()[0]["master"] != true {
		t.Errorf("the master key reached the webhook: %v", wh.calls()[0])
	}
	wh.mu.Lock()
	wh.got, wh.key = nil, nil
	wh.mu.Unlock()
	e.do(req{method: "POST", path: "/functions/shadowed", body: `{"a":1}`, headers: map[string]string{"X-Parse-Cloud-Context": `{"c":2}`}}).
		expect(t, 200, `{"result":{"a":1}}`)
	calls := wh.calls()
	if len(calls) != 1 || wh.key[0] != "HOOKKEY" || calls[0]["functionName"] != "shadowed" || calls[0]["master"] != false ||
		calls[0]["context"].(map[string]any)["c"] != 2.0 || calls[0]["headers"].(map[string]any)["x-parse-application-id"] != "APP" ||
		calls[0]["headers"].(map[string]any)["x-parse-rest-api-key"] != "REST" {
		t.Errorf("webhook received %v (key %v)", calls, wh.key)
	}
	// A trigger webhook that times out, answers garbage or rejects fails
	// the write (141) and nothing is stored.
	for _, class := range []string{"Slow", "Garbage", "Rejected"} {
		start := time.Now()
		e.do(req{method: "POST", path: "/classes/" + class, body: map[string]any{"x": 1}}).expectError(t, 400, parse.ScriptFailed, "")
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s took %v: the webhook timeout did not apply", class, d)
		}
		e.do(req{method: "GET", path: "/classes/" + class, auth: "master"}).expect(t, 200, `{"results":[]}`)
	}
	r := e.do(req{method: "POST", path: "/classes/Hooked", body: map[string]any{"x": 1, "rel": map[string]any{"__op": "AddRelation",
		"objects": []any{map[string]any{"__type": "Pointer", "className": "Hooked", "objectId": "abcdefghij"}}}}})
	r.expect(t, 201, `{"objectId":"<id>","createdAt":"<date>","hooked":true}`)
	// On an update the webhook answers the whole object: what differs from
	// the fields written is written too, and echoed, as the reference does.
	id := r.obj(t)["objectId"].(string)
	e.do(req{method: "PUT", path: "/classes/Hooked/" + id, body: map[string]any{"x": 2}}).
		expect(t, 200, `{"updatedAt":"<date>","hooked":true}`)
	e.do(req{method: "GET", path: "/classes/Hooked/" + id}).
		expect(t, 200, `{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","hooked":true,"x":2,"rel":{"__type":"Relation","className":"Hooked"}}`)
	// Function webhooks that can't be reached or answer garbage: 141.
	e.do(req{method: "POST", path: "/functions/down", body: `{}`}).expectError(t, 400, parse.ScriptFailed, "")
	e.do(req{method: "POST", path: "/functions/garbage", body: `{}`}).expectError(t, 400, parse.ScriptFailed, "")

	// Once the hook is deleted, the Go definitions answer again.
	e.do(req{method: "PUT", path: "/hooks/functions/shadowed", auth: "master", body: map[string]any{"__op": "Delete"}}).expect(t, 200, `{}`)
	e.do(req{method: "PUT", path: "/hooks/triggers/Slow/beforeSave", auth: "master", body: map[string]any{"__op": "Delete"}}).expect(t, 200, `{}`)
	e.do(req{method: "POST", path: "/functions/shadowed", body: `{}`}).expect(t, 200, `{"result":"from Go"}`)
	e.do(req{method: "POST", path: "/classes/Slow", body: map[string]any{"x": 1}}).
		expect(t, 201, `{"objectId":"<id>","createdAt":"<date>","go":true}`)
}

func TestJobsOverREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.app.Jobs.Define("touch", func(ctx context.Context, req *parse.JobRequest) (any, error) {
		return "done " + req.Params["tag"].(string), nil
	})
	e.do(req{method: "POST", path: "/jobs/touch", body: `{"tag":"x"}`}).expect(t, 403, `{"error":"Permission denied"}`)
	e.do(req{method: "POST", path: "/jobs/nope", auth: "master", body: `{}`}).expectError(t, 400, parse.ScriptFailed, "Invalid job.")
	for _, r := range []req{
		{method: "POST", path: "/jobs/touch?tag=x", auth: "master"},
		{method: "POST", path: "/jobs", auth: "master", body: `{"jobName":"touch","tag":"x"}`},
	} {
		res := e.do(r)
		res.expect(t, 200, `{}`)
		id := res.header.Get("X-Parse-Job-Status-Id")
		if len(id) != 10 {
			t.Fatalf("X-Parse-Job-Status-Id %q", id)
		}
		var st resp
		for range 200 {
			st = e.do(req{method: "GET", path: "/classes/_JobStatus/" + id, auth: "master"})
			if st.obj(t)["status"] != "running" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		st.expect(t, 200, `{"objectId":"<id>","createdAt":"<date>","jobName":"touch","source":"api","status":"succeeded",
			"message":"done x","finishedAt":{"__type":"Date","iso":"<date>"},"ACL":{}}`)
		e.do(req{method: "GET", path: "/classes/_JobStatus/" + id}).expectError(t, 400, parse.OperationForbidden, "Permission denied")
	}
}

func TestJobSchedulesOverREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.app.Jobs.Define("nightly", func(context.Context, *parse.JobRequest) (any, error) { return nil, nil })
	e.do(req{method: "GET", path: "/cloud_code/jobs"}).expect(t, 403, `{"error":"Permission denied"}`)
	e.do(req{method: "POST", path: "/cloud_code/jobs", auth: "master", body: `{"job_schedule":{"jobName":"nope"}}`}).
		expectError(t, 400, parse.ScriptFailed, "Cannot Schedule a job that is not deployed")
	e.do(req{method: "POST", path: "/cloud_code/jobs", auth: "master", body: `{}`}).expectError(t, 400, parse.InvalidJSON, "")
	r := e.do(req{method: "POST", path: "/cloud_code/jobs", auth: "master",
		body: `{"job_schedule":{"jobName":"nightly","params":"{\"a\":1}","repeatMinutes":5}}`})
	r.expect(t, 201, `{"objectId":"<id>","createdAt":"<date>"}`)
	id := r.obj(t)["objectId"].(string)
	if loc := r.header.Get("Location"); loc != e.url+"/classes/_JobSchedule/"+id {
		t.Errorf("Location %q", loc)
	}
	e.do(req{method: "GET", path: "/cloud_code/jobs", auth: "master"}).expect(t, 200, `[{"objectId":"<id>","createdAt":"<date>",
		"updatedAt":"<date>","jobName":"nightly","params":"{\"a\":1}","repeatMinutes":5,"startAfter":"<date>"}]`)
	e.do(req{method: "GET", path: "/cloud_code/jobs/data", auth: "master"}).expect(t, 200, `{"in_use":["nightly"],"jobs":["nightly"]}`)
	e.do(req{method: "PUT", path: "/cloud_code/jobs/" + id, auth: "master", body: `{"job_schedule":{"repeatMinutes":10}}`}).
		expect(t, 200, `{"response":{"updatedAt":"<date>"}}`)
	e.do(req{method: "DELETE", path: "/cloud_code/jobs/" + id, auth: "master"}).expect(t, 200, `{}`)
	e.do(req{method: "DELETE", path: "/cloud_code/jobs/" + id, auth: "master"}).expectError(t, 404, parse.ObjectNotFound, "")
	e.do(req{method: "GET", path: "/cloud_code/jobs/data", auth: "master"}).expect(t, 200, `{"in_use":[],"jobs":["nightly"]}`)
}
