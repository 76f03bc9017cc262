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

// Every blob is one file directly in the directory, whatever its name;
// nothing is written outside it, and failed writes leave no temporary
// files.
func TestLayout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	parent := t.TempDir()
	dir := filepath.Join(parent, "blobs", "nested")
	s := newStore(t, dir, fsblob.Options{NoSync: true})
	names := map[string]string{
		"../escape":       "%2E.%2Fescape",
		"a/b/c.txt":       "a%2Fb%2Fc.txt",
		".hidden":         "%2Ehidden",
		"..":              "%2E.",
		"a b%.txt":        "a%20b%25.txt",
		"x@y~z-w_v.A.txt": "x@y~z-w_v.A.txt",
		"":                "%",
	}
	for name := range names {
		if _, err := s.PutBlob(ctx, name, bytes.NewReader([]byte(name)), storage.BlobMeta{}); err != nil {
			t.Fatalf("PutBlob(%q): %v", name, err)
		}
	}
	if _, err := s.PutBlob(ctx, "failed", io.MultiReader(bytes.NewReader([]byte("part")), errReader{}), storage.BlobMeta{}); err == nil {
		t.Fatal("PutBlob from a failing reader succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Name()] = true
	}
	for name, file := range names {
		if !got[file] {
			t.Errorf("blob %q: no file %q in %v", name, file, got)
		}
	}
	if len(got) != len(names) {
		t.Errorf("files %v, want exactly %d (no temporary files)", got, len(names))
	}
	top, _ := os.ReadDir(parent)
	if len(top) != 1 {
		t.Errorf("%s holds %d entries, want only blobs/", parent, len(top))
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
