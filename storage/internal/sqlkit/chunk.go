package sqlkit

import "io"

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
