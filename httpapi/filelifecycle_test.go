package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/fsblob"
	"github.com/parsego/parse/storage/s3blob"
)

// liveBlobs tracks which blobs exist, so that tests can tell what a
// request stored and what a delete removed.
type liveBlobs struct {
	parse.BlobStore
	mu   sync.Mutex
	live map[string]bool
}

func (l *liveBlobs) PutBlob(ctx context.Context, name string, r io.Reader, meta storage.BlobMeta) (int64, error) {
	n, err := l.BlobStore.PutBlob(ctx, name, r, meta)
	if err == nil {
		l.mu.Lock()
		l.live[name] = true
		l.mu.Unlock()
	}
	return n, err
}

func (l *liveBlobs) DeleteBlob(ctx context.Context, name string) error {
	err := l.BlobStore.DeleteBlob(ctx, name)
	if err == nil {
		l.mu.Lock()
		delete(l.live, name)
		l.mu.Unlock()
	}
	return err
}

// count returns how many blobs of the file id exist ("" for all).
func (l *liveBlobs) count(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k := range l.live {
		if strings.Contains(k, id) {
			n++
		}
	}
	return n
}

// filesEnv is an env whose files live in its PostgreSQL store, uploads
// allowed to everyone, with two signed-up users.
type filesEnv struct {
	*env
	blobs      *liveBlobs
	alice, bob user
}

type user struct{ id, token string }

func newFilesEnv(t *testing.T, configure func(*parse.FilesConfig)) *filesEnv {
	blobs := &liveBlobs{live: map[string]bool{}}
	e := newEnv(t, func(cfg *parse.Config, _ *httpapi.Options) {
		blobs.BlobStore = cfg.Store.(faultStore).Store.(parse.BlobStore)
		cfg.Blobs = blobs
		cfg.Files = parse.FilesConfig{Upload: everyone}
		if configure != nil {
			configure(&cfg.Files)
		}
	})
	fe := &filesEnv{env: e, blobs: blobs}
	fe.alice, fe.bob = fe.signUp("alice"), fe.signUp("bob")
	return fe
}

func (e *filesEnv) signUp(name string) user {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/users", body: map[string]any{"username": name, "password": "pw"}})
	r.expect(e.t, http.StatusCreated, "")
	m := r.obj(e.t)
	return user{id: m["objectId"].(string), token: m["sessionToken"].(string)}
}

func (u user) headers() map[string]string {
	if u.token == "" {
		return nil
	}
	return map[string]string{"X-Parse-Session-Token": u.token}
}

// as sends a request as u (no session for the zero user).
func (e *filesEnv) as(u user, r req) resp {
	e.t.Helper()
	if r.headers == nil {
		r.headers = u.headers()
	}
	return e.do(r)
}

// placeholder creates a placeholder as u and returns its JSON.
func (e *filesEnv) placeholder(u user, body map[string]any) map[string]any {
	e.t.Helper()
	r := e.as(u, req{method: "POST", path: "/files", body: body})
	r.expect(e.t, http.StatusCreated, "")
	return r.obj(e.t)
}

// multipartBody builds a multipart/form-data body: fields first, then
// the content part (when content is not nil).
func multipartBody(t testing.TB, fields map[string]string, metadata string, filename, contentType string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if metadata != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="metadata"`)
		h.Set("Content-Type", "application/json")
		w, _ := mw.CreatePart(h)
		w.Write([]byte(metadata))
	}
	if content != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="content"; filename=%q`, filename))
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		w, _ := mw.CreatePart(h)
		w.Write(content)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func makePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bombPNG is a PNG whose header claims w×h pixels, with no image data:
// what a decompression bomb looks like before it is decoded.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	b.WriteString("\x00\x00\x00\x00IEND\xaeB`\x82")
	return b.Bytes()
}

func decodeImage(t testing.TB, b []byte) image.Config {
	t.Helper()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an image: %v", err)
	}
	return cfg
}

