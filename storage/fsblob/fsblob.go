// Package fsblob keeps file contents in a directory of the local
// filesystem: a parse.BlobStore for deployments on one machine. Instances
// on other machines would not see the files; behind a load balancer, keep
// them in the database (storage/postgres, the default) or an object store.
//
// Each blob is one file in one of 256 subdirectories (layout.go), named
// after the blob with every byte outside [A-Za-z0-9_.@~-] and a leading
// dot escaped as %XX, so that no name can leave its directory or collide
// with another. The file starts with one header line (a magic string and
// the metadata as JSON), then the contents. It is written to a temporary
// file in the same directory, synced, then renamed over the final name,
// so a reader sees the old contents or the new, never a part, and a
// failed write leaves nothing.
package fsblob

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/parsego/parse/storage"
)

// magic starts the header line of every blob file.
const magic = "parsego-blob/1 "

// maxHeader bounds the header line, so that opening a blob reads it in
// one go; PutBlob refuses metadata that would not fit.
const maxHeader = 4096

// maxFileName is the longest file name common filesystems accept.
const maxFileName = 255

// Options configures a Store.
type Options struct {
	// NoSync skips the fsyncs that make a stored blob survive a power
	// failure (of the file before its rename, of the directory after),
	// leaving the writing to the operating system, as Parse Server's
	// filesystem adapter does. Stores are several times faster on disks
	// whose flushes are slow, but the blobs of the last half minute or so
	// may be lost (never torn) when the machine loses power; a process
	// crash loses nothing.
	NoSync bool
}

// Store keeps blobs in a directory. It is safe for concurrent use, also by
// several processes sharing the directory.
type Store struct {
	dir     string
	sync    bool
	shard   [shards]string     // the shard directories' paths
	dirSync [shards]*dirSyncer // nil with NoSync
	bufs    sync.Pool          // of *[]byte, copyBuffer long (write)
}

// New returns a Store on dir, created (with its parents) when missing. A
// directory of the earlier flat layout is moved into shards first.
func New(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	s := &Store{dir: abs, sync: !opts.NoSync}
	if err := prepare(abs, s.sync); err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	for i := range s.shard {
		s.shard[i] = shardDir(abs, i)
		if s.sync {
			s.dirSync[i] = newDirSyncer(s.shard[i])
		}
	}
	return s, nil
}

// Dir returns the directory the Store keeps its blobs in.
func (s *Store) Dir() string { return s.dir }

// header is the metadata line of a blob file.
type header struct {
	ContentType string    `json:"contentType"`
	Created     time.Time `json:"created"`
}

