package sqlkit

import (
	"io"

	"github.com/parsego/parse/storage"
)

// ReadChunk appends to buf what r yields, up to limit bytes in all, and
// reports whether r is exhausted: the next chunk of a blob stored in rows.
// buf grows as data arrives, so a small blob never costs a whole chunk of
// memory.
func ReadChunk(r io.Reader, buf []byte, limit int) ([]byte, bool, error) {
	if buf == nil {
		buf = []byte{} // a NOT NULL column, even when empty
	}
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			n := min(limit, max(4<<10, 2*cap(buf)))
			buf = append(make([]byte, 0, n), buf...)
		}
		m, err := r.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, true, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
	return buf, false, nil
}

// ChunkReader reads a blob stored as chunks of Chunk bytes numbered from
// 0, fetching each as reads reach it: the io.ReadSeekCloser of both
// adapters' GetBlob.
type ChunkReader struct {
	Size  int64
	Chunk int64
	// First, when not nil, is chunk 0, read with the blob's metadata.
	First []byte
	// Fetch returns chunk seq; storage.ErrBlobChanged when it is gone,
	// the blob having been replaced or deleted meanwhile.
	Fetch func(seq int64) ([]byte, error)

	off     int64
	fetched bool  // cur holds chunk seq
	seq     int64 // of cur
	cur     []byte
}

func (r *ChunkReader) Read(p []byte) (int, error) {
	if r.off >= r.Size {
		return 0, io.EOF
	}
	seq := r.off / r.Chunk
	data := r.First
	if seq > 0 || data == nil {
		if !r.fetched || r.seq != seq {
			cur, err := r.Fetch(seq)
			if err != nil {
				return 0, err
			}
			r.cur, r.seq, r.fetched = cur, seq, true
		}
		data = r.cur
	}
	i := r.off - seq*r.Chunk
	if i >= int64(len(data)) {
		return 0, storage.ErrBlobChanged
	}
	n := copy(p, data[i:])
	r.off += int64(n)
	return n, nil
}

func (r *ChunkReader) Seek(offset int64, whence int) (int64, error) {
	offset, err := storage.SeekOffset(r.off, r.Size, offset, whence)
	if err != nil {
		return 0, err
	}
	r.off = offset
	return offset, nil
}

// Close drops the chunks held.
func (r *ChunkReader) Close() error {
	r.First, r.cur, r.fetched = nil, nil, false
	return nil
}