func TestFilePlaceholderLifecycle(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, nil)
	f := e.placeholder(e.alice, map[string]any{"type": "com.example.note", "kind": "other", "name": "Notes",
		"annotations": map[string]any{"color": "blue"}})
	id := f["id"].(string)
	if !parse.IsFileID(id) || f["complete"] != false || f["is_public"] != false || f["owner"] != e.alice.id ||
		f["name"] != "Notes" || f["type"] != "com.example.note" || f["url"] != nil {
		t.Fatalf("placeholder: %v", f)
	}
	token, _ := f["file_token"].(string)
	if len(token) != 32 {
		t.Fatalf("file_token %q", f["file_token"])
	}
	// A placeholder's content is 204; the others see nothing of it.
	e.as(e.alice, req{method: "GET", path: "/files/" + id + "/content"}).expect(t, http.StatusNoContent, "")
	e.as(e.bob, req{method: "GET", path: "/files/" + id}).expectError(t, 404, parse.ObjectNotFound, "File not found.")
	// Only the owner sets the content.
	body := []byte("hello, lifecycle")
	e.as(e.bob, req{method: "PUT", path: "/files/" + id + "/content", body: body, contentType: "text/plain"}).
		expectError(t, 404, parse.ObjectNotFound, "File not found.")
	e.as(e.alice, req{method: "PUT", path: "/files/" + id + "/content", body: body, contentType: "text/plain"}).
		expect(t, http.StatusNoContent, "")
	e.as(e.alice, req{method: "PUT", path: "/files/" + id + "/content", body: "again", contentType: "text/plain"}).
		expectError(t, 400, parse.FileSaveError, "The file is complete: its content can't change.")

	r := e.as(e.alice, req{method: "GET", path: "/files/" + id})
	r.expect(t, 200, `{"id":"`+id+`","name":"Notes","kind":"other","type":"com.example.note","mime_type":"text/plain",
		"size":16,"sha256":"`+sha(body)+`","is_public":false,"complete":true,"owner":"`+e.alice.id+`",
		"created_at":"<date>","annotations":{"color":"blue"},"url":"<any>","file_token":"`+token+`"}`)
	url := r.obj(t)["url"].(string)
	if url != e.url+"/files/"+id+"/content?file_token="+token {
		t.Fatalf("url %q", url)
	}
	// The owner's url works with the app's keys alone; the content needs
	// the token or the owner.
	c := e.do(req{method: "GET", path: url})
	if c.status != 200 || string(c.body) != string(body) || c.header.Get("Content-Type") != "text/plain; charset=utf-8" ||
		c.header.Get("Etag") != `"`+sha(body)+`"` {
		t.Fatalf("content: %d %q %v", c.status, c.body, c.header)
	}
	for _, tc := range []struct {
		name  string
		who   user
		query string
	}{
		{"no token", e.bob, ""},
		{"forged token", e.bob, "?file_token=" + strings.Repeat("0", 32)},
		{"anonymous without token", user{}, ""},
		{"token of another length", user{}, "?file_token=" + token[:31]},
	} {
		e.as(tc.who, req{method: "GET", path: "/files/" + id + "/content" + tc.query}).
			expectError(t, 404, parse.ObjectNotFound, "File not found.")
	}
	got := e.as(e.bob, req{method: "GET", path: "/files/" + id + "?file_token=" + token})
	got.expect(t, 200, "")
	if m := got.obj(t); m["file_token"] != nil || m["url"] != e.url+"/files/"+id+"/content" {
		t.Fatalf("a token holder sees %v", m)
	}
}

