package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage/fsblob"
)

// The files benchmarks upload and download through the handler, as the
// other benchmarks do, on each blob store: the database (the default) and
// a local directory (synced writes, as in production).

var benchBlobStores = []struct {
	name string
	open func(b *testing.B) parse.BlobStore
}{
	{"postgres", func(b *testing.B) parse.BlobStore { return pgtest.NewStore(b) }},
	{"fs", func(b *testing.B) parse.BlobStore {
		s, err := fsblob.New(b.TempDir(), fsblob.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

var benchFileSizes = []int{1 << 10, 100 << 10, 1 << 20}

func benchFilesHandler(b *testing.B, blobs parse.BlobStore) (http.Handler, *parse.App) {
	b.Helper()
	app, err := parse.New(context.Background(), parse.Config{
		AppID: "APP", MasterKey: "MASTER", RESTKey: "REST",
		ServerURL: "http://localhost/parse", Store: pgtest.NewStore(b), Blobs: blobs,
		Files: parse.FilesConfig{Upload: &parse.FileUpload{EnableForPublic: true}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { app.Close() })
	return httpapi.New(app, httpapi.Options{}), app
}

func BenchmarkFileUpload(b *testing.B) {
	for _, st := range benchBlobStores {
		for _, size := range benchFileSizes {
			b.Run(fmt.Sprintf("%s/%dKiB", st.name, size>>10), func(b *testing.B) {
				h, _ := benchFilesHandler(b, st.open(b))
				br := newBenchReq("POST", "/files/bench.bin", string(bytes.Repeat([]byte("x"), size)))
				br.r.Header.Set("Content-Type", "application/octet-stream")
				br.r.Header.Set("Content-Length", strconv.Itoa(size))
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					br.serve(b, h, http.StatusCreated)
				}
			})
		}
	}
}

func BenchmarkFileDownload(b *testing.B) {
	for _, st := range benchBlobStores {
		for _, size := range benchFileSizes {
			b.Run(fmt.Sprintf("%s/%dKiB", st.name, size>>10), func(b *testing.B) {
				h, app := benchFilesHandler(b, st.open(b))
				f, err := app.Files.Upload(context.Background(), "bench.bin", "", bytes.NewReader(bytes.Repeat([]byte("x"), size)))
				if err != nil {
					b.Fatal(err)
				}
				br := newBenchReq("GET", "/files/APP/"+f.Name, "")
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if br.serve(b, h, http.StatusOK) && br.w.n != size {
						b.Fatalf("downloaded %d bytes, want %d", br.w.n, size)
					}
				}
			})
		}
	}
}

// BenchmarkFileCreate creates complete files of the lifecycle API in one
// multipart request (a file record and a blob each).
func BenchmarkFileCreate(b *testing.B) {
	for _, st := range benchBlobStores {
		for _, size := range benchFileSizes {
			b.Run(fmt.Sprintf("%s/%dKiB", st.name, size>>10), func(b *testing.B) {
				h, _ := benchFilesHandler(b, st.open(b))
				body, ct := multipartBody(b, map[string]string{"type": "com.example.bench", "kind": "other", "name": "bench"},
					"", "bench.bin", "application/octet-stream", bytes.Repeat([]byte("x"), size))
				br := newBenchReq("POST", "/files", string(body))
				br.r.Header.Set("Content-Type", ct)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					br.r.MultipartForm = nil // the request is reused: MultipartReader refuses a second call
					br.serve(b, h, http.StatusCreated)
				}
			})
		}
	}
}

// BenchmarkFileContent serves a public lifecycle file's content: a record
// read, then the blob.
func BenchmarkFileContent(b *testing.B) {
	for _, st := range benchBlobStores {
		for _, size := range benchFileSizes {
			b.Run(fmt.Sprintf("%s/%dKiB", st.name, size>>10), func(b *testing.B) {
				h, app := benchFilesHandler(b, st.open(b))
				f, err := app.Files.Create(context.Background(), parse.FileSpec{Name: "bench", Kind: "other", Type: "com.example.bench", IsPublic: true},
					parse.FileContent{Reader: bytes.NewReader(bytes.Repeat([]byte("x"), size))})
				if err != nil {
					b.Fatal(err)
				}
				br := newBenchReq("GET", "/files/"+f.ID+"/content", "")
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if br.serve(b, h, http.StatusOK) && br.w.n != size {
						b.Fatalf("downloaded %d bytes, want %d", br.w.n, size)
					}
				}
			})
		}
	}
}
