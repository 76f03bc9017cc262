package parse_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/teststore"
	"github.com/parsego/parse/storage"
)

// recordingBlobs counts the blobs stored through it, so that tests can
// tell that a refused upload stored nothing.
type recordingBlobs struct {
	parse.BlobStore
	mu      sync.Mutex
	stored  int
	deleted int
}

func (r *recordingBlobs) DeleteBlob(ctx context.Context, name string) error {
	err := r.BlobStore.DeleteBlob(ctx, name)
	if err == nil {
		r.mu.Lock()
		r.deleted++
		r.mu.Unlock()
	}
	return err
}

// live is how many stored blobs were not deleted (each stored under a
// name of its own).
func (r *recordingBlobs) live() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stored - r.deleted
}

func (r *recordingBlobs) PutBlob(ctx context.Context, name string, rd io.Reader, meta storage.BlobMeta) (int64, error) {
	n, err := r.BlobStore.PutBlob(ctx, name, rd, meta)
	if err == nil {
		r.mu.Lock()
		r.stored++
		r.mu.Unlock()
	}
	return n, err
}

func (r *recordingBlobs) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stored
}

// newFilesApp returns an App whose files are kept in its store,
// counted by the recordingBlobs returned.
func newFilesApp(t *testing.T, configure func(*parse.Config)) (*parse.App, *recordingBlobs) {
	t.Helper()
	store := teststore.New(t)
	blobs := &recordingBlobs{BlobStore: store.(parse.BlobStore)}
	cfg := parse.Config{
		AppID: "APP", MasterKey: "MASTER", ServerURL: "http://example.test/parse",
		Store: store, Blobs: blobs,
	}
	if configure != nil {
		configure(&cfg)
	}
	app, err := parse.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app, blobs
}

var storedName = regexp.MustCompile(`^[0-9a-f]{32}_`)

func readFile(t *testing.T, app *parse.App, name string) ([]byte, parse.FileInfo) {
	t.Helper()
	rc, info, err := app.Files.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, info
}

func TestFilesLifecycle(t *testing.T) {
	t.Parallel()
	app, _ := newFilesApp(t, nil)
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	f, err := app.Files.Upload(ctx, "hello.txt", "", strings.NewReader("Hello, World!"))
	if err != nil {
		t.Fatal(err)
	}
	if !storedName.MatchString(f.Name) || !strings.HasSuffix(f.Name, "_hello.txt") || len(f.Name) != 32+1+len("hello.txt") {
		t.Errorf("stored name %q", f.Name)
	}
	if f.URL != "http://example.test/parse/files/APP/"+f.Name {
		t.Errorf("URL %q", f.URL)
	}
	b, info := readFile(t, app, f.Name)
	if string(b) != "Hello, World!" || info.Name != f.Name || info.ContentType != "text/plain" || info.Size != 13 {
		t.Errorf("read %q, %+v", b, info)
	}
	if info.Created.Before(before) || info.Created.After(time.Now()) {
		t.Errorf("Created %v, want about now", info.Created)
	}
	// The same name again is another file.
	f2, err := app.Files.Upload(ctx, "hello.txt", "text/plain", strings.NewReader("again"))
	if err != nil || f2.Name == f.Name {
		t.Fatalf("second upload: %+v, %v", f2, err)
	}
	if err := app.Files.Delete(ctx, f.Name); err != nil {
		t.Fatal(err)
	}
	if _, _, err := app.Files.Open(ctx, f.Name); parse.ErrorCode(err) != parse.ObjectNotFound {
		t.Errorf("Open after Delete: %v, want 101", err)
	}
	wantCode(t, app.Files.Delete(ctx, f.Name), parse.FileDeleteError)
	if b, _ := readFile(t, app, f2.Name); string(b) != "again" {
		t.Errorf("the other file reads %q", b)
	}
}