func TestFileCreateErrors(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, nil)
	for _, tc := range []struct {
		name string
		body any
		code int
	}{
		{"missing type", map[string]any{"kind": "other", "name": "x"}, parse.MissingRequiredField},
		{"missing kind", map[string]any{"type": "com.example.x", "name": "x"}, parse.MissingRequiredField},
		{"missing name", map[string]any{"type": "com.example.x", "kind": "other"}, parse.MissingRequiredField},
		{"bad kind", map[string]any{"type": "com.example.x", "kind": "video", "name": "x"}, parse.IncorrectType},
		{"bad type", map[string]any{"type": "not reverse domain", "kind": "other", "name": "x"}, parse.IncorrectType},
		{"type not a string", map[string]any{"type": 7, "kind": "other", "name": "x"}, parse.IncorrectType},
		{"bad is_public", map[string]any{"type": "com.example.x", "kind": "other", "name": "x", "is_public": "maybe"}, parse.IncorrectType},
		{"bad annotations", map[string]any{"type": "com.example.x", "kind": "other", "name": "x", "annotations": []any{1}}, parse.IncorrectType},
		{"bad sha256", map[string]any{"type": "com.example.x", "kind": "other", "name": "x", "sha256": "abc"}, parse.IncorrectType},
		{"invalid JSON", "{", parse.InvalidJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.as(e.alice, req{method: "POST", path: "/files", body: tc.body}).expectError(t, 400, tc.code, "")
		})
	}
	// A form body creates a placeholder too.
	r := e.as(e.alice, req{method: "POST", path: "/files", body: "type=com.example.x&kind=other&name=form&is_public=1",
		contentType: "application/x-www-form-urlencoded"})
	r.expect(t, 201, "")
	if m := r.obj(t); m["name"] != "form" || m["is_public"] != true {
		t.Fatalf("form placeholder %v", m)
	}
	// Without a lifecycle body, POST /files is the reference's missing name.
	e.as(e.alice, req{method: "POST", path: "/files", body: "raw", contentType: "text/plain"}).
		expectError(t, 400, parse.InvalidFileName, "Filename not provided.")
	// Uploads follow FileUpload: the default refuses the public.
	e2 := newFilesEnv(t, func(c *parse.FilesConfig) { c.Upload = nil })
	e2.as(user{}, req{method: "POST", path: "/files", body: map[string]any{"type": "com.example.x", "kind": "other", "name": "x"}}).
		expectError(t, 400, parse.FileSaveError, "File upload by public is disabled.")
	if n := e.blobs.count(""); n != 0 {
		t.Fatalf("%d blobs stored", n)
	}
}

func TestFileMultipartCreate(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, nil)
	content := []byte("one step")
	t.Run("metadata part", func(t *testing.T) {
		body, ct := multipartBody(t, nil, `{"type":"com.example.doc","kind":"other","is_public":true,"annotations":{"a":1}}`,
			"doc.txt", "text/plain", content)
		r := e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct})
		r.expect(t, 201, `{"id":"<any>","name":"doc.txt","kind":"other","type":"com.example.doc","mime_type":"text/plain",
			"size":8,"sha256":"`+sha(content)+`","is_public":true,"complete":true,"owner":"`+e.alice.id+`",
			"created_at":"<date>","annotations":{"a":1},"url":"<any>","file_token":"<any>"}`)
		id := r.obj(t)["id"].(string)
		// A public file is read by anyone with the keys.
		c := e.as(user{}, req{method: "GET", path: "/files/" + id + "/content"})
		if c.status != 200 || string(c.body) != "one step" {
			t.Fatalf("public content %d %q", c.status, c.body)
		}
		e.as(user{}, req{method: "GET", path: "/files/" + id}).expect(t, 200, "")
	})
	t.Run("form fields and sniffed type", func(t *testing.T) {
		img := makePNG(t, 10, 10)
		body, ct := multipartBody(t, map[string]string{"type": "com.example.pic", "kind": "image", "name": "pic",
			"sha256": sha(img)}, "", "pic", "application/octet-stream", img)
		r := e.as(e.bob, req{method: "POST", path: "/files", body: body, contentType: ct})
		r.expect(t, 201, "")
		m := r.obj(t)
		if m["mime_type"] != "image/png" || m["name"] != "pic" || fmt.Sprint(m["image_info"]) != "map[height:10 width:10]" {
			t.Fatalf("file %v", m)
		}
	})
	t.Run("checksum mismatch", func(t *testing.T) {
		before := e.blobs.count("")
		body, ct := multipartBody(t, map[string]string{"type": "com.example.x", "kind": "other", "name": "x",
			"sha256": sha([]byte("something else"))}, "", "x.txt", "text/plain", content)
		e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct}).
			expectError(t, 400, parse.FileSaveError, "The content does not match the sha256 given.")
		if n := e.blobs.count(""); n != before {
			t.Fatalf("blobs %d, want %d", n, before)
		}
	})
	t.Run("missing metadata", func(t *testing.T) {
		body, ct := multipartBody(t, map[string]string{"kind": "other"}, "", "x.txt", "text/plain", content)
		e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct}).expectError(t, 400, parse.MissingRequiredField, "type is required.")
	})
	t.Run("kind mismatch", func(t *testing.T) {
		body, ct := multipartBody(t, map[string]string{"type": "com.example.x", "kind": "audio", "name": "x"}, "", "x.txt", "text/plain", content)
		e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct}).expectError(t, 400, parse.IncorrectType, "")
	})
	t.Run("malformed image", func(t *testing.T) {
		before := e.blobs.count("")
		body, ct := multipartBody(t, map[string]string{"type": "com.example.x", "kind": "image", "name": "x.png"}, "", "x.png", "image/png", []byte("not a png"))
		e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct}).
			expectError(t, 400, parse.InvalidImageData, "The content is not a valid image/png image.")
		if n := e.blobs.count(""); n != before {
			t.Fatalf("blobs %d, want %d", n, before)
		}
	})
	t.Run("bad multipart", func(t *testing.T) {
		e.as(e.alice, req{method: "POST", path: "/files", body: "--x\r\nnonsense", contentType: "multipart/form-data; boundary=x"}).
			expectError(t, 400, parse.InvalidJSON, "Invalid multipart body.")
	})
}

