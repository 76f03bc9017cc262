package parse_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/internal/teststore"
	"github.com/parsego/parse/storage"
)

func TestSessionsAreTheirOwners(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	ctx := context.Background()
	alice := signUp(t, app, map[string]any{"username": "alice", "password": "pw"})
	bob := signUp(t, app, map[string]any{"username": "bob", "password": "pw"})
	asAlice, asBob, anon := client(t, app, alice.SessionToken()), client(t, app, bob.SessionToken()), client(t, app, "")

	// POST /sessions: a restricted session for the caller, with extra fields.
	extra, err := app.Sessions.Create(asAlice, map[string]any{"deviceName": "laptop", "sessionToken": "r:0", "user": bob.Pointer()})
	if err != nil {
		t.Fatal(err)
	}
	if extra.Fields["user"] != alice.Pointer() || extra.Fields["deviceName"] != "laptop" ||
		fmt.Sprint(extra.Fields["createdWith"]) != "map[action:create]" || !tokenPattern.MatchString(extra.SessionToken()) {
		t.Fatalf("created session %v", extra.Fields)
	}
	if u, err := app.Users.Me(client(t, app, extra.SessionToken())); err != nil || u.ID != alice.ID {
		t.Fatalf("the created token resolves to %v (%v)", u, err)
	}
	_, err = app.Sessions.Create(anon, map[string]any{})
	wantCode(t, err, parse.InvalidSessionToken)
	_, err = app.Sessions.Create(asAlice, map[string]any{"ACL": map[string]any{}})
	wantCode(t, err, parse.InvalidKeyName)

	// Reads: one's own sessions only, never an ACL.
	mine, err := app.Sessions.Query().Find(asAlice)
	if err != nil || len(mine) != 2 {
		t.Fatalf("alice's sessions: %v (%v)", mine, err)
	}
	for _, s := range mine {
		if s.Fields["user"] != alice.Pointer() || s.ACL != nil {
			t.Fatalf("alice sees %v", s)
		}
	}
	if n, err := app.Sessions.Query().Count(asBob); err != nil || n != 1 {
		t.Fatalf("bob counts %d (%v)", n, err)
	}
	_, err = app.Sessions.Get(asBob, extra.ID)
	wantCode(t, err, parse.ObjectNotFound)
	if s, err := app.Sessions.Get(asAlice, extra.ID); err != nil || s.ID != extra.ID {
		t.Fatalf("get own: %v %v", s, err)
	}
	_, err = app.Sessions.Query().Find(anon)
	wantCode(t, err, parse.InvalidSessionToken)
	_, err = app.Objects.Get(anon, parse.ClassSession, extra.ID)
	wantCode(t, err, parse.InvalidSessionToken)
	if all, err := app.Sessions.Query().Find(ctx); err != nil || len(all) != 3 {
		t.Fatalf("master sees %d sessions (%v)", len(all), err)
	}
	// An include of a session pointer follows the same rule.
	if _, err := app.Objects.Create(ctx, "Device", map[string]any{"session": parse.Pointer{ClassName: parse.ClassSession, ObjectID: extra.ID}}); err != nil {
		t.Fatal(err)
	}
	devs, err := app.Query("Device").Include("session").Find(asBob)
	if err != nil || len(devs) != 1 || devs[0].Fields["session"] != nil {
		t.Fatalf("bob includes alice's session: %v (%v)", devs, err)
	}

	// Updates: custom fields of one's own sessions.
	if _, err := app.Sessions.Update(asAlice, extra.ID, map[string]any{"deviceName": "phone"}); err != nil {
		t.Fatal(err)
	}
	_, err = app.Sessions.Update(asBob, extra.ID, map[string]any{"deviceName": "stolen"})
	wantCode(t, err, parse.ObjectNotFound)
	_, err = app.Sessions.Update(anon, extra.ID, map[string]any{"deviceName": "x"})
	wantCode(t, err, parse.InvalidSessionToken)
	for _, tc := range []struct {
		field string
		value any
	}{
		{"ACL", map[string]any{}},
		{"user", bob.Pointer()},
		{"installationId", "x"},
		{"sessionToken", "r:00000000000000000000000000000000"},
		{"expiresAt", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"createdWith", map[string]any{"action": "login"}},
	} {
		_, err := app.Sessions.Update(asAlice, extra.ID, map[string]any{tc.field: tc.value})
		wantCode(t, err, parse.InvalidKeyName)
	}
	if _, err := app.Sessions.Update(ctx, extra.ID, map[string]any{"expiresAt": time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("master sets expiresAt: %v", err)
	}

	// Deletes: one's own; the token is revoked at once.
	wantCode(t, app.Sessions.Delete(asBob, extra.ID), parse.ObjectNotFound)
	wantCode(t, app.Sessions.Delete(anon, extra.ID), parse.InvalidSessionToken)
	if err := app.Objects.Delete(asAlice, parse.ClassSession, extra.ID); err != nil {
		t.Fatal(err)
	}
	_, err = app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: extra.SessionToken()})
	wantCode(t, err, parse.InvalidSessionToken)
	wantCode(t, app.Sessions.Delete(asAlice, extra.ID), parse.ObjectNotFound)

	// The master key creates working sessions for any user.
	made, err := app.Sessions.Create(ctx, map[string]any{"user": bob.Pointer(), "installationId": "console"})
	if err != nil || made.Fields["installationId"] != "console" {
		t.Fatalf("master session %v (%v)", made, err)
	}
	if u, err := app.Users.Me(client(t, app, made.SessionToken())); err != nil || u.ID != bob.ID {
		t.Fatalf("master-made token resolves to %v (%v)", u, err)
	}
	_, err = app.Sessions.Create(ctx, map[string]any{})
	wantCode(t, err, parse.MissingRequiredField)
}