// Names and content types are resolved as the reference's
// FilesController.createFile resolves them.
func TestFilesNaming(t *testing.T) {
	t.Parallel()
	app, _ := newFilesApp(t, nil)
	for _, c := range []struct {
		name, contentType  string
		wantName, wantType string
	}{
		{"hello.txt", "", "hello.txt", "text/plain"},
		{"hello.txt", "image/png", "hello.txt", "text/plain"}, // a known extension wins
		{"picture", "image/png", "picture.png", "image/png"},
		{"picture", "image/png; charset=binary", "picture.png", "image/png; charset=binary"},
		{"dot.", "image/png", "dot.png", "image/png"},
		{"foo.zzz", "image/png", "foo.zzz", "image/png"}, // an unknown one keeps the given type
		{"noext", "", "noext", "application/octet-stream"},
		{"noext", "application/x-unheard-of", "noext", "application/x-unheard-of"},
		{"a b@c~d-e.JPG", "", "a b@c~d-e.JPG", "image/jpeg"},
		{"_x", "text/plain", "_x.txt", "text/plain"},
	} {
		t.Run(c.name+"|"+c.contentType, func(t *testing.T) {
			t.Parallel()
			f, err := app.Files.Upload(context.Background(), c.name, c.contentType, strings.NewReader("x"))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Name[33:]; got != c.wantName {
				t.Errorf("stored as %q, want %q", got, c.wantName)
			}
			if _, info := readFile(t, app, f.Name); info.ContentType != c.wantType {
				t.Errorf("content type %q, want %q", info.ContentType, c.wantType)
			}
		})
	}
}