func TestFileSizeLimits(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, func(c *parse.FilesConfig) { c.MaxFileBytes = 1000 })
	body, ct := multipartBody(t, map[string]string{"type": "com.example.x", "kind": "other", "name": "x"}, "", "x.bin",
		"application/octet-stream", bytes.Repeat([]byte{1}, 1001))
	e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct}).
		expectError(t, 400, parse.FileSaveError, "File size exceeds maximum allowed: 1000 bytes.")
	if n := e.blobs.count(""); n != 0 {
		t.Fatalf("%d blobs stored", n)
	}
}

func TestFileThumbnails(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, nil)
	img := makeJPEG(t, 1200, 1800)
	body, ct := multipartBody(t, map[string]string{"type": "com.example.photo", "kind": "image", "name": "photo", "is_public": "true"},
		"", "photo.jpg", "image/jpeg", img)
	r := e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct})
	r.expect(t, 201, "")
	m := r.obj(t)
	id := m["id"].(string)
	derived, _ := m["derived_files"].(map[string]any)
	for key, want := range map[string][2]int{"core_image_200s": {200, 200}, "core_image_960r": {640, 960}} {
		d, _ := derived[key].(map[string]any)
		if d["mime_type"] != "image/jpeg" || d["url"] != e.url+"/files/"+id+"/content/"+key {
			t.Fatalf("%s: %v", key, d)
		}
		c := e.as(user{}, req{method: "GET", path: "/files/" + id + "/content/" + key})
		if c.status != 200 || c.header.Get("Content-Type") != "image/jpeg" || sha(c.body) != d["sha256"] {
			t.Fatalf("%s content: %d %v", key, c.status, c.header)
		}
		if cfg := decodeImage(t, c.body); cfg.Width != want[0] || cfg.Height != want[1] {
			t.Fatalf("%s is %dx%d", key, cfg.Width, cfg.Height)
		}
	}
	e.as(user{}, req{method: "GET", path: "/files/" + id + "/content/nope"}).expectError(t, 404, parse.ObjectNotFound, "File not found.")

	// A small image gets no 960r; an oversized one (a decompression bomb's
	// header) none at all, and is not decoded.
	for _, tc := range []struct {
		name string
		img  []byte
		keys string
	}{
		{"small", makePNG(t, 300, 100), "[core_image_200s]"},
		{"bomb", bombPNG(30000, 30000), "[]"},
	} {
		body, ct := multipartBody(t, map[string]string{"type": "com.example.photo", "kind": "image", "name": tc.name}, "", "x.png", "image/png", tc.img)
		r := e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct})
		r.expect(t, 201, "")
		m := r.obj(t)
		var keys []string
		derived, _ := m["derived_files"].(map[string]any)
		for k := range derived {
			keys = append(keys, k)
		}
		if fmt.Sprint(keys) != tc.keys || m["complete"] != true {
			t.Fatalf("%s: derived %v in %v", tc.name, keys, m)
		}
	}
}