func TestSessionInstallations(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	ctx := context.Background()
	onDevice := func(inst string) context.Context { return parse.WithAuth(ctx, parse.Auth{InstallationID: inst}) }
	u, err := app.Users.SignUp(onDevice("phone"), map[string]any{"username": "multi", "password": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	tablet, err := app.Users.LogIn(onDevice("tablet"), parse.Login{Username: "multi", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	// A new login from the phone replaces the phone's session only.
	phone2, err := app.Users.LogIn(onDevice("phone"), parse.Login{Username: "multi", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: u.SessionToken()})
	wantCode(t, err, parse.InvalidSessionToken)
	for _, tok := range []string{tablet.SessionToken(), phone2.SessionToken()} {
		if _, err := app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: tok}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := app.Sessions.Query().Order("installationId").Find(ctx)
	if err != nil || len(list) != 2 || list[0].Fields["installationId"] != "phone" || list[1].Fields["installationId"] != "tablet" ||
		fmt.Sprint(list[0].Fields["createdWith"]) != "map[action:login authProvider:password]" {
		t.Fatalf("sessions %v (%v)", list, err)
	}
	// Logins without an installation id never replace anything.
	for range 2 {
		if _, err := app.Users.LogIn(ctx, parse.Login{Username: "multi", Password: "pw"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := app.Sessions.Query().Count(ctx); n != 4 {
		t.Fatalf("%d sessions, want 4", n)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{SessionLength: 300 * time.Millisecond})
	u := signUp(t, app, map[string]any{"username": "brief", "password": "pw"})
	if _, err := app.Users.Become(context.Background(), u.SessionToken()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	// Expired, though cached less than the cache's TTL ago.
	_, err := app.Authenticate(context.Background(), parse.Credentials{AppID: "APP", SessionToken: u.SessionToken()})
	wantCode(t, err, parse.InvalidSessionToken)
}

// countingStore counts the statements a Store runs for session lookups.
type countingStore struct {
	teststore.Store
	joined, roles, finds, gets atomic.Int32
}

func (s *countingStore) UserRoles(ctx context.Context, userID string) ([]string, error) {
	s.roles.Add(1)
	return s.Store.UserRoles(ctx, userID)
}

func (s *countingStore) FindJoined(ctx context.Context, l storage.JoinLookup) (storage.Object, *storage.Object, error) {
	s.joined.Add(1)
	return s.Store.FindJoined(ctx, l)
}

func (s *countingStore) Find(ctx context.Context, class string, q storage.Query) ([]storage.Object, error) {
	s.finds.Add(1)
	return s.Store.Find(ctx, class, q)
}

func (s *countingStore) Get(ctx context.Context, class, id string, perms []string) (storage.Object, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, class, id, perms)
}

// noJoin hides a store's Joiner.
type noJoin struct{ storage.Store }

// Resolving a session token costs two round trips where the store can join
// and resolve roles (the session with its user, then the user's roles), and
// none while cached; a store without joins gives the same answers.
func TestSessionTokenResolution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		cache time.Duration
		wrap  func(storage.Store) storage.Store
	}{
		{"join, cached", parse.ReferenceSessionCacheTTL, nil},
		{"join, no cache", -1, nil},
		{"find and get", -1, func(s storage.Store) storage.Store { return noJoin{s} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			counting := &countingStore{Store: teststore.New(t)}
			var store storage.Store = counting
			if tc.wrap != nil {
				store = tc.wrap(counting.Store)
			}
			app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: store, SessionCacheTTL: tc.cache})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { app.Close() })
			u, err := app.Users.SignUp(ctx, map[string]any{"username": "resolver", "password": "pw", "email": "r@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			counting.joined.Store(0)
			counting.roles.Store(0)
			counting.finds.Store(0)
			counting.gets.Store(0)
			for range 3 {
				auth, err := app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: u.SessionToken()})
				if err != nil {
					t.Fatal(err)
				}
				if auth.User.ID != u.ID || auth.User.Fields["email"] != "r@example.com" || auth.SessionToken != u.SessionToken() {
					t.Fatalf("auth %+v", auth)
				}
				auth.User.Fields["email"] = "changed by a caller" // must not reach the cache
			}
			joined, roles, finds, gets := counting.joined.Load(), counting.roles.Load(), counting.finds.Load(), counting.gets.Load()
			switch tc.name {
			case "join, cached":
				if joined != 1 || roles != 1 || finds+gets != 0 {
					t.Fatalf("%d joins, %d role lookups, %d finds, %d gets for 3 cached lookups", joined, roles, finds, gets)
				}
			case "join, no cache":
				if joined != 3 || roles != 3 || finds+gets != 0 {
					t.Fatalf("%d joins, %d role lookups, %d finds, %d gets for 3 lookups", joined, roles, finds, gets)
				}
			}
			for _, bad := range []string{"r:00000000000000000000000000000000", "bogus", ""} {
				if bad == "" {
					continue
				}
				_, err := app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: bad})
				wantCode(t, err, parse.InvalidSessionToken)
			}
			// A session whose user is gone doesn't resolve.
			if _, err := counting.Store.DeleteMany(ctx, parse.ClassUser, nil); err != nil {
				t.Fatal(err)
			}
			app2, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: store, SessionCacheTTL: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer app2.Close()
			_, err = app2.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: u.SessionToken()})
			wantCode(t, err, parse.InvalidSessionToken)
		})
	}
}

