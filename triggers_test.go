package parse_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parsego/parse"
)

// triggerLog records the after triggers that ran.
type triggerLog struct {
	mu     sync.Mutex
	events []string
}

func (l *triggerLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *triggerLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// newTriggerApp is an App whose class Doc has save and delete triggers:
// beforeSave rejects bad (142), rejects boom with its own code (an error
// that is not a Parse error: 142), and stamps every write; the after
// triggers record what they saw.
func newTriggerApp(t *testing.T) (*parse.App, *triggerLog) {
	app, log := newApp(t), &triggerLog{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(app.Triggers.Define(parse.TriggerBeforeSave, "Doc", func(_ context.Context, req *parse.TriggerRequest) error {
		f := req.Object.Fields
		if f["bad"] == true {
			return parse.NewError(parse.ValidationError, "bad docs are rejected")
		}
		if f["boom"] == true {
			return errors.New("boom")
		}
		if f["own"] == true {
			return parse.NewError(parse.InvalidQuery, "my own code")
		}
		f["stamp"] = "by the trigger"
		if req.Original != nil {
			f["previous"] = req.Original.Fields["n"]
		}
		delete(f, "secret")
		return nil
	}))
	must(app.Triggers.Define(parse.TriggerAfterSave, "Doc", func(_ context.Context, req *parse.TriggerRequest) error {
		log.add("afterSave " + req.Object.ID + " stamp=" + req.Object.Fields["stamp"].(string))
		return errors.New("after triggers can't fail a write")
	}))
	must(app.Triggers.Define(parse.TriggerBeforeDelete, "Doc", func(_ context.Context, req *parse.TriggerRequest) error {
		if req.Object.Fields["locked"] == true {
			return parse.NewError(parse.ValidationError, "locked")
		}
		return nil
	}))
	must(app.Triggers.Define(parse.TriggerAfterDelete, "Doc", func(_ context.Context, req *parse.TriggerRequest) error {
		log.add("afterDelete " + req.Object.ID)
		return nil
	}))
	return app, log
}

func TestTriggersOnGoWrites(t *testing.T) {
	t.Parallel()
	app, log := newTriggerApp(t)
	ctx := context.Background()

	doc, err := app.Objects.Create(ctx, "Doc", map[string]any{"n": 1, "secret": "dropped"})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Fields["stamp"] != "by the trigger" || doc.Fields["secret"] != nil {
		t.Errorf("created %v", doc.Fields)
	}
	if got := log.take(); !slices.Equal(got, []string{"afterSave " + doc.ID + " stamp=by the trigger"}) {
		t.Errorf("after create: %v", got)
	}
	up, err := app.Objects.Update(ctx, "Doc", doc.ID, map[string]any{"n": parse.Increment(1)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Fields["n"] != 2.0 || up.Fields["previous"] != 1.0 {
		t.Errorf("updated %v", up.Fields)
	}
	log.take()

	tests := []struct {
		name   string
		fields map[string]any
		code   int
	}{
		{"a Parse error keeps its code", map[string]any{"bad": true}, parse.ValidationError},
		{"its own code", map[string]any{"own": true}, parse.InvalidQuery},
		{"any other error is 142", map[string]any{"boom": true}, parse.ValidationError},
	}
	for _, tt := range tests {
		_, err := app.Objects.Create(ctx, "Doc", tt.fields)
		wantCode(t, err, tt.code)
		_, err = app.Objects.Update(ctx, "Doc", doc.ID, tt.fields)
		wantCode(t, err, tt.code)
	}
	// CreateMany: the rejected object fails alone.
	objs, errs := app.Objects.CreateMany(ctx, "Doc", []map[string]any{{"n": 10}, {"bad": true}, {"n": 12}})
	if errs[0] != nil || errs[2] != nil || parse.ErrorCode(errs[1]) != parse.ValidationError || objs[1] != nil {
		t.Fatalf("CreateMany: %v", errs)
	}
	if n, _ := app.Query("Doc").Count(ctx); n != 3 {
		t.Errorf("%d docs stored, want 3: nothing rejected is saved", n)
	}
	if got := log.take(); len(got) != 2 {
		t.Errorf("afterSave ran %d times for CreateMany, want 2: %v", len(got), got)
	}
	// Nothing a rejected update wrote is stored.
	if got, _ := app.Objects.Get(ctx, "Doc", doc.ID); got.Fields["bad"] != nil || got.Fields["n"] != 2.0 {
		t.Errorf("after rejected updates: %v", got.Fields)
	}

	locked, err := app.Objects.Create(ctx, "Doc", map[string]any{"locked": true})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, app.Objects.Delete(ctx, "Doc", locked.ID), parse.ValidationError)
	if _, err := app.Objects.Get(ctx, "Doc", locked.ID); err != nil {
		t.Errorf("locked doc gone: %v", err)
	}
	log.take()
	if err := app.Objects.Delete(ctx, "Doc", doc.ID); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); !slices.Equal(got, []string{"afterDelete " + doc.ID}) {
		t.Errorf("after delete: %v", got)
	}
	// A client that can't read the object gets 101, and the trigger
	// doesn't run for it.
	hidden, err := app.Objects.Create(ctx, "Doc", map[string]any{"ACL": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	log.take()
	wantCode(t, app.Objects.Delete(parse.WithAuth(ctx, parse.Auth{}), "Doc", hidden.ID), parse.ObjectNotFound)
	if got := log.take(); len(got) != 0 {
		t.Errorf("triggers ran for an unreadable object: %v", got)
	}
}

// TestAfterTriggersWaitForCommit: inside App.Tx, after triggers run once
// the transaction commits, and not at all when it rolls back.
func TestAfterTriggersWaitForCommit(t *testing.T) {
	t.Parallel()
	app, log := newTriggerApp(t)
	ctx := context.Background()
	err := app.Tx(ctx, func(ctx context.Context) error {
		if _, err := app.Objects.Create(ctx, "Doc", map[string]any{"n": 1}); err != nil {
			return err
		}
		if got := log.take(); len(got) != 0 {
			t.Errorf("afterSave ran before the commit: %v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 1 {
		t.Errorf("after commit: %v, want one afterSave", got)
	}
	err = app.Tx(ctx, func(ctx context.Context) error {
		if _, err := app.Objects.Create(ctx, "Doc", map[string]any{"n": 2}); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("Tx succeeded")
	}
	if got := log.take(); len(got) != 0 {
		t.Errorf("afterSave ran for a rolled-back write: %v", got)
	}
}

func TestFindAndLoginTriggers(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	for i := range 4 {
		if _, err := app.Objects.Create(ctx, "Item", map[string]any{"n": i, "hidden": i%2 == 1}); err != nil {
			t.Fatal(err)
		}
	}
	var events []string
	var mu sync.Mutex
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	defs := []struct {
		typ   parse.TriggerType
		class string
		fn    parse.Trigger
	}{
		{parse.TriggerBeforeFind, "Item", func(_ context.Context, req *parse.TriggerRequest) error {
			if req.Auth.Master {
				return nil
			}
			req.Query.EqualTo("hidden", false)
			return nil
		}},
		{parse.TriggerAfterFind, "Item", func(_ context.Context, req *parse.TriggerRequest) error {
			for _, o := range req.Objects {
				o.Fields["seen"] = true
			}
			return nil
		}},
		{parse.TriggerBeforeLogin, "", func(_ context.Context, req *parse.TriggerRequest) error {
			if req.Object.Fields["username"] == "banned" {
				return parse.NewError(parse.ObjectNotFound, "banned")
			}
			return nil
		}},
		{parse.TriggerAfterLogin, "", func(_ context.Context, req *parse.TriggerRequest) error {
			record("login " + req.Object.Fields["username"].(string))
			return nil
		}},
		{parse.TriggerAfterLogout, "", func(_ context.Context, req *parse.TriggerRequest) error {
			record("logout " + req.Object.Fields["user"].(parse.Pointer).ObjectID)
			return nil
		}},
	}
	for _, d := range defs {
		if err := app.Triggers.Define(d.typ, d.class, d.fn); err != nil {
			t.Fatal(err)
		}
	}
	client := parse.WithAuth(ctx, parse.Auth{})
	got, err := app.Query("Item").Order("n").Find(client)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Fields["n"] != 0.0 || got[1].Fields["n"] != 2.0 || got[0].Fields["seen"] != true {
		t.Errorf("client find: %v", got)
	}
	if n, _ := app.Query("Item").Count(client); n != 2 {
		t.Errorf("client count %d, want 2", n)
	}
	if all, _ := app.Query("Item").Find(ctx); len(all) != 4 {
		t.Errorf("master find: %d items, want 4", len(all))
	}

	for _, name := range []string{"banned", "fine"} {
		if _, err := app.Users.SignUp(ctx, map[string]any{"username": name, "password": "pw"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = app.Users.LogIn(ctx, parse.Login{Username: "banned", Password: "pw"})
	wantCode(t, err, parse.ObjectNotFound)
	u, err := app.Users.LogIn(ctx, parse.Login{Username: "fine", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Users.LogOut(ctx, u.SessionToken()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"login fine", "logout " + u.ID}; !slices.Equal(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}
}

func TestTriggerDefinitions(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	noop := func(context.Context, *parse.TriggerRequest) error { return nil }
	tests := []struct {
		typ   parse.TriggerType
		class string
		ok    bool
	}{
		{parse.TriggerBeforeSave, "Doc", true},
		{parse.TriggerBeforeSave, "_User", true},
		{parse.TriggerBeforeSave, "_Session", false},
		{parse.TriggerBeforeSave, "", false},
		{parse.TriggerBeforeSave, "no spaces", false},
		{parse.TriggerBeforeLogin, "", true},
		{parse.TriggerBeforeLogin, "Doc", false},
		{parse.TriggerAfterLogout, "_Session", true},
		{parse.TriggerBeforeSaveFile, "Doc", false},
		{"beforeNothing", "Doc", false},
	}
	for _, tt := range tests {
		if err := app.Triggers.Define(tt.typ, tt.class, noop); (err == nil) != tt.ok {
			t.Errorf("Define(%s, %q): %v", tt.typ, tt.class, err)
		}
	}
}

func TestFileTriggers(t *testing.T) {
	t.Parallel()
	app, blobs := newFilesApp(t, nil)
	ctx := context.Background()
	var saved []parse.FileInfo
	if err := app.Triggers.Define(parse.TriggerBeforeSaveFile, "", func(_ context.Context, req *parse.TriggerRequest) error {
		switch req.File.Name {
		case "virus.exe":
			return parse.NewError(parse.FileSaveError, "no executables")
		case "note":
			req.File.Name, req.File.ContentType = "note.txt", "text/plain"
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := app.Triggers.Define(parse.TriggerAfterSaveFile, parse.ClassFile, func(_ context.Context, req *parse.TriggerRequest) error {
		saved = append(saved, *req.File)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err := app.Files.Upload(ctx, "virus.exe", "", strings.NewReader("MZ"))
	wantCode(t, err, parse.FileSaveError)
	if n := blobs.count(); n != 0 {
		t.Fatalf("%d blobs stored for a refused upload", n)
	}
	f, err := app.Files.Upload(ctx, "note", "application/octet-stream", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(f.Name, "_note.txt") {
		t.Errorf("stored as %q", f.Name)
	}
	if _, info := readFile(t, app, f.Name); info.ContentType != "text/plain" {
		t.Errorf("content type %q", info.ContentType)
	}
	if len(saved) != 1 || saved[0].Name != f.Name || saved[0].Size != 5 {
		t.Errorf("afterSaveFile saw %+v", saved)
	}
}

func TestUserTriggers(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	var deleted []string
	for typ, fn := range map[parse.TriggerType]parse.Trigger{
		parse.TriggerBeforeSave: func(_ context.Context, req *parse.TriggerRequest) error {
			if req.Object.Fields["username"] == "root" {
				return parse.NewError(parse.UsernameTaken, "reserved")
			}
			req.Object.Fields["checked"] = true
			return nil
		},
		parse.TriggerBeforeDelete: func(_ context.Context, req *parse.TriggerRequest) error {
			if req.Object.Fields["keep"] == true {
				return parse.NewError(parse.ValidationError, "kept")
			}
			return nil
		},
		parse.TriggerAfterDelete: func(_ context.Context, req *parse.TriggerRequest) error {
			deleted = append(deleted, req.Object.ID)
			return nil
		},
	} {
		if err := app.Triggers.Define(typ, parse.ClassUser, fn); err != nil {
			t.Fatal(err)
		}
	}
	_, err := app.Users.SignUp(ctx, map[string]any{"username": "root", "password": "pw"})
	wantCode(t, err, parse.UsernameTaken)
	u, err := app.Users.SignUp(ctx, map[string]any{"username": "ann", "password": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Fields["checked"] != true {
		t.Errorf("signed up %v", u.Fields)
	}
	u, err = app.Users.Update(ctx, u.ID, map[string]any{"keep": true, "checked": false})
	if err != nil {
		t.Fatal(err)
	}
	if u.Fields["checked"] != true {
		t.Errorf("updated %v", u.Fields)
	}
	wantCode(t, app.Users.Delete(ctx, u.ID), parse.ValidationError)
	if _, err := app.Users.Update(ctx, u.ID, map[string]any{"keep": false}); err != nil {
		t.Fatal(err)
	}
	if err := app.Users.Delete(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(deleted, []string{u.ID}) {
		t.Errorf("afterDelete saw %v", deleted)
	}
}

// TestPanickingCloudCode: a panic in cloud code fails its call with 141;
// in an after trigger it is logged and the write stands.
func TestPanickingCloudCode(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	boom := func(context.Context, *parse.TriggerRequest) error { panic("boom") }
	for typ, class := range map[parse.TriggerType]string{parse.TriggerBeforeSave: "Before", parse.TriggerAfterSave: "After"} {
		if err := app.Triggers.Define(typ, class, boom); err != nil {
			t.Fatal(err)
		}
	}
	app.Functions.Define("boom", func(context.Context, parse.FunctionRequest) (any, error) { panic("boom") })
	_, err := app.Objects.Create(ctx, "Before", map[string]any{"x": 1})
	wantCode(t, err, parse.ScriptFailed)
	o, err := app.Objects.Create(ctx, "After", map[string]any{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Objects.Get(ctx, "After", o.ID); err != nil {
		t.Errorf("the write did not stand: %v", err)
	}
	_, err = app.Functions.Run(ctx, "boom", nil)
	wantCode(t, err, parse.ScriptFailed)
}

// TestAfterTriggerChains: an after trigger's own writes run their after
// triggers, inside App.Tx too.
func TestAfterTriggerChains(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	var logged atomic.Int32
	if err := app.Triggers.Define(parse.TriggerAfterSave, "Order", func(ctx context.Context, req *parse.TriggerRequest) error {
		_, err := app.Objects.Create(ctx, "Audit", map[string]any{"order": req.Object.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := app.Triggers.Define(parse.TriggerAfterSave, "Audit", func(context.Context, *parse.TriggerRequest) error {
		logged.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	err := app.Tx(canceled, func(ctx context.Context) error {
		_, err := app.Objects.Create(ctx, "Order", map[string]any{"n": 1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := app.Objects.Create(ctx, "Order", map[string]any{"n": 2}); err != nil {
		t.Fatal(err)
	}
	if n, _ := app.Query("Audit").Count(ctx); n != 2 || logged.Load() != 2 {
		t.Errorf("%d audits, %d audit triggers; want 2 and 2", n, logged.Load())
	}
}
