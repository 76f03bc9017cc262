package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadQueries checks that malformed queries get the reference's error
// code (or a 102 where the reference answers 500), never a 500.
func TestBadQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	author := e.create("BQAuthor", map[string]any{"name": "ann"})
	id := e.create("BQScore", map[string]any{
		"name": "alice", "score": 10.0, "tags": []any{"a"},
		"author": map[string]any{"__type": "Pointer", "className": "BQAuthor", "objectId": author},
	})

	cases := []struct {
		name  string
		query string
		code  int
	}{
		// Unknown operators: the reference on PostgreSQL answers 119.
		{"unknown operator", `where={"score":{"$foo":1}}`, 119},
		{"unsupported operator", `where={"tags":{"$size":1}}`, 119},
		{"unknown top-level operator", `where={"$foo":1}`, 105},
		{"invalid field name", `where={"a-b":1}`, 105},
		// Operands of the wrong type.
		{"$in not an array", `where={"score":{"$in":5}}`, 107},
		{"$nin not an array", `where={"score":{"$nin":"x"}}`, 107},
		{"$all not an array", `where={"tags":{"$all":"a"}}`, 107},
		{"$exists not a boolean", `where={"score":{"$exists":"yes"}}`, 102},
		{"$regex not a string", `where={"name":{"$regex":5}}`, 102},
		{"$options not a string", `where={"name":{"$regex":"a","$options":1}}`, 102},
		{"$options unknown", `where={"name":{"$regex":"a","$options":"q"}}`, 102},
		{"$lt with an object", `where={"score":{"$lt":{"a":1}}}`, 102},
		{"$lt with an array", `where={"score":{"$lt":[1]}}`, 102},
		{"$or not an array", `where={"$or":{"a":1}}`, 102},
		{"$or empty", `where={"$or":[]}`, 102},
		{"$and of a number", `where={"$and":[1]}`, 102},
		{"$relatedTo not an object", `where={"$relatedTo":5}`, 102},
		{"invalid Date", `where={"when":{"__type":"Date","iso":"nope"}}`, 111},
		// Malformed JSON.
		{"where not JSON", `where={"score":`, 107},
		// Regular expressions that do not compile.
		{"$regex unbalanced parenthesis", `where={"name":{"$regex":"a("}}`, 102},
		{"$regex unterminated class", `where={"name":{"$regex":"[a"}}`, 102},
		{"$regex bad repetition", `where={"name":{"$regex":"*a"}}`, 102},
		// Negative or non-numeric limit and skip.
		{"negative limit", `limit=-1`, 102},
		{"negative skip", `skip=-1`, 102},
		{"limit not a number", `limit=abc`, 102},
		{"skip fractional", `skip=1.5`, 102},
		{"unknown parameter", `foo=1`, 102},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/classes/BQScore?", "/classes/BQNeverCreated?"} {
				r := e.do(req{method: "GET", path: path + encodeQuery(c.query)})
				r.expectError(t, http.StatusBadRequest, c.code, "")
			}
		})
	}

	// The same errors through a JSON body (POST with _method GET).
	r := e.do(req{method: "POST", path: "/classes/BQScore", body: `{"_method":"GET","where":{"score":{"$foo":1}}}`})
	r.expectError(t, http.StatusBadRequest, 119, "")
	r = e.do(req{method: "POST", path: "/classes/BQScore", body: `{"_method":"GET","limit":-5}`})
	r.expectError(t, http.StatusBadRequest, 102, "")

	// include of a field that is not a pointer (or of a path through one,
	// or of an unknown field) is ignored, as the reference does.
	for _, inc := range []string{"name", "score.x", "tags", "nope", "name,author"} {
		r := e.do(req{method: "GET", path: "/classes/BQScore?" + encodeQuery("keys=name,score&include="+inc)})
		want := `{"results":[{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","name":"alice","score":10}]}`
		if strings.Contains(inc, "author") {
			r = e.do(req{method: "GET", path: "/classes/BQScore?" + encodeQuery("keys=name,author&include="+inc)})
			want = `{"results":[{"objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","name":"alice",
				"author":{"__type":"Object","className":"BQAuthor","objectId":"` + author + `","createdAt":"<date>","updatedAt":"<date>","name":"ann"}}]}`
		}
		r.expect(t, http.StatusOK, want)
	}
}

// TestIncludeEdgeCases covers include of arrays of pointers, "*" and
// includeAll (which also keep their fields under keys), and keys projecting
// inside an array of included objects, as the reference answers.
func TestIncludeEdgeCases(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.create("IEAuthor", map[string]any{"name": "ann", "age": 3.0})
	b := e.create("IEAuthor", map[string]any{"name": "bob", "age": 4.0})
	ptr := func(id string) map[string]any {
		return map[string]any{"__type": "Pointer", "className": "IEAuthor", "objectId": id}
	}
	post := e.create("IEPost", map[string]any{"title": "t1", "author": ptr(a),
		"authors": []any{ptr(a), ptr(b), ptr("nonexist00"), 5.0}})
	full := func(id, name string, age int) string {
		return `{"__type":"Object","className":"IEAuthor","objectId":"` + id + `","createdAt":"<date>","updatedAt":"<date>","name":"` + name + `","age":` + string(rune('0'+age)) + `}`
	}
	both := `{"results":[{"objectId":"` + post + `","createdAt":"<date>","updatedAt":"<date>","author":` + full(a, "ann", 3) +
		`,"authors":[` + full(a, "ann", 3) + `,` + full(b, "bob", 4) + `,5]}]}`
	for _, q := range []string{"include=*&keys=author", "includeAll=true&keys=author", "include=author,authors&keys=author,authors"} {
		e.do(req{method: "GET", path: "/classes/IEPost?" + encodeQuery(q)}).expect(t, http.StatusOK, both)
	}
	names := `{"results":[{"objectId":"` + post + `","createdAt":"<date>","updatedAt":"<date>","authors":[` +
		`{"__type":"Object","className":"IEAuthor","objectId":"` + a + `","createdAt":"<date>","updatedAt":"<date>","name":"ann"},` +
		`{"__type":"Object","className":"IEAuthor","objectId":"` + b + `","createdAt":"<date>","updatedAt":"<date>","name":"bob"},5]}]}`
	e.do(req{method: "GET", path: "/classes/IEPost?" + encodeQuery("keys=authors.name")}).expect(t, http.StatusOK, names)
}

// TestExcludeKeysPaths: a dot path in excludeKeys reaches into included
// objects, not into plain objects, as the reference answers.
func TestExcludeKeysPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.create("EKAuthor", map[string]any{"name": "ann", "age": 3.0})
	p := e.create("EKPost", map[string]any{"o": map[string]any{"x": 1.0, "y": 2.0},
		"author": map[string]any{"__type": "Pointer", "className": "EKAuthor", "objectId": a}})
	r := e.do(req{method: "GET", path: "/classes/EKPost?" + encodeQuery("include=author&excludeKeys=author.age,o.x")})
	r.expect(t, http.StatusOK, `{"results":[{"objectId":"`+p+`","createdAt":"<date>","updatedAt":"<date>","o":{"x":1,"y":2},
		"author":{"__type":"Object","className":"EKAuthor","objectId":"`+a+`","createdAt":"<date>","updatedAt":"<date>","name":"ann"}}]}`)
}
