package parse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/teststore"
	"github.com/parsego/parse/storage"
)

var tokenPattern = regexp.MustCompile(`^r:[0-9a-f]{32}$`)

// newUserApp returns an App and its store on a fresh namespace.
func newUserApp(t *testing.T, cfg parse.Config) (*parse.App, teststore.Store) {
	t.Helper()
	store := teststore.New(t)
	cfg.AppID, cfg.MasterKey, cfg.Store = "APP", "MASTER", store
	if cfg.ServerURL == "" {
		cfg.ServerURL = "http://example.test/parse"
	}
	app, err := parse.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app, store
}

// client returns a context acting as a client with the given session
// token ("" for none), as the REST API would authenticate it.
func client(t *testing.T, app *parse.App, token string) context.Context {
	t.Helper()
	auth, err := app.Authenticate(context.Background(), parse.Credentials{AppID: "APP", SessionToken: token})
	if err != nil {
		t.Fatalf("authenticate %q: %v", token, err)
	}
	return parse.WithAuth(context.Background(), auth)
}

func signUp(t *testing.T, app *parse.App, fields map[string]any) *parse.Object {
	t.Helper()
	u, err := app.Users.SignUp(client(t, app, ""), fields)
	if err != nil {
		t.Fatalf("sign up %v: %v", fields["username"], err)
	}
	return u
}