// Two Apps on one database: without a cache, a logout on one is refused on
// the other at once; with one, as soon as the store's event reaches the
// other instance, long before the cache's TTL. Role changes reach the
// other instance's cached roles the same way.
func TestSessionRevocationAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store1, store2 := pgtest.NewStorePair(t)
	open := func(s storage.Store, ttl time.Duration) *parse.App {
		app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: s, SessionCacheTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		return app
	}
	a := open(store1, time.Hour)
	uncached := open(store2, -1)
	cached := open(store2, time.Hour)
	// eventually waits for the other instance's cache to follow.
	eventually := func(what string, done func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !done(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the cached instance never saw %s", what)
			}
		}
	}
	u, err := a.Users.SignUp(ctx, map[string]any{"username": "roamer", "password": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	creds := parse.Credentials{AppID: "APP", SessionToken: u.SessionToken()}
	for _, app := range []*parse.App{a, uncached, cached} {
		auth, err := app.Authenticate(ctx, creds)
		if err != nil || len(auth.Roles) != 0 {
			t.Fatalf("auth %+v, %v", auth, err)
		}
	}
	if _, err := a.Objects.Create(ctx, parse.ClassRole, map[string]any{
		"name": "Roamers", "ACL": parse.ACL{}, "users": parse.AddRelation(u.Pointer()),
	}); err != nil {
		t.Fatal(err)
	}
	eventually("the new role", func() bool {
		auth, err := cached.Authenticate(ctx, creds)
		return err == nil && slices.Equal(auth.Roles, []string{"Roamers"})
	})
	if err := a.Users.LogOut(ctx, u.SessionToken()); err != nil {
		t.Fatal(err)
	}
	_, err = a.Authenticate(ctx, creds)
	wantCode(t, err, parse.InvalidSessionToken)
	_, err = uncached.Authenticate(ctx, creds)
	wantCode(t, err, parse.InvalidSessionToken)
	eventually("the logout", func() bool {
		_, err := cached.Authenticate(ctx, creds)
		return parse.ErrorCode(err) == parse.InvalidSessionToken
	})
}

// BenchmarkAuthenticate measures resolving a session token: from the cache,
// and with one joined query when the cache is off.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", parse.ReferenceSessionCacheTTL}, {"uncached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: pgtest.NewStore(b), SessionCacheTTL: bc.ttl})
			if err != nil {
				b.Fatal(err)
			}
			defer app.Close()
			u, err := app.Users.SignUp(ctx, map[string]any{"username": "bench", "password": "pw"})
			if err != nil {
				b.Fatal(err)
			}
			creds := parse.Credentials{AppID: "APP", SessionToken: u.SessionToken()}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := app.Authenticate(ctx, creds); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