func TestFileDerived(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, nil)
	f := e.placeholder(e.alice, map[string]any{"type": "com.example.photo", "kind": "image", "name": "p", "mime_type": "image/png"})
	id := f["id"].(string)
	put := func(u user, key string, body []byte, ct string) resp {
		return e.as(u, req{method: "PUT", path: "/files/" + id + "/content/" + key, body: body, contentType: ct})
	}
	put(e.alice, "core_other", []byte("x"), "text/plain").expectError(t, 400, parse.InvalidKeyName, "Derived file keys beginning core_ are reserved.")
	put(e.alice, "bad-key", []byte("x"), "text/plain").expectError(t, 400, parse.InvalidKeyName, "")
	put(e.alice, "core_image_200s", makePNG(t, 100, 100), "image/png").expectError(t, 400, parse.InvalidImageData, "core_image_200s must be a 200×200 image.")
	put(e.alice, "core_image_200s", makeJPEG(t, 200, 200), "image/jpeg").expectError(t, 400, parse.IncorrectType, "core_image_200s must be an image of the file's type.")
	put(e.alice, "core_image_960r", makePNG(t, 641, 10), "image/png").expectError(t, 400, parse.InvalidImageData, "core_image_960r must be an image within 640×960.")
	put(e.bob, "extra", []byte("x"), "text/plain").expectError(t, 404, parse.ObjectNotFound, "File not found.")
	thumb := makePNG(t, 200, 200)
	put(e.alice, "core_image_200s", thumb, "image/png").expect(t, http.StatusNoContent, "")
	put(e.alice, "core_image_200s", thumb, "image/png").expectError(t, 400, parse.DuplicateValue, "")
	put(e.alice, "transcript", []byte("words"), "text/plain").expect(t, http.StatusNoContent, "")
	// Derived files of a placeholder are not served yet.
	e.as(e.alice, req{method: "GET", path: "/files/" + id + "/content/transcript"}).expectError(t, 404, parse.ObjectNotFound, "")

	// Multipart content completes it; the client's 200s stays, the 960r is made.
	body, ct := multipartBody(t, nil, "", "p.png", "image/png", makePNG(t, 1000, 500))
	e.as(e.alice, req{method: "PUT", path: "/files/" + id + "/content", body: body, contentType: ct}).expect(t, http.StatusNoContent, "")
	put(e.alice, "late", []byte("x"), "text/plain").expectError(t, 400, parse.FileSaveError, "Derived files can only be added to a placeholder.")
	m := e.as(e.alice, req{method: "GET", path: "/files/" + id}).obj(t)
	d := m["derived_files"].(map[string]any)
	if s := d["core_image_200s"].(map[string]any); s["sha256"] != sha(thumb) {
		t.Fatalf("the client's thumbnail was replaced: %v", s)
	}
	if r := d["core_image_960r"].(map[string]any); fmt.Sprint(r["image_info"]) != "map[height:320 width:640]" {
		t.Fatalf("960r %v", r)
	}
	token := m["file_token"].(string)
	c := e.as(user{}, req{method: "GET", path: "/files/" + id + "/content/transcript?file_token=" + token})
	if c.status != 200 || string(c.body) != "words" {
		t.Fatalf("derived content %d %q", c.status, c.body)
	}
}

