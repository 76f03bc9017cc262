package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/storage"
)

// countingBlobs counts the blobs stored through it: a refused upload must
// store nothing.
type countingBlobs struct {
	parse.BlobStore
	stored atomic.Int32
}

func (c *countingBlobs) PutBlob(ctx context.Context, name string, r io.Reader, meta storage.BlobMeta) (int64, error) {
	n, err := c.BlobStore.PutBlob(ctx, name, r, meta)
	if err == nil {
		c.stored.Add(1)
	}
	return n, err
}

// withFiles keeps the env's files in its PostgreSQL store (the env wraps
// the store, hiding its blob methods) and sets who may upload.
func withFiles(blobs *countingBlobs, upload *parse.FileUpload, maxBytes int64) envOption {
	return func(cfg *parse.Config, _ *httpapi.Options) {
		blobs.BlobStore = cfg.Store.(faultStore).Store.(parse.BlobStore)
		cfg.Blobs = blobs
		cfg.Files = parse.FilesConfig{Upload: upload, MaxUploadBytes: maxBytes}
	}
}

var everyone = &parse.FileUpload{EnableForPublic: true, EnableForAnonymousUser: true, EnableForAuthenticatedUser: true}

var fileURLPattern = regexp.MustCompile(`/files/APP/([0-9a-f]{32}_[^/]+)$`)

// upload posts a file and returns its URL and name, checking the answer's
// shape: 201, Location equal to the url, {"url","name"}.
func (e *env) upload(name, contentType string, body []byte) (url, stored string) {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/files/" + name, body: body, contentType: contentType})
	r.expect(e.t, http.StatusCreated, `{"url":"<any>","name":"<any>"}`)
	m := r.obj(e.t)
	url, stored = m["url"].(string), m["name"].(string)
	if loc := r.header.Get("Location"); loc != url {
		e.t.Fatalf("Location %q, url %q", loc, url)
	}
	if got := fileURLPattern.FindStringSubmatch(url); got == nil || !strings.HasPrefix(url, e.url+"/files/APP/") {
		e.t.Fatalf("url %q", url)
	}
	return url, stored
}

func (e *env) download(url string, headers map[string]string) resp {
	e.t.Helper()
	return e.do(req{method: "GET", path: url, auth: "none", headers: headers})
}

var pngBytes, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

func TestFilesUploadDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withFiles(&countingBlobs{}, everyone, 0))
	for _, c := range []struct {
		name, contentType string
		body              []byte
		suffix, served    string
	}{
		{"hello.txt", "text/plain", []byte("Hello, World!"), "_hello.txt", "text/plain; charset=utf-8"},
		{"pic.png", "image/png", pngBytes, "_pic.png", "image/png"},
		{"picture", "image/png", pngBytes, "_picture.png", "image/png"},
		{"data.json", "text/plain", []byte(`{"a":1}`), "_data.json", "application/json; charset=utf-8"},
		{"a%20b.txt", "text/plain", []byte("spaced"), "_a b.txt", "text/plain; charset=utf-8"},
		{"blob.zzz", "application/x-custom", []byte{0, 1, 2, 255}, "_blob.zzz", "application/x-custom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, stored := e.upload(c.name, c.contentType, c.body)
			if !strings.HasSuffix(stored, c.suffix) {
				t.Errorf("stored as %q, want suffix %q", stored, c.suffix)
			}
			r := e.download(url, nil)
			if r.status != http.StatusOK || !bytes.Equal(r.body, c.body) {
				t.Fatalf("download: %d %q", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != c.served {
				t.Errorf("Content-Type %q, want %q", ct, c.served)
			}
			if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Content-Length") != strconv.Itoa(len(c.body)) {
				t.Errorf("headers %v", r.header)
			}
			// The path with the mount works as the URL does.
			if r2 := e.do(req{method: "GET", path: "/files/APP/" + strings.ReplaceAll(stored, " ", "%20"), auth: "none"}); !bytes.Equal(r2.body, c.body) {
				t.Errorf("download by path: %d %q", r2.status, r2.body)
			}
		})
	}
}

