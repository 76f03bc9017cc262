package fsblob_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/fsblob"
)

// BenchmarkPutParallel stores 64 KiB blobs from eight goroutines per CPU,
// as concurrent uploads do (../shared/bench's file-upload).
func BenchmarkPutParallel(b *testing.B) {
	data := make([]byte, 64<<10)
	rand.Read(data)
	for _, c := range []struct {
		name string
		opts fsblob.Options
	}{{"Sync", fsblob.Options{}}, {"NoSync", fsblob.Options{NoSync: true}}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := fsblob.New(b.TempDir(), c.opts)
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.SetBytes(int64(len(data)))
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					name := fmt.Sprintf("%032x_upload.bin", n.Add(1))
					if _, err := s.PutBlob(b.Context(), name, bytes.NewReader(data), storage.BlobMeta{ContentType: "application/octet-stream"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