func TestFileUpdateDelete(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, nil)
	body, ct := multipartBody(t, map[string]string{"type": "com.example.x", "kind": "image", "name": "x"}, "", "x.png", "image/png", makePNG(t, 300, 300))
	r := e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct})
	r.expect(t, 201, "")
	id := r.obj(t)["id"].(string)
	if n := e.blobs.count(id); n != 2 { // the content and its 200s
		t.Fatalf("%d blobs", n)
	}
	path := "/files/" + id
	e.as(e.alice, req{method: "PATCH", path: path, body: map[string]any{"kind": "audio"}}).
		expectError(t, 400, parse.InvalidKeyName, "Only name, is_public and annotations can be updated, not kind.")
	e.as(e.bob, req{method: "PUT", path: path, body: map[string]any{"name": "mine"}}).expectError(t, 404, parse.ObjectNotFound, "File not found.")
	r = e.as(e.alice, req{method: "PATCH", path: path, body: map[string]any{"name": "renamed", "is_public": true, "annotations": map[string]any{"k": "v"}}})
	r.expect(t, 200, "")
	if m := r.obj(t); m["name"] != "renamed" || m["is_public"] != true || fmt.Sprint(m["annotations"]) != "map[k:v]" {
		t.Fatalf("updated %v", m)
	}
	// Public now: bob reads it but may not change it.
	e.as(e.bob, req{method: "GET", path: path}).expect(t, 200, "")
	e.as(e.bob, req{method: "PUT", path: path, body: map[string]any{"name": "mine"}}).expectError(t, 400, parse.OperationForbidden, "Permission denied")
	e.as(e.bob, req{method: "DELETE", path: path}).expectError(t, 400, parse.OperationForbidden, "Permission denied")
	e.as(e.alice, req{method: "PUT", path: path, body: map[string]any{"annotations": nil}}).expect(t, 200, "")

	r = e.as(e.alice, req{method: "DELETE", path: path})
	r.expect(t, 200, "")
	if m := r.obj(t); m["deleted"] != true || m["id"] != id || m["name"] != "renamed" || m["annotations"] != nil {
		t.Fatalf("deleted %v", m)
	}
	if n := e.blobs.count(id); n != 0 {
		t.Fatalf("%d blobs left", n)
	}
	e.as(e.alice, req{method: "GET", path: path}).expectError(t, 404, parse.ObjectNotFound, "File not found.")
	e.as(e.alice, req{method: "GET", path: path + "/content"}).expectError(t, 404, parse.ObjectNotFound, "File not found.")
	e.as(e.alice, req{method: "DELETE", path: path}).expectError(t, 404, parse.ObjectNotFound, "File not found.")
	// The master key may delete anyone's.
	f := e.placeholder(e.bob, map[string]any{"type": "com.example.x", "kind": "other", "name": "b"})
	e.do(req{method: "DELETE", path: "/files/" + f["id"].(string), auth: "master"}).expect(t, 200, "")
}

func TestFileRange(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, nil)
	content := []byte("0123456789abcdef")
	body, ct := multipartBody(t, map[string]string{"type": "com.example.x", "kind": "other", "name": "r"}, "", "r.bin", "application/x-test", content)
	r := e.as(e.alice, req{method: "POST", path: "/files", body: body, contentType: ct})
	r.expect(t, 201, "")
	path := "/files/" + r.obj(t)["id"].(string) + "/content"
	c := e.as(e.alice, req{method: "GET", path: path, headers: map[string]string{"X-Parse-Session-Token": e.alice.token, "Range": "bytes=2-5"}})
	if c.status != http.StatusPartialContent || string(c.body) != "2345" || c.header.Get("Content-Range") != "bytes 2-5/16" {
		t.Fatalf("range: %d %q %v", c.status, c.body, c.header)
	}
	c = e.as(e.alice, req{method: "GET", path: path, headers: map[string]string{"X-Parse-Session-Token": e.alice.token, "Range": "bytes=-3"}})
	if c.status != http.StatusPartialContent || string(c.body) != "def" {
		t.Fatalf("suffix range: %d %q", c.status, c.body)
	}
	c = e.as(e.alice, req{method: "GET", path: path, headers: map[string]string{"X-Parse-Session-Token": e.alice.token, "Range": "bytes=20-30"}})
	if c.status != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("unsatisfiable range: %d", c.status)
	}
	c = e.as(e.alice, req{method: "GET", path: path, headers: map[string]string{"X-Parse-Session-Token": e.alice.token, "If-None-Match": `"` + sha(content) + `"`}})
	if c.status != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", c.status)
	}
}

