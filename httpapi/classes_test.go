package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/storage"
)

func TestCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := e.do(req{method: "POST", path: "/classes/GameScore",
		body: map[string]any{"score": 1337, "playerName": "Sean Plott", "cheatMode": false}})
	r.expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>"}`)
	id := r.obj(t)["objectId"].(string)
	if loc, want := r.header.Get("Location"), e.url+"/classes/GameScore/"+id; loc != want {
		t.Fatalf("Location %q, want %q", loc, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	created := r.obj(t)["createdAt"]

	r = e.do(req{method: "GET", path: "/classes/GameScore/" + id})
	r.expect(t, http.StatusOK, `{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>",
		"score":1337,"playerName":"Sean Plott","cheatMode":false}`)
	if got := r.obj(t); got["createdAt"] != created || got["updatedAt"] != created {
		t.Fatalf("timestamps %v %v, want both %v", got["createdAt"], got["updatedAt"], created)
	}

	r = e.do(req{method: "PUT", path: "/classes/GameScore/" + id, body: map[string]any{"score": 73453}})
	r.expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)

	r = e.do(req{method: "GET", path: "/classes/GameScore/" + id})
	r.expect(t, http.StatusOK, `{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>",
		"score":73453,"playerName":"Sean Plott","cheatMode":false}`)

	r = e.do(req{method: "DELETE", path: "/classes/GameScore/" + id})
	r.expect(t, http.StatusOK, `{}`)

	for _, method := range []string{"GET", "PUT", "DELETE"} {
		r = e.do(req{method: method, path: "/classes/GameScore/" + id, body: map[string]any{}})
		r.expectError(t, http.StatusNotFound, 101, "Object not found.")
	}
	if n := e.count("GameScore"); n != 0 {
		t.Fatalf("%d objects left", n)
	}
}