func TestFilesBadInput(t *testing.T) {
	t.Parallel()
	app, blobs := newFilesApp(t, func(c *parse.Config) { c.Files.MaxUploadBytes = 10 })
	boom := errors.New("connection reset")
	for _, c := range []struct {
		label string
		name  string
		body  io.Reader
		code  int
	}{
		{"empty name", "", strings.NewReader("x"), parse.InvalidFileName},
		{"dollar", "bad$name.txt", strings.NewReader("x"), parse.InvalidFileName},
		{"slash", "dir/name.txt", strings.NewReader("x"), parse.InvalidFileName},
		{"leading dot", ".hidden", strings.NewReader("x"), parse.InvalidFileName},
		{"leading dash", "-x.txt", strings.NewReader("x"), parse.InvalidFileName},
		{"non-ASCII", "ünï.txt", strings.NewReader("x"), parse.InvalidFileName},
		{"129 characters", strings.Repeat("a", 129), strings.NewReader("x"), parse.InvalidFileName},
		{"11 bytes", "big.bin", strings.NewReader("12345678901"), parse.FileSaveError},
		{"failing reader", "fail.bin", io.MultiReader(strings.NewReader("12"), errReader{boom}), parse.FileSaveError},
		{"reader's Parse error", "fail.bin", errReader{parse.NewError(parse.ExceededQuota, "quota")}, parse.ExceededQuota},
	} {
		t.Run(c.label, func(t *testing.T) {
			_, err := app.Files.Upload(context.Background(), c.name, "", c.body)
			wantCode(t, err, c.code)
		})
	}
	if n := blobs.count(); n != 0 {
		t.Fatalf("%d blobs stored, want none", n)
	}
	_, err := app.Files.Upload(context.Background(), "big.bin", "", strings.NewReader("1234567890123"))
	if !errors.Is(err, parse.ErrFileTooLarge) {
		t.Errorf("oversized upload: %v, want ErrFileTooLarge as its cause", err)
	}
	if _, err := app.Files.Upload(context.Background(), strings.Repeat("a", 128), "", strings.NewReader("1234567890")); err != nil {
		t.Errorf("128 characters and 10 bytes: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Who may upload, with the reference's default policy (authenticated users
// only), the fixture's (everyone) and none; the master key always may.
func TestFilesUploadPolicy(t *testing.T) {
	t.Parallel()
	user := parse.Auth{User: &parse.Object{ClassName: "_User", ID: "u1", Fields: map[string]any{"username": "u"}}}
	anon := parse.Auth{User: &parse.Object{ClassName: "_User", ID: "u2", Fields: map[string]any{
		"authData": map[string]any{"anonymous": map[string]any{"id": "x"}}}}}
	callers := []struct {
		name string
		auth parse.Auth
	}{
		{"master", parse.Auth{Master: true}},
		{"read-only master", parse.Auth{Master: true, ReadOnly: true}},
		{"public", parse.Auth{}},
		{"user", user},
		{"anonymous", anon},
	}
	const ok, denied = -2, 0 // denied: a refusal without code (403)
	for _, c := range []struct {
		policy *parse.FileUpload
		want   []int // per caller
	}{
		{nil, []int{ok, denied, parse.FileSaveError, ok, parse.FileSaveError}},
		{&parse.FileUpload{EnableForPublic: true, EnableForAnonymousUser: true, EnableForAuthenticatedUser: true}, []int{ok, denied, ok, ok, ok}},
		{&parse.FileUpload{}, []int{ok, denied, parse.FileSaveError, parse.FileSaveError, parse.FileSaveError}},
		{&parse.FileUpload{EnableForAnonymousUser: true}, []int{ok, denied, parse.FileSaveError, parse.FileSaveError, ok}},
	} {
		app, blobs := newFilesApp(t, func(cfg *parse.Config) { cfg.Files.Upload = c.policy })
		stored := 0
		for i, caller := range callers {
			ctx := parse.WithAuth(context.Background(), caller.auth)
			_, err := app.Files.Upload(ctx, "f.txt", "", strings.NewReader("x"))
			got := ok
			if err != nil {
				got = parse.ErrorCode(err)
			} else {
				stored++
			}
			if got != c.want[i] {
				t.Errorf("policy %+v, %s: got %d (%v), want %d", c.policy, caller.name, got, err, c.want[i])
			}
		}
		if blobs.count() != stored {
			t.Errorf("policy %+v: %d blobs for %d successful uploads", c.policy, blobs.count(), stored)
		}
	}
}

func TestFilesExtensions(t *testing.T) {
	t.Parallel()
	public := parse.Auth{}
	for _, c := range []struct {
		exts        []string
		name, ctype string
		master      bool
		code        int // 0: stored
	}{
		{nil, "a.html", "text/html", false, parse.FileSaveError},
		{nil, "a.XHTML", "", false, parse.FileSaveError},
		{nil, "a.svg", "", false, parse.FileSaveError},
		{nil, "a.html", "text/html", true, 0},
		{nil, "a.zzz", "image/svg+xml", false, parse.FileSaveError}, // served as its declared type
		{nil, "a.zzz", "svg", false, parse.FileSaveError},
		{nil, "a.zzz", "image/", false, parse.FileSaveError},
		{nil, "a.zzz", "image/png", false, 0},
		{nil, "a.png", "text/html", false, 0}, // served as image/png
		{nil, "a.htm.txt", "", false, 0},
		{[]string{"^(png|jpe?g)$"}, "a.png", "", false, 0},
		{[]string{"^(png|jpe?g)$"}, "a.txt", "", false, parse.FileSaveError},
		{[]string{"*"}, "a.html", "text/html", false, 0},
		{[]string{}, "a.png", "", false, parse.FileSaveError},
	} {
		app, _ := newFilesApp(t, func(cfg *parse.Config) {
			cfg.Files.Upload = &parse.FileUpload{EnableForPublic: true, FileExtensions: c.exts}
		})
		ctx := parse.WithAuth(context.Background(), public)
		if c.master {
			ctx = context.Background()
		}
		_, err := app.Files.Upload(ctx, c.name, c.ctype, strings.NewReader("x"))
		if got := parse.ErrorCode(err); got != c.code {
			t.Errorf("extensions %q, %s (%s), master %v: code %d (%v), want %d", c.exts, c.name, c.ctype, c.master, got, err, c.code)
		}
	}
	_, err := parse.New(context.Background(), parse.Config{AppID: "A", MasterKey: "M", Store: teststore.New(t),
		Files: parse.FilesConfig{Upload: &parse.FileUpload{FileExtensions: []string{"(unclosed"}}}})
	if err == nil {
		t.Error("New accepted an invalid FileExtensions pattern")
	}
}

func TestFilesDelete(t *testing.T) {
	t.Parallel()
	app, _ := newFilesApp(t, nil)
	f, err := app.Files.Upload(context.Background(), "keep.txt", "", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		label string
		auth  parse.Auth
	}{
		{"public", parse.Auth{}},
		{"user", parse.Auth{User: &parse.Object{ID: "u1"}}},
		{"read-only master", parse.Auth{Master: true, ReadOnly: true}},
	} {
		err := app.Files.Delete(parse.WithAuth(context.Background(), c.auth), f.Name)
		if pe, ok := errors.AsType[*parse.Error](err); !ok || pe.Code != 0 {
			t.Errorf("%s: Delete = %v, want a refusal without code", c.label, err)
		}
	}
	readFile(t, app, f.Name) // still there
	for _, name := range []string{"0123456789abcdef0123456789abcdef_none.txt", "", "bad\x00name", "\xff"} {
		wantCode(t, app.Files.Delete(context.Background(), name), parse.FileDeleteError)
		if _, _, err := app.Files.Open(context.Background(), name); parse.ErrorCode(err) != parse.ObjectNotFound {
			t.Errorf("Open(%q): %v, want 101", name, err)
		}
	}
}

// bareStore hides the blob methods of the Store.
type bareStore struct{ storage.Store }

func TestFilesWithoutBlobStore(t *testing.T) {
	t.Parallel()
	app, err := parse.New(context.Background(), parse.Config{AppID: "APP", MasterKey: "MASTER", Store: bareStore{teststore.New(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	ctx := context.Background()
	_, err = app.Files.Upload(ctx, "a.txt", "", strings.NewReader("x"))
	wantCode(t, err, parse.FileSaveError)
	_, _, err = app.Files.Open(ctx, "a.txt")
	wantCode(t, err, parse.ObjectNotFound)
	wantCode(t, app.Files.Delete(ctx, "a.txt"), parse.FileDeleteError)
}

// File values read back carry the URL of their name, escaped as the
// reference escapes it.
func TestFileURL(t *testing.T) {
	t.Parallel()
	app, _ := newFilesApp(t, func(c *parse.Config) { c.AllowClientClassCreation = true })
	for name, want := range map[string]string{
		"0123456789abcdef0123456789abcdef_a.txt": "0123456789abcdef0123456789abcdef_a.txt",
		"x_a b@c~d.txt":                          "x_a%20b%40c~d.txt",
		"tfss-ünï/é?#&=+.txt":                    "tfss-%C3%BCn%C3%AF%2F%C3%A9%3F%23%26%3D%2B.txt",
		"!*'()-_.":                               "!*'()-_.",
	} {
		if got := app.FileURL(name); got != "http://example.test/parse/files/APP/"+want {
			t.Errorf("FileURL(%q) = %q", name, got)
		}
	}
	ctx := context.Background()
	o, err := app.Objects.Create(ctx, "Profile", map[string]any{"pic": parse.File{Name: "x_a b.png", URL: "http://elsewhere/ignored"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := app.Objects.Get(ctx, "Profile", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := got.Fields["pic"].(parse.File); f != (parse.File{Name: "x_a b.png", URL: "http://example.test/parse/files/APP/x_a%20b.png"}) {
		t.Errorf("pic = %#v", got.Fields["pic"])
	}
}

// Uploads stream: a file larger than a chunk goes through without the
// whole of it being read first, and comes back whole.
func TestFilesLarge(t *testing.T) {
	t.Parallel()
	app, _ := newFilesApp(t, nil)
	data := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16+3)
	f, err := app.Files.Upload(context.Background(), "large.bin", "", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b, info := readFile(t, app, f.Name); !bytes.Equal(b, data) || info.Size != int64(len(data)) || info.ContentType != "application/octet-stream" {
		t.Errorf("read %d bytes, %+v", len(b), info)
	}
}