func TestFileQueries(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, nil)
	a1 := e.placeholder(e.alice, map[string]any{"type": "com.example.a", "kind": "other", "name": "a1"})["id"].(string)
	a2 := e.placeholder(e.alice, map[string]any{"type": "com.example.b", "kind": "other", "name": "a2", "is_public": true})["id"].(string)
	b1 := e.placeholder(e.bob, map[string]any{"type": "com.example.a", "kind": "other", "name": "b1"})["id"].(string)
	names := func(r resp) string {
		t.Helper()
		r.expect(t, 200, "")
		var out []string
		for _, f := range r.obj(t)["results"].([]any) {
			out = append(out, f.(map[string]any)["name"].(string))
		}
		return fmt.Sprint(out)
	}
	ids := "/files?ids=" + b1 + "," + a2 + ",nonsense," + a1
	if got := names(e.as(e.alice, req{method: "GET", path: ids})); got != "[a2 a1]" {
		t.Fatalf("alice's ids: %s", got)
	}
	if got := names(e.do(req{method: "GET", path: ids, auth: "master"})); got != "[b1 a2 a1]" {
		t.Fatalf("master's ids: %s", got)
	}
	if got := names(e.as(e.alice, req{method: "GET", path: "/users/me/files"})); got != "[a2 a1]" {
		t.Fatalf("alice's files: %s", got)
	}
	if got := names(e.as(e.alice, req{method: "GET", path: "/users/me/files?type=com.example.a"})); got != "[a1]" {
		t.Fatalf("alice's files of type a: %s", got)
	}
	e.as(user{}, req{method: "GET", path: "/users/me/files"}).expectError(t, 400, parse.InvalidSessionToken, "")
}

// A Parse upload is a file of the model: complete, public, owned by its
// uploader, readable by id; Parse's delete removes its record.
func TestParseUploadIsAFile(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t, nil)
	r := e.as(e.alice, req{method: "POST", path: "/files/hello.txt", body: "hello", contentType: "text/plain"})
	r.expect(t, 201, "")
	url, name := r.obj(t)["url"].(string), r.obj(t)["name"].(string)
	mine := e.as(e.alice, req{method: "GET", path: "/users/me/files?type=" + parse.FileTypeParse}).obj(t)["results"].([]any)
	if len(mine) != 1 {
		t.Fatalf("alice's Parse files: %v", mine)
	}
	id := mine[0].(map[string]any)["id"].(string)
	e.as(user{}, req{method: "GET", path: "/files/" + id}).expect(t, 200, `{"id":"`+id+`","name":"`+name+`","kind":"other",
		"type":"org.parseplatform.file","mime_type":"text/plain","size":5,"sha256":"`+sha([]byte("hello"))+`",
		"is_public":true,"complete":true,"owner":"`+e.alice.id+`","created_at":"<date>","url":"`+url+`"}`)
	// The records' class is internal: the schema API doesn't show it.
	if r := e.do(req{method: "GET", path: "/schemas", auth: "master"}); strings.Contains(string(r.body), `"_File"`) || r.status != 200 {
		t.Fatalf("schemas: %d %s", r.status, r.body)
	}
	e.do(req{method: "GET", path: "/classes/_File?count=1", auth: "master"}).expect(t, 200, `{"results":[],"count":0}`)
	e.do(req{method: "GET", path: "/classes/_File/" + id, auth: "master"}).expectError(t, 404, parse.ObjectNotFound, "Object not found.")
	e.do(req{method: "POST", path: "/classes/Holder", auth: "master", body: map[string]any{
		"f": map[string]any{"__type": "Pointer", "className": "_File", "objectId": id}}}).expect(t, 201, "")
	if r := e.do(req{method: "GET", path: "/classes/Holder?include=f", auth: "master"}); strings.Contains(string(r.body), "file_token") {
		t.Fatalf("include reached a file record: %s", r.body)
	}
	// Parse's download route never reaches a lifecycle blob.
	e.do(req{method: "GET", path: "/files/APP/~f%2F" + id, auth: "none"}).expect(t, 404, "")
	e.do(req{method: "DELETE", path: "/files/" + name, auth: "master"}).expect(t, 200, "")
	e.as(user{}, req{method: "GET", path: "/files/" + id}).expectError(t, 404, parse.ObjectNotFound, "File not found.")
}

// patternReader yields n bytes of a repeating pattern, without holding them.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) * 7 % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// heapPeak samples HeapInuse until stop is called, which returns the
// largest sample.
func heapPeak() (stop func() uint64) {
	var peak uint64
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak }
}