// TestUpdateOperators pins what each operator's update answer carries: the
// resulting value for Increment, Add, AddUnique and Remove; nothing for
// Delete, the relation operators and plain values.
func TestUpdateOperators(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	target := e.create("OpTarget", map[string]any{"n": 1})
	ptr := map[string]any{"__type": "Pointer", "className": "OpTarget", "objectId": target}
	id := e.create("Ops", map[string]any{"score": 10, "skills": []any{"flying"}, "label": "x", "stats": map[string]any{"wins": 1}})

	steps := []struct {
		name string
		body string
		want string
	}{
		{"increment", `{"score":{"__op":"Increment","amount":1}}`, `{"updatedAt":"<date>","score":11}`},
		{"decrement", `{"score":{"__op":"Increment","amount":-5}}`, `{"updatedAt":"<date>","score":6}`},
		{"increment by a fraction", `{"score":{"__op":"Increment","amount":0.5}}`, `{"updatedAt":"<date>","score":6.5}`},
		{"increment a missing field", `{"fresh":{"__op":"Increment","amount":3}}`, `{"updatedAt":"<date>","fresh":3}`},
		{"add", `{"skills":{"__op":"Add","objects":["kungfu","flying"]}}`, `{"updatedAt":"<date>","skills":["flying","kungfu","flying"]}`},
		{"remove", `{"skills":{"__op":"Remove","objects":["flying","absent"]}}`, `{"updatedAt":"<date>","skills":["kungfu"]}`},
		{"add unique", `{"skills":{"__op":"AddUnique","objects":["kungfu","swimming"]}}`, `{"updatedAt":"<date>","skills":["kungfu","swimming"]}`},
		{"add to a missing field", `{"tags":{"__op":"Add","objects":[1,{"k":"v"}]}}`, `{"updatedAt":"<date>","tags":[1,{"k":"v"}]}`},
		{"delete", `{"label":{"__op":"Delete"}}`, `{"updatedAt":"<date>"}`},
		{"delete an absent field", `{"nothing":{"__op":"Delete"}}`, `{"updatedAt":"<date>"}`},
		{"set", `{"label":"y","n":null}`, `{"updatedAt":"<date>"}`},
		{"increment in a dot path answers the whole object", `{"stats.wins":{"__op":"Increment","amount":2}}`, `{"updatedAt":"<date>","stats":{"wins":3}}`},
		{"set in a dot path", `{"stats.losses":4}`, `{"updatedAt":"<date>"}`},
		{"add relation", `{"rel":{"__op":"AddRelation","objects":[` + jsonString(ptr) + `]}}`, `{"updatedAt":"<date>"}`},
		{"remove relation", `{"rel":{"__op":"RemoveRelation","objects":[` + jsonString(ptr) + `]}}`, `{"updatedAt":"<date>"}`},
		{"relation batch", `{"rel":{"__op":"Batch","ops":[{"__op":"AddRelation","objects":[` + jsonString(ptr) + `]},{"__op":"RemoveRelation","objects":[]}]}}`, `{"updatedAt":"<date>"}`},
		{"several at once", `{"score":{"__op":"Increment","amount":1},"skills":{"__op":"Add","objects":["x"]},"label":"z"}`,
			`{"updatedAt":"<date>","score":7.5,"skills":["kungfu","swimming","x"]}`},
	}
	for _, s := range steps {
		r := e.do(req{method: "PUT", path: "/classes/Ops/" + id, body: s.body})
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", s.name, r.status, r.body)
		}
		r.expect(t, http.StatusOK, s.want)
	}
	r := e.do(req{method: "GET", path: "/classes/Ops/" + id})
	r.expect(t, http.StatusOK, `{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>",
		"score":7.5,"fresh":3,"skills":["kungfu","swimming","x"],"tags":[1,{"k":"v"}],"label":"z",
		"stats":{"wins":3,"losses":4},"rel":{"__type":"Relation","className":"OpTarget"}}`)

	// The relation holds the target.
	r = e.do(req{method: "GET", path: "/classes/OpTarget", headers: nil,
		body: `{"where":{"$relatedTo":{"object":{"__type":"Pointer","className":"Ops","objectId":"` + id + `"},"key":"rel"}},"keys":"n"}`})
	r.expect(t, http.StatusOK, `{"results":[{"objectId":"`+target+`","createdAt":"<date>","updatedAt":"<date>","n":1}]}`)
}

