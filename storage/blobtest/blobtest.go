// Package blobtest is the suite every parse.BlobStore must pass:
// storage/postgres and storage/fsblob run it in their tests.
//
//	func TestBlobs(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) parse.BlobStore { return newStore(t) })
//	}
//
// The suite opens one store and runs its cases in parallel on it, each
// under names of its own.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/storage"
)

// Run runs the suite on the store open returns.
func Run(t *testing.T, open func(t *testing.T) parse.BlobStore) {
	s := open(t)
	t.Run("RoundTrip", func(t *testing.T) { t.Parallel(); testRoundTrip(t, s) })
	t.Run("SmallReads", func(t *testing.T) { t.Parallel(); testSmallReads(t, s) })
	t.Run("NotFound", func(t *testing.T) { t.Parallel(); testNotFound(t, s) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); testDelete(t, s) })
	t.Run("Replace", func(t *testing.T) { t.Parallel(); testReplace(t, s) })
	t.Run("FailingReader", func(t *testing.T) { t.Parallel(); testFailingReader(t, s) })
	t.Run("Names", func(t *testing.T) { t.Parallel(); testNames(t, s) })
	t.Run("Seek", func(t *testing.T) { t.Parallel(); testSeek(t, s) })
	t.Run("Concurrent", func(t *testing.T) { t.Parallel(); testConcurrent(t, s) })
	t.Run("CanceledContext", func(t *testing.T) { t.Parallel(); testCanceled(t, s) })
}

// Sizes around the chunk sizes adapters are likely to use (64 KiB, 1 MiB).
var sizes = []int{0, 1, 100, 64<<10 - 1, 64 << 10, 64<<10 + 1, 1 << 20, 1<<20 + 1, 3<<20 + 123}

func testRoundTrip(t *testing.T, s parse.BlobStore) {
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			name := fmt.Sprintf("roundtrip-%d.bin", n)
			data := content(n, uint64(n))
			created := time.Date(2024, 5, 6, 7, 8, 9, 123000000, time.UTC)
			got, err := s.PutBlob(ctx, name, bytes.NewReader(data), storage.BlobMeta{ContentType: "application/x-test", Created: created, Size: 999})
			if err != nil {
				t.Fatalf("PutBlob: %v", err)
			}
			if got != int64(n) {
				t.Errorf("PutBlob returned size %d, want %d", got, n)
			}
			meta := mustGet(t, s, name, data)
			if meta.ContentType != "application/x-test" || meta.Size != int64(n) {
				t.Errorf("meta = %+v, want type application/x-test and size %d", meta, n)
			}
			if !meta.Created.Equal(created) {
				t.Errorf("Created = %v, want %v", meta.Created, created)
			}
		})
	}
	t.Run("ZeroCreated", func(t *testing.T) {
		t.Parallel()
		before := time.Now().Add(-time.Second)
		if _, err := s.PutBlob(t.Context(), "roundtrip-now.txt", bytes.NewReader([]byte("now")), storage.BlobMeta{ContentType: "text/plain"}); err != nil {
			t.Fatalf("PutBlob: %v", err)
		}
		meta := mustGet(t, s, "roundtrip-now.txt", []byte("now"))
		if meta.Created.Before(before) || meta.Created.After(time.Now().Add(time.Second)) {
			t.Errorf("Created = %v, want about now", meta.Created)
		}
	})
}

func testSmallReads(t *testing.T, s parse.BlobStore) {
	data := content(70000, 7)
	for _, c := range []struct {
		name string
		r    func(io.Reader) io.Reader
	}{
		{"OneByte", iotest.OneByteReader},
		{"Half", iotest.HalfReader},
		{"DataErr", iotest.DataErrReader},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			name := "smallreads-" + c.name
			if _, err := s.PutBlob(t.Context(), name, c.r(bytes.NewReader(data)), storage.BlobMeta{ContentType: "x/y"}); err != nil {
				t.Fatalf("PutBlob: %v", err)
			}
			mustGet(t, s, name, data)
		})
	}
}

