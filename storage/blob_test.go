package storage_test

import (
	"io"
	"testing"

	"github.com/parsego/parse/storage"
)

func TestSeekOffset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		off, offset int64
		whence      int
		want        int64
		ok          bool
	}{
		{off: 3, offset: 2, whence: io.SeekStart, want: 2, ok: true},
		{off: 3, offset: 2, whence: io.SeekCurrent, want: 5, ok: true},
		{off: 3, offset: -4, whence: io.SeekEnd, want: 6, ok: true},
		{off: 3, offset: 5, whence: io.SeekEnd, want: 15, ok: true}, // past the end is allowed
		{off: 3, offset: -4, whence: io.SeekCurrent},
		{off: 3, offset: 0, whence: 7},
	}
	for _, tc := range tests {
		got, err := storage.SeekOffset(tc.off, 10, tc.offset, tc.whence)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("SeekOffset(%d, 10, %d, %d) = %d, %v; want %d, ok %v", tc.off, tc.offset, tc.whence, got, err, tc.want, tc.ok)
		}
	}
}