// TestCreateAnswer pins what a create answers beside objectId and
// createdAt: operator results and schema defaults, not the values sent,
// nulls, Delete or relation operators, or relation placeholders.
func TestCreateAnswer(t *testing.T) {
	t.Parallel()
	// A class with a default value and a relation field, made in the store
	// before the App starts.
	e := newEnv(t, func(cfg *parse.Config, _ *httpapi.Options) {
		_, err := cfg.Store.AddFields(context.Background(), "CrDefaults", map[string]storage.Field{
			"dflt":  {Type: "String", DefaultValue: json.RawMessage(`"hello"`)},
			"other": {Type: "Relation", TargetClass: "CrTarget"},
		})
		if err != nil {
			t.Fatalf("AddFields: %v", err)
		}
	})
	target := e.create("CrTarget", map[string]any{"n": 1})

	r := e.do(req{method: "POST", path: "/classes/CrDefaults", body: `{
		"x": 1, "nl": null,
		"c": {"__op": "Increment", "amount": 2},
		"arr": {"__op": "Add", "objects": [1, 2]},
		"au": {"__op": "AddUnique", "objects": [3]},
		"rm": {"__op": "Remove", "objects": [1]},
		"d": {"__op": "Delete"},
		"rel": {"__op": "AddRelation", "objects": [{"__type": "Pointer", "className": "CrTarget", "objectId": "` + target + `"}]}
	}`})
	r.expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>",
		"c":2,"arr":[1,2],"au":[3],"rm":[],"dflt":"hello"}`)
}

func TestDataTypesRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	target := e.create("TypTarget", map[string]any{"n": 1})
	body := `{
		"aString": "text", "aNumber": 42.5, "anInt": 7, "aBool": true, "aNull": null,
		"aDate": {"__type": "Date", "iso": "2011-08-21T18:02:52.249Z"},
		"aPointer": {"__type": "Pointer", "className": "TypTarget", "objectId": "` + target + `"},
		"aRelation": {"__op": "AddRelation", "objects": [{"__type": "Pointer", "className": "TypTarget", "objectId": "` + target + `"}]},
		"aFile": {"__type": "File", "name": "abc_types.txt", "url": "http://elsewhere/abc_types.txt"},
		"aGeo": {"__type": "GeoPoint", "latitude": 40.0, "longitude": -30.0},
		"aPolygon": {"__type": "Polygon", "coordinates": [[0,0],[0,1],[1,1],[0,0]]},
		"aBytes": {"__type": "Bytes", "base64": "VGhpcyBpcyBhbiBlbmNvZGVkIHN0cmluZw=="},
		"anObject": {"nested": {"deep": [1, "two", false]}, "n": null},
		"anArray": [1, "a", {"k": "v"}, [2], null],
		"unicode": "\u00e9t\u00e9 \ud83c\udf1e \"quoted\" <tag> &",
		"big": 1e21, "small": 1e-7
	}`
	r := e.do(req{method: "POST", path: "/classes/Types", body: body})
	// A File is its name: the URL the client sent is not echoed corrected.
	r.expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>"}`)
	id := r.obj(t)["objectId"].(string)

	r = e.do(req{method: "GET", path: "/classes/Types/" + id})
	r.golden(t, http.StatusOK, "data-types")
	// Numbers are written as JavaScript writes them; strings are not
	// HTML-escaped.
	for _, want := range []string{`"big":1e+21`, `"small":1e-7`, `"aNumber":42.5`, `"anInt":7,`, `<tag> &`, `"aFile":{"__type":"File","name":"abc_types.txt","url":"` + e.url + `/files/APP/abc_types.txt"}`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("body lacks %s: %s", want, r.body)
		}
	}

	// Values read back compare equal when queried.
	r = e.do(req{method: "GET", path: "/classes/Types", body: `{"where":{"aDate":{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"},"aPointer":{"__type":"Pointer","className":"TypTarget","objectId":"` + target + `"}},"keys":"aString"}`})
	// keys leaves relation fields in, as the reference does.
	r.expect(t, http.StatusOK, `{"results":[{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","aRelation":{"__type":"Relation","className":"TypTarget"},"aString":"text"}]}`)

	r = e.do(req{method: "GET", path: "/schemas/Types", auth: "master"})
	r.golden(t, http.StatusOK, "data-types-schema")
}

func TestRelationPlaceholderOnGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tag := e.create("RTag", map[string]any{"name": "go"})
	post := e.create("RPost", map[string]any{"title": "hello"})
	r := e.do(req{method: "PUT", path: "/classes/RPost/" + post, body: `{"tags":{"__op":"AddRelation","objects":[{"__type":"Pointer","className":"RTag","objectId":"` + tag + `"}]}}`})
	r.expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)
	// Every object of the class shows the field, even one never linked.
	other := e.create("RPost", map[string]any{"title": "other"})
	for _, id := range []string{post, other} {
		r = e.do(req{method: "GET", path: "/classes/RPost/" + id, headers: nil})
		if got := r.obj(t)["tags"]; jsonString(got) != `{"__type":"Relation","className":"RTag"}` {
			t.Fatalf("tags of %s: %v", id, got)
		}
	}
	r = e.do(req{method: "PUT", path: "/classes/RPost/" + post, body: `{"tags":{"__op":"AddRelation","objects":[{"__type":"Pointer","className":"RPost","objectId":"` + post + `"}]}}`})
	r.expectError(t, http.StatusBadRequest, 111, "schema mismatch for RPost.tags; expected Relation<RTag> but got Relation<RPost>")
}