// Every refused upload answers as the reference does and stores nothing.
func TestFilesUploadRefused(t *testing.T) {
	t.Parallel()
	blobs := &countingBlobs{}
	e := newEnv(t, withFiles(blobs, everyone, 100))
	big := bytes.Repeat([]byte("x"), 101)
	for _, c := range []struct {
		label   string
		r       req
		status  int
		code    int // 0: {"error":...} without a code
		message string
	}{
		{"no name", req{method: "POST", path: "/files", body: "x", contentType: "text/plain"}, 400, parse.InvalidFileName, "Filename not provided."},
		{"bad character", req{method: "POST", path: "/files/bad$name.txt", body: "x", contentType: "text/plain"}, 400, parse.InvalidFileName, "Filename contains invalid characters."},
		{"escaped slash", req{method: "POST", path: "/files/a%2Fb.txt", body: "x", contentType: "text/plain"}, 400, parse.InvalidFileName, "Filename contains invalid characters."},
		{"too long", req{method: "POST", path: "/files/" + strings.Repeat("n", 129), body: "x", contentType: "text/plain"}, 400, parse.InvalidFileName, "Filename too long."},
		{"empty body", req{method: "POST", path: "/files/a.txt", body: "", contentType: "text/plain"}, 400, parse.FileSaveError, "Invalid file upload."},
		{"html", req{method: "POST", path: "/files/a.html", body: "<p>", contentType: "text/html"}, 400, parse.FileSaveError, "File upload of extension html is disabled."},
		{"svg type", req{method: "POST", path: "/files/a.zzz", body: "<svg>", contentType: "image/svg+xml"}, 400, parse.FileSaveError, "File upload of extension svg+xml is disabled."},
		{"oversized", req{method: "POST", path: "/files/a.bin", body: big, contentType: "application/octet-stream"}, 413, parse.FileSaveError, "File size exceeds maximum allowed: 100 bytes."},
		{"oversized, no keys", req{method: "POST", path: "/files/a.bin", body: big, auth: "none"}, 413, parse.FileSaveError, ""},
		{"oversized, chunked", req{method: "POST", path: "/files/a.bin", body: io.MultiReader(bytes.NewReader(big)), contentType: "application/octet-stream"}, 413, parse.FileSaveError, ""},
		{"oversized, streamed", req{method: "POST", path: "/files/a.bin", body: big, contentType: "application/octet-stream",
			headers: map[string]string{"X-Parse-Upload-Mode": "stream"}}, 400, parse.FileSaveError, "File size exceeds maximum allowed: 100 bytes."},
		{"streamed without keys", req{method: "POST", path: "/files/a.bin", body: "x", auth: "none", contentType: "text/plain",
			headers: map[string]string{"X-Parse-Upload-Mode": "stream"}}, 403, 0, "unauthorized"},
		{"no keys, not JSON", req{method: "POST", path: "/files/a.txt", body: "hello", auth: "none", contentType: "text/plain"}, 403, 0, "unauthorized"},
		{"app id only", req{method: "POST", path: "/files/a.txt", body: "hello", auth: "app", contentType: "text/plain"}, 403, 0, "unauthorized"},
		{"wrong key", req{method: "POST", path: "/files/a.txt", body: "hello", auth: "app", contentType: "text/plain",
			headers: map[string]string{"X-Parse-REST-API-Key": "nope"}}, 403, 0, "unauthorized"},
		{"JSON, wrong key", req{method: "POST", path: "/files/a.txt", auth: "none", contentType: "text/plain",
			body: `{"base64":"aGk=","_ApplicationId":"APP","_JavaScriptKey":"nope"}`}, 403, 0, "unauthorized"},
		{"JSON, base64 not a string", req{method: "POST", path: "/files/a.txt", auth: "none", contentType: "text/plain",
			body: `{"base64":5,"_ApplicationId":"APP","_JavaScriptKey":"JS"}`}, 403, 0, "unauthorized"},
		{"JSON, _ContentType not a string", req{method: "POST", path: "/files/a", auth: "none", contentType: "text/plain",
			body: `{"base64":"aGk=","_ContentType":5,"_ApplicationId":"APP","_JavaScriptKey":"JS"}`}, 403, 0, "unauthorized"},
		{"JSON, no data", req{method: "POST", path: "/files/a.txt", auth: "none", contentType: "text/plain",
			body: `{"_ApplicationId":"APP","_JavaScriptKey":"JS"}`}, 400, parse.FileSaveError, "Invalid file upload."},
		{"JSON, bad session", req{method: "POST", path: "/files/a.txt", auth: "none", contentType: "text/plain",
			body: `{"base64":"aGk=","_ApplicationId":"APP","_JavaScriptKey":"JS","_SessionToken":"r:nope"}`}, 400, parse.InvalidSessionToken, ""},
	} {
		t.Run(c.label, func(t *testing.T) {
			r := e.do(c.r)
			if c.code == 0 {
				r.expect(t, c.status, `{"error":`+jsonString(c.message)+`}`)
				if ct, ok := r.header["Content-Type"]; ok {
					t.Errorf("Content-Type %q, want none", ct)
				}
				return
			}
			r.expectError(t, c.status, c.code, c.message)
		})
	}
	if n := blobs.stored.Load(); n != 0 {
		t.Fatalf("%d blobs stored by refused uploads", n)
	}
	// The limit itself is allowed.
	e.upload("limit.bin", "application/octet-stream", big[:100])
}

