package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/parsego/parse"
)

func TestEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Ten dimensions, in an order that is not sorted: the first eight
	// sent are kept.
	ten := `{"dimensions":{"j":"1","i":"2","h":"3","g":"4","f":"5","e":"6","d":"7","c":"8","b":"9","a":"10"},
		"at":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"}}`
	steps := []struct {
		name   string
		r      req
		status int
		want   string
	}{
		{"app opened", req{method: "POST", path: "/events/AppOpened", body: `{}`}, 200, `{}`},
		{"without a body", req{method: "POST", path: "/events/AppOpened", auth: "js"}, 200, `{}`},
		{"ten dimensions", req{method: "POST", path: "/events/Search", body: ten}, 200, `{}`},
		{"same day", req{method: "POST", path: "/events/Search", body: `{"dimensions":{"q":"x"},"at":"2011-08-21T23:59:59.999Z"}`}, 200, `{}`},
		{"next day", req{method: "POST", path: "/events/Search", body: `{"at":{"__type":"Date","iso":"2011-08-22T00:00:00.000Z"}}`}, 200, `{}`},
		{"tunnelled, as the JS SDK sends it", req{method: "POST", path: "/events/Error", auth: "none", contentType: "text/plain",
			body: `{"_ApplicationId":"APP","_JavaScriptKey":"JS","dimensions":{"code":"404"},"at":{"__type":"Date","iso":"2011-08-21T01:00:00.000Z"}}`}, 200, `{}`},
		{"a number dimension", req{method: "POST", path: "/events/Bad", body: `{"dimensions":{"n":1}}`}, 400, `{"code":111,"error":"Dimension values must be strings: n"}`},
		{"dimensions not an object", req{method: "POST", path: "/events/Bad", body: `{"dimensions":[]}`}, 400, `{"code":107,"error":"dimensions must be an object"}`},
		{"a bad date", req{method: "POST", path: "/events/Bad", body: `{"at":{"__type":"Date","iso":"soon"}}`}, 400, `{"code":111,"error":"at must be a date"}`},
		{"at not a date", req{method: "POST", path: "/events/Bad", body: `{"at":12}`}, 400, `{"code":111,"error":"at must be a date"}`},
		{"a dotted dimension", req{method: "POST", path: "/events/Bad", body: `{"dimensions":{"a.b":"x"}}`}, 400, `{"code":121,"error":"<any>"}`},
		{"no keys", req{method: "POST", path: "/events/Search", auth: "none", body: `{}`}, 403, `{"error":"unauthorized"}`},
		{"GET is not routed", req{method: "GET", path: "/events/Search"}, 404, ""},
		{"client query", req{method: "GET", path: "/classes/_EventLog"}, 400,
			`{"code":119,"error":"Permission denied"}`},
	}
	for _, s := range steps {
		res := e.do(s.r)
		if res.status != s.status {
			t.Fatalf("%s: status %d, want %d: %s", s.name, res.status, s.status, res.body)
		}
		if s.want != "" {
			res.expect(t, s.status, s.want)
		}
	}

	// The master key queries the events like any class.
	e.do(req{method: "GET", path: "/classes/_EventLog", auth: "master",
		body: `{"where":{"name":"Search","at":{"$lt":{"__type":"Date","iso":"2011-08-21T20:00:00.000Z"}}}}`}).expect(t, http.StatusOK,
		`{"results":[{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","ACL":{},"name":"Search",
		"dimensions":{"j":"1","i":"2","h":"3","g":"4","f":"5","e":"6","d":"7","c":"8"},
		"at":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"}}]}`)

	ctx := context.Background()
	counts, err := e.app.Analytics.Counts(ctx, time.Date(2011, 8, 21, 12, 0, 0, 0, time.UTC), time.Date(2011, 8, 22, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2011, 8, d, 0, 0, 0, 0, time.UTC) }
	want := []parse.EventCount{{Name: "Error", Day: day(21), Count: 1}, {Name: "Search", Day: day(21), Count: 2}, {Name: "Search", Day: day(22), Count: 1}}
	if len(counts) != len(want) {
		t.Fatalf("counts = %+v, want %+v", counts, want)
	}
	for i := range want {
		if counts[i].Name != want[i].Name || !counts[i].Day.Equal(want[i].Day) || counts[i].Count != want[i].Count {
			t.Fatalf("counts = %+v, want %+v", counts, want)
		}
	}
	today, err := e.app.Analytics.Counts(ctx, time.Now(), time.Now())
	if err != nil || len(today) != 1 || today[0].Name != "AppOpened" || today[0].Count != 2 {
		t.Fatalf("today's counts = %+v, %v", today, err)
	}
	if _, err := e.app.Analytics.Counts(parse.WithAuth(ctx, parse.Auth{}), time.Now(), time.Now()); err != parse.ErrMasterKeyRequired {
		t.Fatalf("client counts: %v", err)
	}

	// In a batch, without the body's text, the eight smallest keys are kept.
	nine := `{"i":"9","h":"8","g":"7","f":"6","e":"5","d":"4","c":"3","b":"2","a":"1"}`
	e.do(req{method: "POST", path: "/batch", body: `{"requests":[{"method":"POST","path":"/parse/events/Batched","body":{"dimensions":` + nine + `}}]}`}).
		expect(t, http.StatusOK, `[{"success":{}}]`)
	e.do(req{method: "GET", path: "/classes/_EventLog", auth: "master", body: `{"where":{"name":"Batched"},"keys":"dimensions"}`}).expect(t, http.StatusOK,
		`{"results":[{"objectId":"<id>","createdAt":"<date>","updatedAt":"<date>","ACL":{},
		"dimensions":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8"}}]}`)
}