func TestFind(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	author := e.create("FAuthor", map[string]any{"name": "ann", "secret": "s"})
	ptr := map[string]any{"__type": "Pointer", "className": "FAuthor", "objectId": author}
	ids := map[string]string{}
	for i, name := range []string{"alice", "bob", "carol", "dave"} {
		ids[name] = e.create("FScore", map[string]any{"name": name, "score": float64(10 * (i + 1)), "author": ptr, "obj": map[string]any{"x": i, "y": 2}})
	}

	cases := []struct {
		name  string
		query string // query string, or a JSON body when it starts with {
		want  string
	}{
		{"keys and order", "keys=name&order=-score&limit=2",
			`{"results":[{"objectId":"` + ids["dave"] + `","createdAt":"<date>","updatedAt":"<date>","name":"dave"},
			{"objectId":"` + ids["carol"] + `","createdAt":"<date>","updatedAt":"<date>","name":"carol"}]}`},
		{"where as JSON", `where={"score":{"$gte":30}}&keys=score&order=score`,
			`{"results":[{"objectId":"` + ids["carol"] + `","createdAt":"<date>","updatedAt":"<date>","score":30},
			{"objectId":"` + ids["dave"] + `","createdAt":"<date>","updatedAt":"<date>","score":40}]}`},
		{"count with a page", "count=1&limit=1&order=name&keys=name",
			`{"results":[{"objectId":"` + ids["alice"] + `","createdAt":"<date>","updatedAt":"<date>","name":"alice"}],"count":4}`},
		{"count only", `count=1&limit=0&where={"score":20}`, `{"results":[],"count":1}`},
		{"limit 0", "limit=0", `{"results":[]}`},
		{"skip", "order=name&skip=3&keys=name", `{"results":[{"objectId":"` + ids["dave"] + `","createdAt":"<date>","updatedAt":"<date>","name":"dave"}]}`},
		{"excludeKeys", `where={"name":"bob"}&excludeKeys=author,obj,score`,
			`{"results":[{"objectId":"` + ids["bob"] + `","createdAt":"<date>","updatedAt":"<date>","name":"bob"}]}`},
		{"include", `where={"name":"bob"}&include=author&keys=author`,
			`{"results":[{"objectId":"` + ids["bob"] + `","createdAt":"<date>","updatedAt":"<date>",
			"author":{"__type":"Object","className":"FAuthor","objectId":"` + author + `","createdAt":"<date>","updatedAt":"<date>","name":"ann","secret":"s"}}]}`},
		{"keys on an included object", `where={"name":"bob"}&keys=author.name`,
			`{"results":[{"objectId":"` + ids["bob"] + `","createdAt":"<date>","updatedAt":"<date>",
			"author":{"__type":"Object","className":"FAuthor","objectId":"` + author + `","createdAt":"<date>","updatedAt":"<date>","name":"ann"}}]}`},
		{"keys sub-field", `where={"name":"bob"}&keys=obj.x`,
			`{"results":[{"objectId":"` + ids["bob"] + `","createdAt":"<date>","updatedAt":"<date>","obj":{"x":1,"y":2}}]}`},
		{"string that looks like a number stays a number", `where={"name":"bob"}&keys=name&limit=10`,
			`{"results":[{"objectId":"` + ids["bob"] + `","createdAt":"<date>","updatedAt":"<date>","name":"bob"}]}`},
		{"repeated keys", `where={"name":"bob"}&keys=name&keys=score`,
			`{"results":[{"objectId":"` + ids["bob"] + `","createdAt":"<date>","updatedAt":"<date>","name":"bob","score":20}]}`},
		{"body", `{"where":{"score":{"$lt":20}},"keys":["name"],"count":true}`,
			`{"results":[{"objectId":"` + ids["alice"] + `","createdAt":"<date>","updatedAt":"<date>","name":"alice"}],"count":1}`},
		{"ignored parameters", `keys=name&where={"name":"bob"}&readPreference=SECONDARY&hint=x&comment=c&explain=false`,
			`{"results":[{"objectId":"` + ids["bob"] + `","createdAt":"<date>","updatedAt":"<date>","name":"bob"}]}`},
		{"class never created", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			class := "FScore"
			if c.want == "" {
				class, c.want = "FNeverCreated", `{"results":[]}`
			}
			r := req{method: "GET", path: "/classes/" + class}
			if strings.HasPrefix(c.query, "{") {
				r.body = c.query
			} else if c.query != "" {
				r.path += "?" + encodeQuery(c.query)
			}
			e.do(r).expect(t, http.StatusOK, c.want)
		})
	}

	// A body and a query string merge; the query string wins.
	r := e.do(req{method: "GET", path: "/classes/FScore?keys=score&" + encodeQuery(`where={"name":"carol"}`), body: `{"where":{"name":"bob"},"keys":"name"}`})
	r.expect(t, http.StatusOK, `{"results":[{"objectId":"`+ids["carol"]+`","createdAt":"<date>","updatedAt":"<date>","score":30}]}`)
	// Roles are found through /roles.
	e.do(req{method: "GET", path: "/roles", auth: "master"}).expect(t, http.StatusOK, `{"results":[]}`)
	// Installations are found with the master key only, on either path.
	for _, path := range []string{"/installations", "/classes/_Installation?count=1&limit=0"} {
		e.do(req{method: "GET", path: path}).expect(t, http.StatusBadRequest, `{"code":119,"error":"Permission denied"}`)
	}
	e.do(req{method: "GET", path: "/installations", auth: "master"}).expect(t, http.StatusOK, `{"results":[]}`)
}

func TestGetOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	author := e.create("GAuthor", map[string]any{"name": "ann"})
	id := e.create("GArticle", map[string]any{"title": "t", "body": "b", "author": map[string]any{"__type": "Pointer", "className": "GAuthor", "objectId": author}})
	base := "/classes/GArticle/" + id
	authorJSON := `{"__type":"Object","className":"GAuthor","objectId":"` + author + `","createdAt":"<date>","updatedAt":"<date>","name":"ann"}`
	cases := []struct {
		query  string
		status int
		want   string
	}{
		{"keys=title", 200, `{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","title":"t"}`},
		{"excludeKeys=body,author", 200, `{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","title":"t"}`},
		{"include=author&keys=author", 200, `{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","author":` + authorJSON + `}`},
		{"include=author&excludeKeys=title,body&readPreference=PRIMARY", 200, `{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","author":` + authorJSON + `}`},
		{"limit=1", 400, `{"code":102,"error":"Improper encode of parameter"}`},
		{`where={}`, 400, `{"code":102,"error":"Improper encode of parameter"}`},
	}
	for _, c := range cases {
		e.do(req{method: "GET", path: base + "?" + encodeQuery(c.query)}).expect(t, c.status, c.want)
	}
	// The same through the JavaScript SDK's body.
	e.do(req{method: "POST", path: base, body: `{"_method":"GET","keys":"title"}`}).
		expect(t, 200, `{"objectId":"`+id+`","createdAt":"<date>","updatedAt":"<date>","title":"t"}`)
	e.do(req{method: "POST", path: base, body: `{"_method":"GET","count":1}`}).
		expectError(t, 400, 102, "Improper encode of parameter")
	// Unknown ids, classes, users, roles and installations are 101.
	for _, p := range []string{"/classes/GArticle/aaaaaaaaaa", "/classes/GNoClass/aaaaaaaaaa", "/classes/bad-name/aaaaaaaaaa",
		"/users/aaaaaaaaaa", "/roles/aaaaaaaaaa", "/installations/aaaaaaaaaa"} {
		e.do(req{method: "GET", path: p, auth: "master"}).expectError(t, 404, 101, "Object not found.")
	}
}