func testNotFound(t *testing.T, s parse.BlobStore) {
	ctx := t.Context()
	if rc, _, err := s.GetBlob(ctx, "notfound-never-stored"); !errors.Is(err, storage.ErrBlobNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("GetBlob of a missing blob: %v, want ErrBlobNotFound", err)
	}
	if err := s.DeleteBlob(ctx, "notfound-never-stored"); !errors.Is(err, storage.ErrBlobNotFound) {
		t.Errorf("DeleteBlob of a missing blob: %v, want ErrBlobNotFound", err)
	}
}

func testDelete(t *testing.T, s parse.BlobStore) {
	for _, n := range []int{10, 3<<20 + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			name := fmt.Sprintf("delete-%d", n)
			mustPut(t, s, name, content(n, 1))
			if err := s.DeleteBlob(ctx, name); err != nil {
				t.Fatalf("DeleteBlob: %v", err)
			}
			if _, _, err := s.GetBlob(ctx, name); !errors.Is(err, storage.ErrBlobNotFound) {
				t.Errorf("GetBlob after DeleteBlob: %v, want ErrBlobNotFound", err)
			}
			if err := s.DeleteBlob(ctx, name); !errors.Is(err, storage.ErrBlobNotFound) {
				t.Errorf("second DeleteBlob: %v, want ErrBlobNotFound", err)
			}
			// The name is free again.
			mustPut(t, s, name, []byte("again"))
			mustGet(t, s, name, []byte("again"))
		})
	}
}

func testReplace(t *testing.T, s parse.BlobStore) {
	const name = "replace.bin"
	for i, n := range []int{2<<20 + 17, 5, 3<<20 + 1, 1 << 20, 0, 70000} {
		data := content(n, uint64(100+i))
		if _, err := s.PutBlob(t.Context(), name, bytes.NewReader(data), storage.BlobMeta{ContentType: fmt.Sprintf("type/v%d", i)}); err != nil {
			t.Fatalf("PutBlob #%d (%d bytes): %v", i, n, err)
		}
		meta := mustGet(t, s, name, data)
		if meta.ContentType != fmt.Sprintf("type/v%d", i) || meta.Size != int64(n) {
			t.Errorf("after PutBlob #%d: meta %+v", i, meta)
		}
	}
}

var errBoom = errors.New("blobtest: the reader failed")

func testFailingReader(t *testing.T, s parse.BlobStore) {
	for _, n := range []int{0, 10, 64 << 10, 1<<20 + 5, 2<<20 + 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			name := fmt.Sprintf("failing-%d", n)
			r := io.MultiReader(bytes.NewReader(content(n, 3)), iotest.ErrReader(errBoom))
			if _, err := s.PutBlob(ctx, name, r, storage.BlobMeta{}); !errors.Is(err, errBoom) {
				t.Fatalf("PutBlob from a failing reader: %v, want the reader's error", err)
			}
			if _, _, err := s.GetBlob(ctx, name); !errors.Is(err, storage.ErrBlobNotFound) {
				t.Errorf("GetBlob after a failed PutBlob: %v, want ErrBlobNotFound", err)
			}
			// A failed replacement keeps the blob it would have replaced.
			old := content(2<<20+1, 4)
			mustPut(t, s, name, old)
			r = io.MultiReader(bytes.NewReader(content(n, 5)), iotest.ErrReader(errBoom))
			if _, err := s.PutBlob(ctx, name, r, storage.BlobMeta{}); !errors.Is(err, errBoom) {
				t.Fatalf("replacing PutBlob from a failing reader: %v, want the reader's error", err)
			}
			mustGet(t, s, name, old)
		})
	}
}

func testNames(t *testing.T, s parse.BlobStore) {
	names := []string{
		"0123456789abcdef0123456789abcdef_hello.txt",
		"names-a b.txt", "names-A B.txt", "names-x@y~z-w_v.txt", "names-ünïcödé.txt",
		"../names-escape", "../../names-escape", "names-dir/sub/file.txt", "names-dir%2Fsub%2Ffile.txt",
		".names-hidden", ".", "..", "names-%", "names-%25", "names-tab\there", "names-\\back",
	}
	ctx := t.Context()
	for i, n := range names {
		mustPut(t, s, n, []byte(fmt.Sprintf("%d:%s", i, n)))
	}
	for i, n := range names {
		mustGet(t, s, n, []byte(fmt.Sprintf("%d:%s", i, n)))
	}
	for _, n := range names {
		if err := s.DeleteBlob(ctx, n); err != nil {
			t.Errorf("DeleteBlob(%q): %v", n, err)
		}
	}
}