// storedDoc reads an object's stored document, hidden fields included.
func storedDoc(t *testing.T, store storage.Store, class, id string) map[string]any {
	t.Helper()
	o, err := store.Get(context.Background(), class, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(o.Data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSignUpLogInLogOut(t *testing.T) {
	t.Parallel()
	app, store := newUserApp(t, parse.Config{})
	ctx := context.Background()

	u := signUp(t, app, map[string]any{"username": "Alice", "password": "s3cret", "email": "alice@example.com", "age": 30})
	if len(u.ID) != 10 || !tokenPattern.MatchString(u.SessionToken()) {
		t.Fatalf("signed up %s with token %q", u.ID, u.SessionToken())
	}
	if _, ok := u.Fields["password"]; ok {
		t.Fatal("the user returned carries the password")
	}
	if want := (parse.ACL{u.ID: {Read: true, Write: true}}); fmt.Sprint(u.ACL) != fmt.Sprint(want) {
		t.Fatalf("ACL %v, want %v", u.ACL, want)
	}
	doc := storedDoc(t, store, parse.ClassUser, u.ID)
	hash, _ := doc["_hashed_password"].(string)
	if !strings.HasPrefix(hash, "$2a$10$") || len(hash) != 60 {
		t.Fatalf("stored hash %q, want bcrypt cost 10", hash)
	}
	if _, ok := doc["password"]; ok {
		t.Fatal("the password is stored in clear")
	}

	// The session is recorded with its creation.
	me, err := app.Sessions.Me(client(t, app, u.SessionToken()))
	if err != nil {
		t.Fatal(err)
	}
	if cw := fmt.Sprint(me.Fields["createdWith"]); cw != "map[action:signup authProvider:password]" {
		t.Fatalf("createdWith %s", cw)
	}
	if exp, _ := me.Fields["expiresAt"].(time.Time); exp.Before(time.Now().Add(364*24*time.Hour)) || me.ACL != nil {
		t.Fatalf("session expires %v, ACL %v", exp, me.ACL)
	}

	for _, l := range []parse.Login{
		{Username: "Alice", Password: "s3cret"},
		{Username: "alice@example.com", Password: "s3cret"}, // a username matches the email too
		{Email: "alice@example.com", Password: "s3cret"},
		{Username: "Alice", Email: "alice@example.com", Password: "s3cret"},
	} {
		got, err := app.Users.LogIn(client(t, app, ""), l)
		if err != nil {
			t.Fatalf("login %+v: %v", l, err)
		}
		if got.ID != u.ID || got.Fields["email"] != "alice@example.com" || got.Fields["age"] != 30.0 ||
			!tokenPattern.MatchString(got.SessionToken()) || got.SessionToken() == u.SessionToken() {
			t.Fatalf("login %+v gave %+v", l, got)
		}
	}
	for _, tc := range []struct {
		l    parse.Login
		code int
	}{
		{parse.Login{Username: "Alice", Password: "wrong"}, parse.ObjectNotFound},
		{parse.Login{Username: "alice", Password: "s3cret"}, parse.ObjectNotFound}, // usernames are exact at login
		{parse.Login{Username: "nobody", Password: "s3cret"}, parse.ObjectNotFound},
		{parse.Login{Email: "ALICE@example.com", Password: "s3cret"}, parse.ObjectNotFound},
		{parse.Login{Username: "Alice", Email: "other@example.com", Password: "s3cret"}, parse.ObjectNotFound},
		{parse.Login{Password: "s3cret"}, parse.UsernameMissing},
		{parse.Login{Username: "Alice"}, parse.PasswordMissing},
	} {
		_, err := app.Users.LogIn(ctx, tc.l)
		wantCode(t, err, tc.code)
		if tc.code == parse.ObjectNotFound && err.Error() != "parse error 101: Invalid username/password." {
			t.Fatalf("login %+v: %v", tc.l, err)
		}
	}

	// Logging out revokes that token only.
	other, err := app.Users.LogIn(ctx, parse.Login{Username: "Alice", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Users.LogOut(ctx, u.SessionToken()); err != nil {
		t.Fatal(err)
	}
	_, err = app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: u.SessionToken()})
	wantCode(t, err, parse.InvalidSessionToken)
	if _, err := app.Users.Me(client(t, app, other.SessionToken())); err != nil {
		t.Fatalf("the other session was revoked too: %v", err)
	}
	if err := app.Users.LogOut(ctx, u.SessionToken()); err != nil {
		t.Fatalf("logging out twice: %v", err)
	}
}

func TestSignUpErrors(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	signUp(t, app, map[string]any{"username": "Taken", "password": "pw", "email": "taken@example.com"})
	for _, tc := range []struct {
		name   string
		fields map[string]any
		code   int
	}{
		{"no username", map[string]any{"password": "pw"}, parse.UsernameMissing},
		{"empty username", map[string]any{"username": "", "password": "pw"}, parse.UsernameMissing},
		{"username not a string", map[string]any{"username": 5, "password": "pw"}, parse.UsernameMissing},
		{"no password", map[string]any{"username": "newbie"}, parse.PasswordMissing},
		{"empty password", map[string]any{"username": "newbie", "password": ""}, parse.PasswordMissing},
		{"password not a string", map[string]any{"username": "newbie", "password": 5}, parse.PasswordMissing},
		{"username taken", map[string]any{"username": "Taken", "password": "pw"}, parse.UsernameTaken},
		{"username taken, other case", map[string]any{"username": "tAKEN", "password": "pw"}, parse.UsernameTaken},
		{"email taken, other case", map[string]any{"username": "newbie", "password": "pw", "email": "TAKEN@example.com"}, parse.EmailTaken},
		{"both taken: the username first", map[string]any{"username": "taken", "password": "pw", "email": "taken@example.com"}, parse.UsernameTaken},
		{"invalid email", map[string]any{"username": "newbie", "password": "pw", "email": "not-an-email"}, parse.InvalidEmailAddress},
		{"invalid email, username taken: the username first", map[string]any{"username": "TAKEN", "password": "pw", "email": "nope"}, parse.UsernameTaken},
		{"email not a string", map[string]any{"username": "newbie", "password": "pw", "email": 5}, parse.IncorrectType},
		{"emailVerified from a client", map[string]any{"username": "newbie", "password": "pw", "emailVerified": true}, parse.OperationForbidden},
		{"unknown auth provider", map[string]any{"authData": map[string]any{"myoauth": map[string]any{"id": "x"}}}, parse.UnsupportedService},
		{"null authData", map[string]any{"username": "newbie", "password": "pw", "authData": nil}, parse.UnsupportedService},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := app.Users.SignUp(client(t, app, ""), tc.fields)
			wantCode(t, err, tc.code)
		})
	}
	// The master key may set emailVerified.
	u, err := app.Users.SignUp(context.Background(), map[string]any{"username": "verified", "password": "pw", "emailVerified": true})
	if err != nil || u.Fields["emailVerified"] != true {
		t.Fatalf("master sign-up with emailVerified: %v %v", u, err)
	}
	// Nothing of the failed sign-ups was stored.
	n, err := app.Query(parse.ClassUser).Count(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("%d users (%v), want 2", n, err)
	}
}

// Hashes made by the reference ($2y$, from its bcrypt) and the other bcrypt
// prefixes verify.
func TestLogInWithReferenceHashes(t *testing.T) {
	t.Parallel()
	app, store := newUserApp(t, parse.Config{})
	ctx := context.Background()
	// "pw", hashed by Parse Server 9.10.
	const refHash = "$2y$10$fALymVPufQRnrRYlRGUx8OkkzMXnS331J3s3fSXOoXl8AsNIU905O"
	for i, prefix := range []string{"$2y$", "$2b$", "$2a$"} {
		name := fmt.Sprintf("migrated%d", i)
		u := signUp(t, app, map[string]any{"username": name, "password": "something else"})
		hash := prefix + strings.TrimPrefix(refHash, "$2y$")
		_, err := store.Update(ctx, parse.ClassUser, u.ID, storage.Update{
			UpdatedAt: time.Now(),
			Ops:       []storage.Op{{Field: "_hashed_password", Kind: storage.OpSet, Value: json.RawMessage(`"` + hash + `"`)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Users.LogIn(ctx, parse.Login{Username: name, Password: "pw"}); err != nil {
			t.Errorf("%s hash: %v", prefix, err)
		}
		_, err = app.Users.LogIn(ctx, parse.Login{Username: name, Password: "something else"})
		wantCode(t, err, parse.ObjectNotFound)
	}
}

func TestPasswordChangeRevokesSessions(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	ctx := context.Background()
	u := signUp(t, app, map[string]any{"username": "changer", "password": "old"})
	second, err := app.Users.LogIn(ctx, parse.Login{Username: "changer", Password: "old"})
	if err != nil {
		t.Fatal(err)
	}
	// A field update keeps the sessions and gives no token.
	self := client(t, app, u.SessionToken())
	got, err := app.Users.Update(self, u.ID, map[string]any{"phone": "555"})
	if err != nil || got.SessionToken() != "" {
		t.Fatalf("update: %v, token %q", err, got.SessionToken())
	}
	got, err = app.Users.Update(self, u.ID, map[string]any{"password": "new"})
	if err != nil {
		t.Fatal(err)
	}
	fresh := got.SessionToken()
	if !tokenPattern.MatchString(fresh) || fresh == u.SessionToken() || fresh == second.SessionToken() {
		t.Fatalf("new token %q", fresh)
	}
	for _, old := range []string{u.SessionToken(), second.SessionToken()} {
		_, err := app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: old})
		wantCode(t, err, parse.InvalidSessionToken)
	}
	sess, err := app.Sessions.Me(client(t, app, fresh))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sess.Fields["createdWith"]; ok {
		t.Fatalf("the reference's password-change session has no createdWith: %v", sess.Fields)
	}
	_, err = app.Users.LogIn(ctx, parse.Login{Username: "changer", Password: "old"})
	wantCode(t, err, parse.ObjectNotFound)
	if _, err := app.Users.LogIn(ctx, parse.Login{Username: "changer", Password: "new"}); err != nil {
		t.Fatal(err)
	}

	// The master key changes a password without a session of its own.
	got, err = app.Users.Update(ctx, u.ID, map[string]any{"password": "master-set"})
	if err != nil || got.SessionToken() != "" {
		t.Fatalf("master password change: %v, token %q", err, got.SessionToken())
	}
	_, err = app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: fresh})
	wantCode(t, err, parse.InvalidSessionToken)
	n, err := app.Sessions.Query().Count(ctx)
	if err != nil || n != 0 {
		t.Fatalf("%d sessions left (%v)", n, err)
	}
}

func TestUserVisibility(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	ctx := context.Background()
	alice := signUp(t, app, map[string]any{
		"username": "alice", "password": "pw", "email": "alice@example.com",
		"ACL": map[string]any{"*": map[string]any{"read": true}},
	})
	if !alice.ACL["*"].Read || !alice.ACL[alice.ID].Write {
		t.Fatalf("a given ACL keeps the user's own rights: %v", alice.ACL)
	}
	if _, err := app.Users.Update(ctx, alice.ID, map[string]any{"authData": map[string]any{"anonymous": map[string]any{"id": "a1"}}}); err != nil {
		t.Fatal(err)
	}
	bob := signUp(t, app, map[string]any{"username": "bob", "password": "pw", "email": "bob@example.com"})
	asBob, asAlice := client(t, app, bob.SessionToken()), client(t, app, alice.SessionToken())

	seen, err := app.Users.Get(asBob, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"email", "authData", "sessionToken", "password"} {
		if _, ok := seen.Fields[f]; ok {
			t.Errorf("bob sees alice's %s", f)
		}
	}
	self, err := app.Users.Get(asAlice, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if self.Fields["email"] != "alice@example.com" || self.SessionToken() != alice.SessionToken() || self.Fields["authData"] == nil {
		t.Fatalf("alice sees herself as %v", self.Fields)
	}
	master, err := app.Users.Get(ctx, alice.ID)
	if err != nil || master.Fields["email"] != "alice@example.com" || master.SessionToken() != "" {
		t.Fatalf("master sees %v (%v)", master, err)
	}
	// Bob's private user is invisible to alice; queries hide protected fields.
	_, err = app.Users.Get(asAlice, bob.ID)
	wantCode(t, err, parse.ObjectNotFound)
	list, err := app.Users.Query().Order("username").Find(asBob)
	if err != nil || len(list) != 2 {
		t.Fatalf("bob's query: %v %v", list, err)
	}
	if _, ok := list[0].Fields["email"]; ok || list[1].Fields["email"] != "bob@example.com" || list[1].SessionToken() != "" {
		t.Fatalf("bob's query shows %v and %v", list[0].Fields, list[1].Fields)
	}
	// Clients can't search users by email (the reference's 119).
	_, err = app.Users.Query().EqualTo("email", "alice@example.com").Find(asBob)
	wantCode(t, err, parse.OperationForbidden)
	_, err = app.Users.Query().Where(map[string]any{"$or": []any{map[string]any{"email": "x"}}}).Count(asBob)
	wantCode(t, err, parse.OperationForbidden)
	_, err = app.Users.Query().Order("-email").Find(asBob)
	wantCode(t, err, parse.OperationForbidden)
	if found, err := app.Users.Query().EqualTo("email", "alice@example.com").Find(ctx); err != nil || len(found) != 1 {
		t.Fatalf("master query by email: %v %v", found, err)
	}
	// An included user is protected as well.
	post, err := app.Objects.Create(ctx, "Post", map[string]any{"author": alice.Pointer()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := app.Query("Post").Include("author").Get(asBob, post.ID)
	if err != nil {
		t.Fatal(err)
	}
	author, _ := got.Fields["author"].(*parse.Object)
	if author == nil || author.Fields["username"] != "alice" || author.Fields["email"] != nil || author.Fields["authData"] != nil {
		t.Fatalf("included author %+v", author)
	}
}

func TestUserWriteAuthorization(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	ctx := context.Background()
	alice := signUp(t, app, map[string]any{"username": "alice", "password": "pw", "email": "alice@example.com"})
	bob := signUp(t, app, map[string]any{"username": "bob", "password": "pw"})
	asBob, anon := client(t, app, bob.SessionToken()), client(t, app, "")

	for _, tc := range []struct {
		name string
		ctx  context.Context
		id   string
		code int
	}{
		{"no session", anon, alice.ID, parse.SessionMissing},
		{"another user", asBob, alice.ID, parse.SessionMissing},
		{"a missing user, as a client", asBob, "xxxxxxxxxx", parse.SessionMissing},
		{"a missing user, as master", ctx, "xxxxxxxxxx", parse.ObjectNotFound},
	} {
		_, err := app.Users.Update(tc.ctx, tc.id, map[string]any{"phone": "1"})
		wantCode(t, err, tc.code)
		wantCode(t, app.Users.Delete(tc.ctx, tc.id), tc.code)
	}
	asAlice := client(t, app, alice.SessionToken())
	for _, tc := range []struct {
		name   string
		fields map[string]any
		code   int
	}{
		{"emailVerified", map[string]any{"emailVerified": true}, parse.OperationForbidden},
		{"username taken", map[string]any{"username": "BOB"}, parse.UsernameTaken},
		{"invalid email", map[string]any{"email": "nope"}, parse.InvalidEmailAddress},
	} {
		_, err := app.Users.Update(asAlice, alice.ID, tc.fields)
		wantCode(t, err, tc.code)
	}
	// Renaming to another case of one's own name is fine; a client can't
	// lock itself out with its ACL.
	u, err := app.Users.Update(asAlice, alice.ID, map[string]any{"username": "Alice", "ACL": map[string]any{"*": map[string]any{"read": true}}})
	if err != nil {
		t.Fatal(err)
	}
	if !u.ACL[alice.ID].Read || !u.ACL[alice.ID].Write || !u.ACL["*"].Read {
		t.Fatalf("ACL after update %v", u.ACL)
	}
	// The generic object API goes through the same rules.
	_, err = app.Objects.Update(asBob, parse.ClassUser, alice.ID, map[string]any{"phone": "1"})
	wantCode(t, err, parse.SessionMissing)
	if _, err := app.Objects.Update(asAlice, parse.ClassUser, alice.ID, map[string]any{"password": "pw2"}); err != nil {
		t.Fatal(err)
	}

	// Deleting oneself removes one's sessions.
	bob2, err := app.Users.LogIn(ctx, parse.Login{Username: "bob", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Objects.Delete(asBob, parse.ClassUser, bob.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{bob.SessionToken(), bob2.SessionToken()} {
		_, err := app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: tok})
		wantCode(t, err, parse.InvalidSessionToken)
	}
	n, err := app.Sessions.Query().EqualTo("user", parse.Pointer{ClassName: parse.ClassUser, ObjectID: bob.ID}).Count(ctx)
	if err != nil || n != 0 {
		t.Fatalf("%d sessions of the deleted user (%v)", n, err)
	}
	_, err = app.Users.LogIn(ctx, parse.Login{Username: "bob", Password: "pw"})
	wantCode(t, err, parse.ObjectNotFound)
}

// Concurrent sign-ups of one username, in different letter cases: the
// unique index lets exactly one through.
func TestConcurrentSignUps(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	names := []string{"racer", "Racer", "RACER", "rAcEr", "racER", "RaCeR", "raceR", "RACEr"}
	signUp(t, app, map[string]any{"username": "warmup", "password": "pw"}) // the class exists
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			_, errs[i] = app.Users.SignUp(context.Background(), map[string]any{"username": name, "password": "pw"})
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch parse.ErrorCode(err) {
		case 0:
			wins++
		case parse.UsernameTaken:
		default:
			t.Errorf("%s: %v", names[i], err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d sign-ups won, want 1: %v", wins, errs)
	}
}

func TestAnonymousUsers(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	anon := client(t, app, "")
	authData := map[string]any{"anonymous": map[string]any{"id": "device-1"}}
	u, created, err := app.Users.SignUpOrLogIn(anon, map[string]any{"authData": authData})
	if err != nil || !created {
		t.Fatalf("anonymous sign-up: created %v, %v", created, err)
	}
	name, _ := u.Fields["username"].(string)
	if len(name) != 25 || !tokenPattern.MatchString(u.SessionToken()) {
		t.Fatalf("anonymous user %v", u.Fields)
	}
	again, created, err := app.Users.SignUpOrLogIn(anon, map[string]any{"authData": authData})
	if err != nil || created || again.ID != u.ID || again.SessionToken() == u.SessionToken() {
		t.Fatalf("anonymous login: %v created %v, %v", again, created, err)
	}
	sess, err := app.Sessions.Me(client(t, app, again.SessionToken()))
	if err != nil || fmt.Sprint(sess.Fields["createdWith"]) != "map[action:login authProvider:anonymous]" {
		t.Fatalf("session %v (%v)", sess, err)
	}
	// Linking it to another user is refused; unlinking removes it.
	other := signUp(t, app, map[string]any{"username": "other", "password": "pw"})
	asOther := client(t, app, other.SessionToken())
	_, err = app.Users.Update(asOther, other.ID, map[string]any{"authData": authData})
	wantCode(t, err, parse.AccountAlreadyLinked)
	asAnon := client(t, app, u.SessionToken())
	if _, err := app.Users.Update(asAnon, u.ID, map[string]any{"authData": map[string]any{"anonymous": nil}}); err != nil {
		t.Fatal(err)
	}
	me, err := app.Users.Me(asAnon)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := me.Fields["authData"]; ok {
		t.Fatalf("authData after unlinking: %v", me.Fields["authData"])
	}

	// Anonymous users can be turned off.
	off, _ := newUserApp(t, parse.Config{DisableAnonymousUsers: true})
	_, err = off.Users.SignUp(client(t, off, ""), map[string]any{"authData": authData})
	wantCode(t, err, parse.UnsupportedService)
}