// Who may upload without the master key: the reference's default lets
// only users with a session.
func TestFilesUploadPolicyHTTP(t *testing.T) {
	t.Parallel()
	blobs := &countingBlobs{}
	e := newEnv(t, withFiles(blobs, nil, 0))
	e.do(req{method: "POST", path: "/files/a.txt", body: "x", contentType: "text/plain"}).
		expectError(t, 400, parse.FileSaveError, "File upload by public is disabled.")
	e.do(req{method: "POST", path: "/files/a.txt", body: "x", contentType: "text/plain", auth: "master"}).
		expect(t, 201, `{"url":"<any>","name":"<any>"}`)
	if n := blobs.stored.Load(); n != 1 {
		t.Fatalf("%d blobs stored, want 1", n)
	}
}

// The JavaScript SDK uploads base64 data in a JSON body carrying the keys
// (Parse.File from base64, a data URI or bytes).
func TestFilesJSONUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withFiles(&countingBlobs{}, everyone, 0))
	for _, c := range []struct {
		name, body string
		want       []byte
		served     string
	}{
		{"hello.txt", `{"base64":"SGVsbG8=","fileData":{"metadata":{},"tags":{}},"_ApplicationId":"APP","_JavaScriptKey":"JS","_ClientVersion":"js8.6.2","_InstallationId":"i1"}`,
			[]byte("Hello"), "text/plain; charset=utf-8"},
		{"pixel", `{"base64":"` + base64.StdEncoding.EncodeToString(pngBytes) + `","_ContentType":"image/png","_ApplicationId":"APP","_JavaScriptKey":"JS"}`,
			pngBytes, "image/png"},
		// Node's decoder: both alphabets, junk skipped, stops at "=".
		{"loose.bin", `{"base64":"a$G-V_sb G8=xx","_ApplicationId":"APP","_MasterKey":"MASTER"}`,
			[]byte{0x68, 0x6f, 0x95, 0xfe, 0xc6, 0xc6}, "application/octet-stream"},
	} {
		r := e.do(req{method: "POST", path: "/files/" + c.name, body: c.body, auth: "none", contentType: "text/plain"})
		r.expect(t, 201, `{"url":"<any>","name":"<any>"}`)
		d := e.download(r.obj(t)["url"].(string), nil)
		if !bytes.Equal(d.body, c.want) || d.header.Get("Content-Type") != c.served {
			t.Errorf("%s: downloaded %q as %q", c.name, d.body, d.header.Get("Content-Type"))
		}
	}
	// With the keys in the headers, a JSON body is the file itself.
	url, _ := e.upload("raw.json", "application/json", []byte(`{"base64":"SGVsbG8="}`))
	if d := e.download(url, nil); string(d.body) != `{"base64":"SGVsbG8="}` {
		t.Errorf("downloaded %q", d.body)
	}
}

func TestFilesDeleteHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withFiles(&countingBlobs{}, everyone, 0))
	url, name := e.upload("doomed.txt", "text/plain", []byte("bye"))
	for _, auth := range []string{"rest", "js"} {
		r := e.do(req{method: "DELETE", path: "/files/" + name, auth: auth})
		r.expect(t, 403, `{"error":"Permission denied"}`)
		if _, ok := r.header["Content-Type"]; ok {
			t.Errorf("Content-Type %q, want none", r.header["Content-Type"])
		}
	}
	e.do(req{method: "DELETE", path: "/files/" + name, auth: "none"}).expect(t, 403, `{"error":"unauthorized"}`)
	if r := e.download(url, nil); r.status != 200 || string(r.body) != "bye" {
		t.Fatalf("after refused deletes: %d %q", r.status, r.body)
	}
	r := e.do(req{method: "DELETE", path: "/files/" + name, auth: "master"})
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Type") != "" {
		t.Fatalf("delete: %d %q %v", r.status, r.body, r.header)
	}
	r = e.download(url, nil)
	if r.status != 404 || string(r.body) != "File not found." || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("after delete: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	e.do(req{method: "DELETE", path: "/files/" + name, auth: "master"}).expectError(t, 400, parse.FileDeleteError, "")
	e.do(req{method: "DELETE", path: "/files/dir/none.txt", auth: "master"}).expectError(t, 400, parse.FileDeleteError, "")
}

func TestFilesDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withFiles(&countingBlobs{}, everyone, 0))
	data := bytes.Repeat([]byte("0123456789"), 300000) // 3 MB: several chunks
	url, name := e.upload("big.bin", "application/octet-stream", data)

	r := e.download(url, map[string]string{"Range": "bytes=1048570-1048589"})
	if r.status != http.StatusPartialContent || !bytes.Equal(r.body, data[1048570:1048590]) ||
		r.header.Get("Content-Range") != "bytes 1048570-1048589/3000000" {
		t.Errorf("range: %d %q %v", r.status, r.body, r.header)
	}
	r = e.download(url, map[string]string{"Range": "bytes=-5"})
	if r.status != http.StatusPartialContent || string(r.body) != "56789" {
		t.Errorf("suffix range: %d %q", r.status, r.body)
	}
	lm := e.download(url, nil).header.Get("Last-Modified")
	if r = e.download(url, map[string]string{"If-Modified-Since": lm}); r.status != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d", r.status)
	}
	r = e.do(req{method: "HEAD", path: url, auth: "none"})
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Length") != "3000000" {
		t.Errorf("HEAD: %d %d bytes %v", r.status, len(r.body), r.header)
	}
	// Session tokens and keys are not needed, and don't hurt.
	if r = e.download(url, map[string]string{"X-Parse-Master-Key": "wrong"}); r.status != 200 || len(r.body) != len(data) {
		t.Errorf("with a wrong key: %d", r.status)
	}

	e.download(e.url+"/files/OTHER/"+name, nil).expect(t, 403, `{"error":"Permission denied"}`)
	r = e.download(e.url+"/files/APP/0123456789abcdef0123456789abcdef_missing.txt", nil)
	if r.status != 404 || string(r.body) != "File not found." {
		t.Errorf("missing: %d %q", r.status, r.body)
	}
	e.download(e.url+"/files/APP/metadata/"+name, nil).expect(t, 200, `{}`)
	// GET /files/APP has no file name: the API router answers it.
	e.do(req{method: "GET", path: "/files/APP", auth: "none"}).expect(t, 403, `{"error":"unauthorized"}`)
	if r := e.do(req{method: "PUT", path: "/files/x.txt"}); r.status != 404 {
		t.Errorf("PUT /files/x.txt: %d", r.status)
	}
}

// A File field holds the name; reads add the URL, which serves the file.
func TestFilesInObjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withFiles(&countingBlobs{}, everyone, 0))
	url, name := e.upload("a%20b.png", "image/png", pngBytes)
	id := e.create("Profile", map[string]any{"pic": map[string]any{"__type": "File", "name": name, "url": "http://elsewhere/x"}})
	r := e.do(req{method: "GET", path: "/classes/Profile/" + id})
	got := r.obj(t)["pic"]
	if want := map[string]any{"__type": "File", "name": name, "url": url}; jsonString(got) != jsonString(want) {
		t.Fatalf("pic = %v, want %v", got, want)
	}
	if d := e.download(url, nil); !bytes.Equal(d.body, pngBytes) {
		t.Errorf("download: %d", d.status)
	}
	e.do(req{method: "POST", path: "/classes/Profile", body: map[string]any{"pic": map[string]any{"__type": "File", "url": url}}}).
		expectError(t, 400, parse.IncorrectType, "")
}

// Uploads stream to the store while they arrive, and several run at once.
func TestFilesConcurrentUploads(t *testing.T) {
	t.Parallel()
	blobs := &countingBlobs{}
	e := newEnv(t, withFiles(blobs, everyone, 0))
	type result struct {
		status int
		body   []byte
		err    error
	}
	results := make(chan result, 8)
	for i := range 8 {
		go func() {
			pr, pw := io.Pipe()
			go func() {
				for range 40 {
					pw.Write(bytes.Repeat([]byte{byte('a' + i)}, 64<<10))
					time.Sleep(time.Millisecond)
				}
				pw.Close()
			}()
			hr, _ := http.NewRequest("POST", e.url+"/files/part.bin", pr)
			hr.Header.Set("X-Parse-Application-Id", "APP")
			hr.Header.Set("X-Parse-REST-API-Key", "REST")
			res, err := http.DefaultClient.Do(hr)
			if err != nil {
				results <- result{err: err}
				return
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			results <- result{res.StatusCode, b, err}
		}()
	}
	for range 8 {
		r := <-results
		if r.err != nil || r.status != 201 {
			t.Fatalf("upload: %d %s %v", r.status, r.body, r.err)
		}
		url := resp{status: r.status, body: r.body}.obj(t)["url"].(string)
		d := e.download(url, nil)
		if len(d.body) != 40*64<<10 || bytes.Count(d.body, d.body[:1]) != len(d.body) {
			t.Errorf("%s: %d bytes", url, len(d.body))
		}
	}
	if n := blobs.stored.Load(); n != 8 {
		t.Errorf("%d blobs stored, want 8", n)
	}
}