// A 200 MB file streams through a multipart create and back out while the
// heap stays flat: nothing holds the file in memory. Not parallel, so that
// no other test's allocations blur the measurement.
func TestFileLargeUploadMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MB through the handler")
	}
	const size = 200 << 20
	dir := t.TempDir()
	e := newEnv(t, func(cfg *parse.Config, _ *httpapi.Options) {
		blobs, err := fsblob.New(dir, fsblob.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Blobs = blobs
		cfg.Files = parse.FilesConfig{Upload: everyone, MaxFileBytes: 256 << 20}
	})
	want := sha256.New()
	io.Copy(want, &patternReader{n: size})
	wantSum := hex.EncodeToString(want.Sum(nil))

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("metadata", `{"type":"com.example.big","kind":"other","is_public":true}`)
		part, _ := mw.CreateFormFile("content", "big.bin")
		io.Copy(part, &patternReader{n: size})
		pw.CloseWithError(mw.Close())
	}()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop := heapPeak()
	r := e.do(req{method: "POST", path: "/files", body: pr, contentType: mw.FormDataContentType()})
	upPeak := stop()
	r.expect(t, 201, "")
	m := r.obj(t)
	if m["size"] != float64(size) || m["sha256"] != wantSum {
		t.Fatalf("stored %v", m)
	}

	// Download it again, hashing as it arrives.
	stop = heapPeak()
	hreq, _ := http.NewRequest("GET", m["url"].(string), nil)
	hreq.Header.Set("X-Parse-Application-Id", "APP")
	hreq.Header.Set("X-Parse-REST-API-Key", "REST")
	res, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, _ := io.Copy(got, res.Body)
	res.Body.Close()
	downPeak := stop()
	if n != size || hex.EncodeToString(got.Sum(nil)) != wantSum {
		t.Fatalf("downloaded %d bytes, sha256 %x", n, got.Sum(nil))
	}
	const bound = 32 << 20
	t.Logf("heap in use: %d MiB at rest, peak %d MiB uploading, %d MiB downloading", base>>20, upPeak>>20, downPeak>>20)
	if upPeak > base+bound || downPeak > base+bound {
		t.Fatalf("the heap grew by more than %d MiB: %d MiB at rest, %d uploading, %d downloading", bound>>20, base>>20, upPeak>>20, downPeak>>20)
	}
}

// With a blob store that signs URLs and SignedURLTTL set, content requests
// are redirected to the store, after the same access checks.
func TestFileContentSignedURL(t *testing.T) {
	t.Parallel()
	backend := s3mem.New()
	if err := backend.CreateBucket("files"); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3srv.Close)
	client := s3.New(s3.Options{BaseEndpoint: aws.String(s3srv.URL), UsePathStyle: true, Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "key", SecretAccessKey: "secret"}, nil
		})})
	e := newEnv(t, func(cfg *parse.Config, _ *httpapi.Options) {
		cfg.Blobs = s3blob.New(client, "files", s3blob.Options{})
		cfg.Files = parse.FilesConfig{Upload: everyone, SignedURLTTL: time.Minute}
	})
	body, ct := multipartBody(t, map[string]string{"type": "com.example.x", "kind": "other", "name": "s"}, "", "s.txt", "text/plain", []byte("signed"))
	r := e.do(req{method: "POST", path: "/files", body: body, contentType: ct, auth: "master"})
	r.expect(t, 201, "")
	m := r.obj(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(query string) *http.Response {
		hreq, _ := http.NewRequest("GET", e.url+"/files/"+m["id"].(string)+"/content"+query, nil)
		hreq.Header.Set("X-Parse-Application-Id", "APP")
		hreq.Header.Set("X-Parse-REST-API-Key", "REST")
		res, err := noFollow.Do(hreq)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := get(""); res.StatusCode != 404 {
		t.Fatalf("a private file without its token: %d", res.StatusCode)
	}
	res := get("?file_token=" + m["file_token"].(string))
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, s3srv.URL+"/files/") {
		t.Fatalf("redirect: %d %q", res.StatusCode, loc)
	}
	c := e.do(req{method: "GET", path: loc, auth: "none"})
	if c.status != 200 || string(c.body) != "signed" || c.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("signed URL: %d %q %v", c.status, c.body, c.header)
	}
}