func testSeek(t *testing.T, s parse.BlobStore) {
	const name = "seek.bin"
	data := content(2<<20+777, 9)
	mustPut(t, s, name, data)
	rc, _, err := s.GetBlob(t.Context(), name)
	if err != nil {
		t.Fatalf("GetBlob: %v", err)
	}
	defer rc.Close()
	sk, ok := rc.(io.ReadSeeker)
	if !ok {
		t.Skip("the reader does not implement io.Seeker")
	}
	size := int64(len(data))
	for _, c := range []struct {
		off    int64
		whence int
		pos    int64
		n      int
	}{
		{0, io.SeekStart, 0, 10},
		{1<<20 - 3, io.SeekStart, 1<<20 - 3, 10}, // across a 1 MiB boundary
		{-20, io.SeekEnd, size - 20, 20},
		{100, io.SeekStart, 100, 64<<10 + 5},
		{-50, io.SeekCurrent, 100 + 64<<10 + 5 - 50, 100},
		{0, io.SeekStart, 0, 3},
		{2 << 20, io.SeekStart, 2 << 20, 777},
	} {
		pos, err := sk.Seek(c.off, c.whence)
		if err != nil || pos != c.pos {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", c.off, c.whence, pos, err, c.pos)
		}
		buf := make([]byte, c.n)
		if _, err := io.ReadFull(sk, buf); err != nil {
			t.Fatalf("reading %d bytes at %d: %v", c.n, pos, err)
		}
		if !bytes.Equal(buf, data[pos:pos+int64(c.n)]) {
			t.Fatalf("%d bytes at %d differ", c.n, pos)
		}
	}
	if _, err := sk.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if n, err := sk.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read at the end = %d, %v; want 0, EOF", n, err)
	}
	if _, err := sk.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to a negative position succeeded")
	}
}

func testConcurrent(t *testing.T, s parse.BlobStore) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			ctx := t.Context()
			name := fmt.Sprintf("concurrent-%d", i)
			data := content(1000*i+1, uint64(i))
			for range 3 {
				if _, err := s.PutBlob(ctx, name, bytes.NewReader(data), storage.BlobMeta{}); err != nil {
					errs <- fmt.Errorf("PutBlob(%q): %w", name, err)
					return
				}
				rc, _, err := s.GetBlob(ctx, name)
				if err != nil {
					errs <- fmt.Errorf("GetBlob(%q): %w", name, err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || !bytes.Equal(got, data) {
					errs <- fmt.Errorf("%q: read %d bytes (%v), want %d", name, len(got), err, len(data))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testCanceled(t *testing.T, s parse.BlobStore) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.PutBlob(ctx, "canceled", bytes.NewReader(content(3<<20, 1)), storage.BlobMeta{}); err == nil {
		t.Error("PutBlob with a canceled context succeeded")
	}
	if _, _, err := s.GetBlob(t.Context(), "canceled"); !errors.Is(err, storage.ErrBlobNotFound) {
		t.Errorf("GetBlob after a canceled PutBlob: %v, want ErrBlobNotFound", err)
	}
}

// content returns n pseudo-random bytes, the same for the same seed.
func content(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustPut(t *testing.T, s parse.BlobStore, name string, data []byte) {
	t.Helper()
	n, err := s.PutBlob(t.Context(), name, bytes.NewReader(data), storage.BlobMeta{ContentType: "application/octet-stream"})
	if err != nil {
		t.Fatalf("PutBlob(%q): %v", name, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("PutBlob(%q) = %d, want %d", name, n, len(data))
	}
}

// mustGet reads a blob whole and checks its contents.
func mustGet(t *testing.T, s parse.BlobStore, name string, want []byte) storage.BlobMeta {
	t.Helper()
	rc, meta, err := s.GetBlob(t.Context(), name)
	if err != nil {
		t.Fatalf("GetBlob(%q): %v", name, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%q: read %d bytes (sha256 %x), want %d (sha256 %x)", name, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
	if meta.Size != int64(len(want)) {
		t.Fatalf("%q: meta.Size %d, want %d", name, meta.Size, len(want))
	}
	return meta
}
