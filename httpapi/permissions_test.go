package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// The permissions matrix: users in and out of nested roles, against
// public, user and role ACLs and against class-level permissions, for
// every read and write. Each allowed operation must work; every other must
// fail with the reference's code; no answer may carry another user's
// secrets.
func TestPermissionsMatrix(t *testing.T) {
	t.Parallel()
	e := &recorder{env: newEnv(t)}
	type user struct{ id, token string }
	users := map[string]user{}
	for _, name := range []string{"alice", "bob", "carol"} {
		r := e.do(req{method: "POST", path: "/users", body: map[string]any{"username": name, "password": "pw-" + name, "email": name + "@example.com"}})
		if r.status != http.StatusCreated {
			t.Fatalf("sign up %s: %d %s", name, r.status, r.body)
		}
		users[name] = user{id: r.obj(t)["objectId"].(string), token: r.obj(t)["sessionToken"].(string)}
	}
	r := e.do(req{method: "POST", path: "/users", body: map[string]any{"authData": map[string]any{"anonymous": map[string]any{"id": "anon-device-1"}}}})
	if r.status != http.StatusCreated {
		t.Fatalf("anonymous sign up: %d %s", r.status, r.body)
	}
	users["dave"] = user{id: r.obj(t)["objectId"].(string), token: r.obj(t)["sessionToken"].(string)}

	ptr := func(class, id string) map[string]any {
		return map[string]any{"__type": "Pointer", "className": class, "objectId": id}
	}
	addRel := func(ps ...map[string]any) map[string]any {
		objs := make([]any, len(ps))
		for i, p := range ps {
			objs[i] = p
		}
		return map[string]any{"__op": "AddRelation", "objects": objs}
	}
	role := func(name string, fields map[string]any) string {
		fields["name"], fields["ACL"] = name, map[string]any{"*": map[string]any{"read": true}}
		r := e.do(req{method: "POST", path: "/roles", auth: "master", body: fields})
		if r.status != http.StatusCreated {
			t.Fatalf("role %s: %d %s", name, r.status, r.body)
		}
		return r.obj(t)["objectId"].(string)
	}
	// Editors (alice) is a child of Staff (bob): alice is staff too.
	// Loop1 (carol) and Loop2 hold each other: a cycle, harmless.
	editors := role("Editors", map[string]any{"users": addRel(ptr("_User", users["alice"].id))})
	role("Staff", map[string]any{"users": addRel(ptr("_User", users["bob"].id)), "roles": addRel(ptr("_Role", editors))})
	loop1 := role("Loop1", map[string]any{"users": addRel(ptr("_User", users["carol"].id))})
	loop2 := role("Loop2", map[string]any{"roles": addRel(ptr("_Role", loop1))})
	if r := e.do(req{method: "PUT", path: "/roles/" + loop1, auth: "master", body: map[string]any{"roles": addRel(ptr("_Role", loop2))}}); r.status != http.StatusOK {
		t.Fatalf("close the loop: %d %s", r.status, r.body)
	}

	rw := map[string]any{"read": true, "write": true}
	ro := map[string]any{"read": true}
	everyone := []string{"anon", "alice", "bob", "carol", "dave", "master"}
	type object struct {
		class, id       string
		readers, writer []string
	}
	acl := func(name string, a map[string]any, readers, writers []string) object {
		id := e.create("PermDoc", map[string]any{"name": name, "ACL": a})
		return object{class: "PermDoc", id: id, readers: append(readers, "master"), writer: append(writers, "master")}
	}
	objects := []object{
		acl("public read", map[string]any{"*": ro}, everyone, nil),
		acl("public", map[string]any{"*": rw}, everyone, everyone),
		acl("alice only", map[string]any{users["alice"].id: rw}, []string{"alice"}, []string{"alice"}),
		acl("alice writes, bob reads", map[string]any{users["alice"].id: map[string]any{"write": true}, users["bob"].id: ro}, []string{"bob"}, []string{"alice"}),
		acl("staff", map[string]any{"role:Staff": rw}, []string{"alice", "bob"}, []string{"alice", "bob"}),
		acl("editors read", map[string]any{"role:Editors": ro}, []string{"alice"}, nil),
		acl("loop", map[string]any{"role:Loop2": rw}, []string{"carol"}, []string{"carol"}),
		acl("master only", map[string]any{}, nil, nil),
	}

	// Class-level permissions, set with the master key; objects public.
	clp := func(class string, perms map[string]any, fields map[string]any, readers, writers []string) object {
		r := e.do(req{method: "POST", path: "/schemas/" + class, auth: "master", body: map[string]any{
			"fields": map[string]any{"owner": map[string]any{"type": "Pointer", "targetClass": "_User"}, "name": map[string]any{"type": "String"}},
		}})
		if r.status != http.StatusOK {
			t.Fatalf("schema %s: %d %s", class, r.status, r.body)
		}
		fields["ACL"] = map[string]any{"*": rw}
		r = e.do(req{method: "POST", path: "/classes/" + class, auth: "master", body: fields})
		if r.status != http.StatusCreated {
			t.Fatalf("object of %s: %d %s", class, r.status, r.body)
		}
		id := r.obj(t)["objectId"].(string)
		if r := e.do(req{method: "PUT", path: "/schemas/" + class, auth: "master", body: map[string]any{"classLevelPermissions": perms}}); r.status != http.StatusOK {
			t.Fatalf("CLP of %s: %d %s", class, r.status, r.body)
		}
		return object{class: class, id: id, readers: append(readers, "master"), writer: append(writers, "master")}
	}
	staffOnly := map[string]any{"role:Staff": true}
	authed := map[string]any{"requiresAuthentication": true}
	objects = append(objects,
		clp("PermStaff", map[string]any{"find": staffOnly, "get": staffOnly, "count": staffOnly, "create": staffOnly, "update": staffOnly, "delete": staffOnly, "addField": staffOnly},
			map[string]any{"name": "staff class"}, []string{"alice", "bob"}, []string{"alice", "bob"}),
		clp("PermAuthed", map[string]any{"find": authed, "get": authed, "count": authed, "create": authed, "update": authed, "delete": authed, "addField": authed},
			map[string]any{"name": "authenticated class"}, []string{"alice", "bob", "carol", "dave"}, []string{"alice", "bob", "carol", "dave"}),
		clp("PermOwned", map[string]any{"find": map[string]any{}, "get": map[string]any{}, "count": map[string]any{}, "create": map[string]any{}, "update": map[string]any{}, "delete": map[string]any{}, "addField": map[string]any{},
			"readUserFields": []any{"owner"}, "writeUserFields": []any{"owner"}},
			map[string]any{"name": "owned by bob", "owner": ptr("_User", users["bob"].id)}, []string{"bob"}, []string{"bob"}),
	)
	// A public holder per object, to include it.
	holders := map[string]string{}
	for _, o := range objects {
		holders[o.id] = e.create("PermHolder"+o.class, map[string]any{"target": ptr(o.class, o.id)})
	}

	// wantRead is the code of a read the caller may not make: 119 where the
	// class-level permission refuses the operation, 101 where it requires a
	// user and there is none, or where the object's ACL hides it.
	wantRead := func(o object, who string) int {
		switch {
		case slices.Contains(o.readers, who):
			return 0
		case o.class == "PermStaff":
			return 119
		}
		return 101
	}
	as := func(who string, q req) resp {
		switch who {
		case "master":
			q.auth = "master"
		case "anon":
		default:
			q.headers = map[string]string{"X-Parse-Session-Token": users[who].token}
		}
		return e.do(q)
	}
	where := func(id string) string { return url.QueryEscape(fmt.Sprintf(`{"objectId":%q}`, id)) }
	for _, o := range objects {
		for _, who := range everyone {
			name := fmt.Sprintf("%s %s as %s", o.class, o.id, who)
			code := wantRead(o, who)
			// get
			r := as(who, req{method: "GET", path: "/classes/" + o.class + "/" + o.id})
			if code == 0 {
				if r.status != http.StatusOK || r.obj(t)["objectId"] != o.id {
					t.Errorf("%s: get: %d %s", name, r.status, r.body)
				}
			} else if got := errCode(r); got != code {
				t.Errorf("%s: get: code %d, want %d (%s)", name, got, code, r.body)
			}
			// find and count: a hidden object is left out, a refused
			// operation is an error.
			r = as(who, req{method: "GET", path: "/classes/" + o.class + "?count=1&where=" + where(o.id)})
			switch {
			case code == 0:
				if m := r.obj(t); r.status != http.StatusOK || m["count"] != 1.0 || len(m["results"].([]any)) != 1 {
					t.Errorf("%s: find: %d %s", name, r.status, r.body)
				}
			case code == 119 || (code == 101 && o.class == "PermAuthed" && who == "anon"):
				if got := errCode(r); got != code {
					t.Errorf("%s: find: code %d, want %d (%s)", name, got, code, r.body)
				}
			default:
				if m := r.obj(t); r.status != http.StatusOK || m["count"] != 0.0 || len(m["results"].([]any)) != 0 {
					t.Errorf("%s: find: want nothing, got %d %s", name, r.status, r.body)
				}
			}
			// include: an unreadable target disappears from its holder.
			if code == 0 || code == 101 && o.class != "PermAuthed" {
				r = as(who, req{method: "GET", path: "/classes/PermHolder" + o.class + "/" + holders[o.id] + "?include=target"})
				target, present := r.obj(t)["target"].(map[string]any)
				switch {
				case r.status != http.StatusOK:
					t.Errorf("%s: include: %d %s", name, r.status, r.body)
				case code == 0 && (!present || target["__type"] != "Object" || target["objectId"] != o.id):
					t.Errorf("%s: include: target %v", name, r.obj(t)["target"])
				case code != 0 && present:
					t.Errorf("%s: include shows an unreadable target: %s", name, r.body)
				}
			}
		}
	}
	// Writes: every caller tries each object; the writers succeed.
	for _, o := range objects {
		for _, who := range everyone {
			name := fmt.Sprintf("%s %s as %s", o.class, o.id, who)
			want := 0
			switch {
			case slices.Contains(o.writer, who):
			case o.class == "PermStaff":
				want = 119
			default:
				want = 101
			}
			r := as(who, req{method: "PUT", path: "/classes/" + o.class + "/" + o.id, body: map[string]any{"name": "by " + who}})
			if want == 0 && r.status != http.StatusOK {
				t.Errorf("%s: update: %d %s", name, r.status, r.body)
			} else if want != 0 && errCode(r) != want {
				t.Errorf("%s: update: code %d, want %d (%s)", name, errCode(r), want, r.body)
			}
		}
	}
	for _, o := range objects {
		for _, who := range everyone {
			if slices.Contains(o.writer, who) {
				continue // deleted last, by its first writer
			}
			name := fmt.Sprintf("%s %s as %s", o.class, o.id, who)
			want := 101
			if o.class == "PermStaff" {
				want = 119
			}
			if r := as(who, req{method: "DELETE", path: "/classes/" + o.class + "/" + o.id}); errCode(r) != want {
				t.Errorf("%s: delete: code %d, want %d (%s)", name, errCode(r), want, r.body)
			}
		}
		if r := as(o.writer[0], req{method: "DELETE", path: "/classes/" + o.class + "/" + o.id}); r.status != http.StatusOK {
			t.Errorf("%s %s: delete as %s: %d %s", o.class, o.id, o.writer[0], r.status, r.body)
		}
	}
	// Creates: the class-level permission decides.
	for _, tc := range []struct {
		class, who string
		want       int
	}{
		{"PermStaff", "alice", 0}, {"PermStaff", "carol", 119}, {"PermStaff", "anon", 119},
		{"PermAuthed", "dave", 0}, {"PermAuthed", "anon", 101},
		{"PermOwned", "bob", 119}, {"PermOwned", "master", 0},
	} {
		r := as(tc.who, req{method: "POST", path: "/classes/" + tc.class, body: map[string]any{"name": "new"}})
		if tc.want == 0 && r.status != http.StatusCreated || tc.want != 0 && errCode(r) != tc.want {
			t.Errorf("create %s as %s: %d %s, want code %d", tc.class, tc.who, r.status, r.body, tc.want)
		}
	}

	// Users see each other without email or authData, themselves whole.
	r = as("bob", req{method: "GET", path: "/users/" + users["dave"].id})
	if m := r.obj(t); m["authData"] != nil || m["email"] != nil || m["sessionToken"] != nil {
		t.Errorf("bob sees dave's secrets: %s", r.body)
	}
	r = as("dave", req{method: "GET", path: "/users/" + users["dave"].id})
	if m := r.obj(t); m["authData"] == nil || m["sessionToken"] != users["dave"].token {
		t.Errorf("dave's own user: %s", r.body)
	}
	r = as("carol", req{method: "GET", path: "/users?order=username"})
	for _, u := range r.obj(t)["results"].([]any) {
		m := u.(map[string]any)
		if m["objectId"] != users["carol"].id && (m["email"] != nil || m["authData"] != nil) {
			t.Errorf("carol's query shows another user's secrets: %v", m)
		}
	}
	if r := as("carol", req{method: "GET", path: "/users?where=" + url.QueryEscape(`{"email":"alice@example.com"}`)}); errCode(r) != 119 {
		t.Errorf("query by a protected field: %d %s", r.status, r.body)
	}
	// No answer carried a password, a hash, or someone else's token.
	e.noSecrets("pw-alice", "pw-bob", "pw-carol")
	for _, b := range e.bodies {
		for name, u := range users {
			if slices.Contains([]string{"alice", "bob", "carol", "dave"}, name) && bytesContains(b, u.token) && !bytesContains(b, `"objectId":"`+u.id+`"`) {
				t.Errorf("a response carries %s's session token: %s", name, b)
			}
		}
	}
}

// errCode is the Parse error code of an answer, 0 when it is no error.
func errCode(r resp) int {
	var body struct {
		Code int `json:"code"`
	}
	if r.status < 400 || json.Unmarshal(r.body, &body) != nil {
		return 0
	}
	return body.Code
}

func bytesContains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
