package fsblob_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/blobtest"
	"github.com/parsego/parse/storage/fsblob"
)

func TestBlobs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		opts fsblob.Options
	}{{"Sync", fsblob.Options{}}, {"NoSync", fsblob.Options{NoSync: true}}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			blobtest.Run(t, func(t *testing.T) parse.BlobStore { return newStore(t, t.TempDir(), c.opts) })
		})
	}
}

func newStore(t *testing.T, dir string, opts fsblob.Options) *fsblob.Store {
	t.Helper()
	s, err := fsblob.New(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every blob is one file in the shard of its name, whatever the name;
// nothing is written outside the directory, and failed writes leave no
// temporary files.
func TestLayout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	parent := t.TempDir()
	dir := filepath.Join(parent, "blobs", "nested")
	s := newStore(t, dir, fsblob.Options{NoSync: true})
	// name -> its file, under the low byte of the name's FNV-1a hash
	names := map[string]string{
		"../escape":       "59/%2E.%2Fescape",
		"a/b/c.txt":       "0d/a%2Fb%2Fc.txt",
		".hidden":         "85/%2Ehidden",
		"..":              "0d/%2E.",
		"a b%.txt":        "53/a%20b%25.txt",
		"x@y~z-w_v.A.txt": "9e/x@y~z-w_v.A.txt",
		"":                "c5/%",
	}
	for name := range names {
		if _, err := s.PutBlob(ctx, name, bytes.NewReader([]byte(name)), storage.BlobMeta{}); err != nil {
			t.Fatalf("PutBlob(%q): %v", name, err)
		}
	}
	if _, err := s.PutBlob(ctx, "failed", io.MultiReader(bytes.NewReader([]byte("part")), errReader{}), storage.BlobMeta{}); err == nil {
		t.Fatal("PutBlob from a failing reader succeeded")
	}
	got, dirs := files(t, dir)
	for name, file := range names {
		if !got[file] {
			t.Errorf("blob %q: no file %q in %v", name, file, got)
		}
	}
	if len(got) != len(names) {
		t.Errorf("files %v, want exactly %d (no temporary files)", got, len(names))
	}
	if dirs != 256 {
		t.Errorf("%d shard directories, want 256", dirs)
	}
	top, _ := os.ReadDir(parent)
	if len(top) != 1 {
		t.Errorf("%s holds %d entries, want only blobs/", parent, len(top))
	}
}

// files returns the files under dir's shards, as "shard/file", and the
// number of shards.
func files(t *testing.T, dir string) (map[string]bool, int) {
	t.Helper()
	shards, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, dirs := map[string]bool{}, 0
	for _, sh := range shards {
		if !sh.IsDir() {
			got[sh.Name()] = true
			continue
		}
		dirs++
		entries, err := os.ReadDir(filepath.Join(dir, sh.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			got[sh.Name()+"/"+e.Name()] = true
		}
	}
	return got, dirs
}

// A directory of the flat layout, blobs directly in it, is moved into
// shards when a Store opens it; its blobs read as before, also one named
// like a shard directory and one an interrupted move left renamed. What
// is not a blob's file name, and temporary files, stay where they are.
func TestFlatLayoutMoved(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	flat := map[string]string{"0123abcd_photo.jpg": "jpeg bytes", "a/b": "slash", "": "empty name",
		"0a": "named like a shard", "x.txt": "an interrupted move"}
	files0 := map[string]string{
		"0123abcd_photo.jpg": "parsego-blob/1 {\"contentType\":\"image/jpeg\",\"created\":\"2026-01-02T03:04:05Z\"}\njpeg bytes",
		"a%2Fb":              "parsego-blob/1 {\"contentType\":\"text/plain\",\"created\":\"2026-01-02T03:04:05Z\"}\nslash",
		"%":                  "parsego-blob/1 {\"contentType\":\"text/plain\",\"created\":\"2026-01-02T03:04:05Z\"}\nempty name",
		"a%2fb":              "not escaped as fsblob escapes",
		"0a":                 "parsego-blob/1 {\"contentType\":\"text/plain\",\"created\":\"2026-01-02T03:04:05Z\"}\nnamed like a shard",
		".move-x.txt":        "parsego-blob/1 {\"contentType\":\"text/plain\",\"created\":\"2026-01-02T03:04:05Z\"}\nan interrupted move",
		".tmp-123":           "a write in progress",
	}
	for file, body := range files0 {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := newStore(t, dir, fsblob.Options{})
	for name, want := range flat {
		rc, _, err := s.GetBlob(ctx, name)
		if err != nil {
			t.Fatalf("GetBlob(%q) after the move: %v", name, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != want {
			t.Errorf("GetBlob(%q) = %q, want %q", name, b, want)
		}
	}
	got, dirs := files(t, dir)
	if dirs != 256 {
		t.Errorf("%d shard directories, want 256", dirs)
	}
	want := map[string]bool{"a%2fb": true, ".tmp-123": true, "9b/0123abcd_photo.jpg": true, "c1/a%2Fb": true, "c5/%": true,
		"4a/0a": true, "21/x.txt": true}
	if len(got) != len(want) {
		t.Errorf("files %v, want %v", got, want)
	}
	for f := range want {
		if !got[f] {
			t.Errorf("no file %q in %v", f, got)
		}
	}
	// Opening it again finds nothing more to move.
	newStore(t, dir, fsblob.Options{})
	if again, _ := files(t, dir); len(again) != len(got) {
		t.Errorf("reopened: files %v, want %v", again, got)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// A second Store on the directory (another process, a restart) sees the
// blobs; a file that is not a blob is reported, not served.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	s1 := newStore(t, dir, fsblob.Options{})
	if _, err := s1.PutBlob(ctx, "kept.txt", bytes.NewReader([]byte("kept")), storage.BlobMeta{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	s2 := newStore(t, dir, fsblob.Options{})
	rc, meta, err := s2.GetBlob(ctx, "kept.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "kept" || meta.ContentType != "text/plain" || meta.Size != 4 {
		t.Errorf("read %q, meta %+v", b, meta)
	}
	if err := os.WriteFile(filepath.Join(dir, "stray"), []byte("not a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s2.GetBlob(ctx, "stray"); err == nil {
		t.Error("GetBlob of a file that is not a blob succeeded")
	}
}