// PutBlob stores what r yields under name (see parse.BlobStore).
func (s *Store) PutBlob(ctx context.Context, name string, r io.Reader, meta storage.BlobMeta) (int64, error) {
	shard, path, ok := s.path(name)
	if !ok {
		return 0, fmt.Errorf("fsblob: put %q: name too long", name)
	}
	created := meta.Created
	if created.IsZero() {
		created = time.Now()
	}
	hdr, err := json.Marshal(header{ContentType: meta.ContentType, Created: created.UTC()})
	if err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	hdr = append(append([]byte(magic), hdr...), '\n')
	if len(hdr) > maxHeader {
		return 0, fmt.Errorf("fsblob: put %q: content type too long", name)
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := s.write(ctx, tmp, hdr, r)
	if err != nil {
		if rerr, ok := errors.AsType[readError](err); ok {
			return 0, rerr.err // the reader's own error, as the contract asks
		}
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	if s.sync {
		if err := tmp.Sync(); err != nil {
			return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	renamed = true
	if err := s.syncDir(shard); err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	return n, nil
}

// GetBlob opens the blob stored under name (see parse.BlobStore). The
// reader is an io.ReadSeekCloser over the open file: a blob replaced or
// deleted meanwhile is still read whole, as it was.
func (s *Store) GetBlob(ctx context.Context, name string) (io.ReadCloser, storage.BlobMeta, error) {
	if err := ctx.Err(); err != nil {
		return nil, storage.BlobMeta{}, err
	}
	_, path, ok := s.path(name)
	if !ok {
		return nil, storage.BlobMeta{}, fmt.Errorf("fsblob: get %q: %w", name, storage.ErrBlobNotFound)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, storage.BlobMeta{}, fmt.Errorf("fsblob: get %q: %w", name, storage.ErrBlobNotFound)
	}
	if err != nil {
		return nil, storage.BlobMeta{}, fmt.Errorf("fsblob: get %q: %w", name, err)
	}
	meta, hdrLen, err := readHeader(f)
	if err != nil {
		f.Close()
		return nil, storage.BlobMeta{}, fmt.Errorf("fsblob: get %q: %w", name, err)
	}
	return &blobFile{SectionReader: io.NewSectionReader(f, hdrLen, meta.Size), f: f}, meta, nil
}

// readHeader reads a blob file's header line and the size of what follows.
func readHeader(f *os.File) (storage.BlobMeta, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return storage.BlobMeta{}, 0, err
	}
	buf := make([]byte, min(maxHeader, st.Size()))
	if _, err := io.ReadFull(f, buf); err != nil {
		return storage.BlobMeta{}, 0, fmt.Errorf("reading the header: %w", err)
	}
	line, _, found := bytes.Cut(buf, []byte{'\n'})
	js, isBlob := bytes.CutPrefix(line, []byte(magic))
	if !found || !isBlob {
		return storage.BlobMeta{}, 0, errors.New("not a blob file")
	}
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return storage.BlobMeta{}, 0, fmt.Errorf("bad header: %w", err)
	}
	hdrLen := int64(len(line) + 1)
	return storage.BlobMeta{ContentType: h.ContentType, Created: h.Created, Size: st.Size() - hdrLen}, hdrLen, nil
}

// DeleteBlob removes the blob stored under name.
func (s *Store) DeleteBlob(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	shard, path, ok := s.path(name)
	if !ok {
		return fmt.Errorf("fsblob: delete %q: %w", name, storage.ErrBlobNotFound)
	}
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsblob: delete %q: %w", name, storage.ErrBlobNotFound)
	}
	if err != nil {
		return fmt.Errorf("fsblob: delete %q: %w", name, err)
	}
	if err := s.syncDir(shard); err != nil {
		return fmt.Errorf("fsblob: delete %q: %w", name, err)
	}
	return nil
}

// syncDir makes a shard's entries (a rename, a removal) durable.
func (s *Store) syncDir(shard int) error {
	if !s.sync {
		return nil
	}
	return s.dirSync[shard].wait()
}

// path returns the shard and the file of a blob, false when its escaped
// name is longer than a filesystem allows (no such blob can exist).
func (s *Store) path(name string) (int, string, bool) {
	f := escapeName(name)
	shard := shardOf(name)
	return shard, filepath.Join(s.shard[shard], f), len(f) <= maxFileName
}

// escapeName maps a blob name to a file name one-to-one: bytes outside
// [A-Za-z0-9_.@~-], '%' included, become %XX, and so does a leading dot,
// which keeps ".", ".." and the ".tmp-" files out of the blob names.
func escapeName(name string) string {
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		safe := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '@' || c == '~' || c == '-' || c == '.' && i > 0
		if safe {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	if len(b) == 0 {
		return "%" // the empty name, distinct from every other
	}
	return string(b)
}

// blobFile reads a blob's contents, past its header.
type blobFile struct {
	*io.SectionReader
	f *os.File
}

func (b *blobFile) Close() error { return b.f.Close() }

// copyBuffer is the size of the buffer PutBlob writes through: a 64 KiB
// upload and its header go to the file in one write.
const copyBuffer = 64<<10 + maxHeader

// write writes hdr, then what r yields, to f through one of the Store's
// buffers (io.Copy into an *os.File would allocate one per call). It
// returns the bytes of r written; an error of r comes as a readError.
func (s *Store) write(ctx context.Context, f *os.File, hdr []byte, r io.Reader) (int64, error) {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, copyBuffer)
		bp = &b
	}
	defer s.bufs.Put(bp)
	buf := append((*bp)[:0], hdr...)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		n += int64(m)
		if len(buf) == cap(buf) || rerr != nil && len(buf) > 0 {
			if _, err := f.Write(buf); err != nil {
				return n, err
			}
			buf = buf[:0]
		}
		switch {
		case rerr == io.EOF:
			return n, nil
		case rerr != nil:
			return n, readError{rerr}
		}
	}
}

// readError marks an error of the reader PutBlob stores from.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }
