package httpapi

// The files routes, served as the reference's FilesRouter, which Express
// mounts before the JSON body parser and the key checks: uploads carry the
// file's own bytes and Content-Type, downloads need no keys at all. Beside
// them, under the same mount, the file lifecycle API (filelifecycle.go):
//
//	POST   /files                      JSON, form or multipart body: lifecycle create;
//	                                   any other body: 122 "Filename not provided."
//	POST   /files/{name}               upload: 201, Location, {"url","name"}
//	GET    /files                      ?ids=a,b: {"results":[files]}
//	GET    /files/{id}                 the file
//	PUT    /files/{id}, PATCH          update name, is_public, annotations
//	DELETE /files/{id}                 the file as it was, "deleted": true
//	GET    /files/{id}/content[/{key}] the content (or a derived file's)
//	PUT    /files/{id}/content[/{key}] set a placeholder's content (or add a derived file): 204
//	GET    /files/{appId}/{name...}    download (no keys): the bytes, or 404 text
//	GET    /files/{appId}/metadata/... {} (no metadata is kept)
//	DELETE /files/{name...}            master key: 200, empty body
//
// How /files/{id} and Parse's /files/{name} never collide: every Parse
// file name contains "_", the separator after its random prefix, and a
// file id (a ULID) never does; parse.IsFileID decides. A download's
// second segment is a Parse name, never "content", which has no "_".
//
// Any other request under /files goes on to the API router, which answers
// it as a route it lacks.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/mimetype"
)

type fileRouteKind uint8

const (
	fileNone fileRouteKind = iota
	fileNoName
	fileUpload
	fileDownload
	fileMetadata
	fileDelete
	// The lifecycle routes (filelifecycle.go).
	fileGet        // GET /files/{id}
	fileList       // GET /files?ids=
	fileUpdate     // PUT or PATCH /files/{id}
	fileRemove     // DELETE /files/{id}
	fileContent    // GET /files/{id}/content[/{key}]
	fileSetContent // PUT /files/{id}/content[/{key}]
)

// fileRoute is a matched files request.
type fileRoute struct {
	kind  fileRouteKind
	appID string
	name  string // a Parse file's name, or a file id
	key   string // a derived file's key
}

// matchFile routes a files request from its escaped, mount-relative path:
// the name is decoded segment by segment, as Express decodes its params,
// so that an escaped "/" stays part of a name. Like match, it ignores
// empty segments and the case of "files".
func matchFile(method, escapedPath string) fileRoute {
	rest := strings.TrimLeft(escapedPath, "/")
	first, rest, _ := strings.Cut(rest, "/")
	if !strings.EqualFold(first, "files") {
		return fileRoute{}
	}
	var segs []string
	for s := range strings.SplitSeq(rest, "/") {
		if s == "" {
			continue
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return fileRoute{}
		}
		segs = append(segs, d)
	}
	// A lifecycle file id is never a Parse name (see the top of the file).
	isID := len(segs) > 0 && parse.IsFileID(segs[0])
	content := len(segs) >= 2 && len(segs) <= 3 && segs[1] == "content"
	var key string
	if len(segs) == 3 {
		key = segs[2]
	}
	switch method {
	case http.MethodPost:
		switch len(segs) {
		case 0:
			return fileRoute{kind: fileNoName}
		case 1:
			return fileRoute{kind: fileUpload, name: segs[0]}
		}
	case http.MethodGet, http.MethodHead:
		switch {
		case len(segs) == 0 && method == http.MethodGet:
			return fileRoute{kind: fileList}
		case len(segs) == 1 && isID:
			return fileRoute{kind: fileGet, name: segs[0]}
		case content && isID:
			return fileRoute{kind: fileContent, name: segs[0], key: key}
		case len(segs) >= 3 && segs[1] == "metadata":
			return fileRoute{kind: fileMetadata, appID: segs[0], name: strings.Join(segs[2:], "/")}
		case len(segs) >= 2:
			return fileRoute{kind: fileDownload, appID: segs[0], name: strings.Join(segs[1:], "/")}
		}
	case http.MethodPut, http.MethodPatch:
		switch {
		case len(segs) == 1 && isID:
			return fileRoute{kind: fileUpdate, name: segs[0]}
		case content && isID && method == http.MethodPut:
			return fileRoute{kind: fileSetContent, name: segs[0], key: key}
		}
	case http.MethodDelete:
		switch {
		case len(segs) == 1 && isID:
			return fileRoute{kind: fileRemove, name: segs[0]}
		case len(segs) >= 1:
			return fileRoute{kind: fileDelete, name: strings.Join(segs, "/")}
		}
	}
	return fileRoute{}
}

// fileRoute matches a request whose mount-relative path is path against
// the files routes, looking at its escaped path only when path is under
// /files.
func (h *handler) fileRoute(r *http.Request, path string) fileRoute {
	p := strings.TrimLeft(path, "/")
	if len(p) < len("files") || !strings.EqualFold(p[:len("files")], "files") {
		return fileRoute{}
	}
	return matchFile(r.Method, h.stripMount(r.URL.EscapedPath()))
}

// serveFile answers a matched files request.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, rt fileRoute) {
	switch rt.kind {
	case fileNoName:
		if isLifecycleBody(r) {
			h.createFile(w, r)
			return
		}
		h.writeError(w, r, parse.NewError(parse.InvalidFileName, "Filename not provided."))
	case fileUpload:
		h.uploadFile(w, r, rt.name)
	case fileDownload:
		h.downloadFile(w, r, rt.appID, rt.name)
	case fileMetadata:
		h.writeJSON(w, http.StatusOK, []byte("{}"))
	case fileDelete:
		h.deleteFile(w, r, rt.name)
	default:
		h.serveLifecycle(w, r, rt)
	}
}

// errEmptyUpload answers an upload whose body is present but empty.
var errEmptyUpload = &parse.Error{Code: parse.FileSaveError, Message: "Invalid file upload."}

// uploadFile stores the request body as a file. The reference reads an
// upload whole before it looks at the keys (Express's raw parser), unless
// the client streams it (X-Parse-Upload-Mode: stream, which the JS SDK
// sends for Buffers): a too large body is then refused with 413 before
// the keys, rather than 400 after them. Either way the body is streamed
// to the blob store here, never held in memory, except for the JS SDK's
// JSON form, which is base64 in a JSON document carrying the keys.
func (h *handler) uploadFile(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	max := h.app.Files.MaxUploadBytes()
	// Express's raw parser only runs for a request that has a body.
	hasBody := len(r.Header["Content-Length"]) > 0 || len(r.TransferEncoding) > 0
	buffered := hasBody && r.Header.Get("X-Parse-Upload-Mode") != "stream"
	tooLarge := &parse.Error{Code: parse.FileSaveError,
		Message: fmt.Sprintf("File size exceeds maximum allowed: %d bytes.", max), Err: parse.ErrFileTooLarge}
	if buffered && r.ContentLength > max {
		h.writeError(w, r, &statusError{status: http.StatusRequestEntityTooLarge, err: tooLarge})
		return
	}

	var none input
	creds, err := h.credentials(r, &none)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	contentType := r.Header.Get("Content-Type")
	var body io.Reader = r.Body
	if creds.AppID != h.cfg.AppID {
		// No application id in the headers: the JavaScript SDK's JSON
		// upload, whose body carries the keys, or an unauthorized request.
		if !buffered {
			h.writeError(w, r, parse.ErrUnauthorized)
			return
		}
		var data []byte
		creds, contentType, data, err = h.jsonUpload(r, contentType, max)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		body = bytes.NewReader(data)
	} else if r.ContentLength > max {
		body = failingReader{tooLarge} // refused once the name is checked
	}
	auth, err := h.app.Authenticate(ctx, creds)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if buffered {
		body = &nonEmptyReader{r: body}
	}
	if contentType == "" {
		contentType = "text/plain" // the type Parse.File gives data without one
	}
	file, err := h.app.Files.Upload(parse.WithAuth(ctx, auth), name, contentType, body)
	if err != nil {
		if pe, ok := errors.AsType[*parse.Error](err); ok && buffered && errors.Is(err, parse.ErrFileTooLarge) {
			err = &statusError{status: http.StatusRequestEntityTooLarge, err: pe}
		}
		h.writeFileError(w, r, err)
		return
	}
	bp := h.getBuf()
	defer h.putBuf(bp)
	b := append((*bp)[:0], `{"url":`...)
	b = parse.AppendJSON(b, file.URL)
	b = append(b, `,"name":`...)
	b = parse.AppendJSON(b, file.Name)
	b = append(b, '}')
	*bp = b
	w.Header()["Location"] = []string{file.URL}
	h.writeJSON(w, http.StatusCreated, b)
}

// jsonUpload reads the JavaScript SDK's JSON upload, {"base64": ...,
// "_ContentType": ..., "_ApplicationId": ..., ...}, sent without key
// headers: it returns the keys of the body, the content type (the
// request's unless _ContentType gives one) and the decoded bytes. A body
// that is not such a JSON object is refused as unauthorized, as the
// reference refuses it.
func (h *handler) jsonUpload(r *http.Request, contentType string, max int64) (parse.Credentials, string, []byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return parse.Credentials{}, "", nil, &parse.Error{Code: parse.FileSaveError, Message: "Could not read the upload.", Err: err}
	}
	if int64(len(raw)) > max {
		return parse.Credentials{}, "", nil, &statusError{status: http.StatusRequestEntityTooLarge,
			err: &parse.Error{Code: parse.FileSaveError, Message: fmt.Sprintf("File size exceeds maximum allowed: %d bytes.", max), Err: parse.ErrFileTooLarge}}
	}
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil || doc == nil {
		return parse.Credentials{}, "", nil, parse.ErrUnauthorized
	}
	ct, hasCT := doc["_ContentType"]
	b64, hasB64 := doc["base64"]
	in := input{body: doc}
	creds, err := h.credentials(r, &in)
	if err != nil {
		return creds, "", nil, err
	}
	if creds.AppID != h.cfg.AppID {
		return creds, "", nil, parse.ErrUnauthorized
	}
	if hasCT && truthy(ct) {
		s, ok := ct.(string)
		if !ok {
			return creds, "", nil, parse.ErrUnauthorized
		}
		contentType = s
	}
	var data []byte
	if hasB64 && truthy(b64) {
		s, ok := b64.(string)
		if !ok {
			return creds, "", nil, parse.ErrUnauthorized
		}
		data = decodeBase64Loose(s)
	}
	return creds, contentType, data, nil
}

// decodeBase64Loose decodes base64 as Node's Buffer.from(s, "base64"):
// both alphabets, padding optional, decoding stops at the first "=", any
// other character is skipped, and a last lone character is dropped.
func decodeBase64Loose(s string) []byte {
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	out := make([]byte, 0, len(s)*3/4)
	var acc uint32
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			break
		}
		var v int
		switch c {
		case '-':
			v = 62
		case '_':
			v = 63
		default:
			if v = strings.IndexByte(std, c); v < 0 {
				continue
			}
		}
		acc = acc<<6 | uint32(v)
		if n++; n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	return out
}

// nonEmptyReader fails a body that ends before its first byte. The check
// sits in the reader so that it comes after the App's checks of the
// caller and the name, as the reference orders them.
type nonEmptyReader struct {
	r    io.Reader
	seen bool
}

func (n *nonEmptyReader) Read(p []byte) (int, error) {
	m, err := n.r.Read(p)
	if m > 0 {
		n.seen = true
	}
	if err == io.EOF && !n.seen {
		return m, errEmptyUpload
	}
	return m, err
}

// failingReader fails its first read.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// downloadFile serves a stored file, to anyone: file URLs are public, as
// the reference serves them by default. Ranges and conditional requests
// are answered by http.ServeContent when the blob store can seek (the
// reference always sends the whole file).
func (h *handler) downloadFile(w http.ResponseWriter, r *http.Request, appID, name string) {
	if appID != h.cfg.AppID {
		h.writeError(w, r, errPermissionDenied())
		return
	}
	rc, info, err := h.app.Files.Open(r.Context(), name)
	if err != nil {
		if parse.ErrorCode(err) == parse.ObjectNotFound {
			h.writeText(w, http.StatusNotFound, "File not found.")
			return
		}
		h.writeError(w, r, err)
		return
	}
	defer rc.Close()
	h.serveBlob(w, r, rc, info.ContentType, info.Size, info.Created)
}

// serveBlob sends a file's bytes with its content type (octet-stream when
// unknown). Ranges and conditional requests are answered by
// http.ServeContent when the blob store can seek.
func (h *handler) serveBlob(w http.ResponseWriter, r *http.Request, rc io.Reader, contentType string, size int64, modified time.Time) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	hd := w.Header()
	hd["Content-Type"] = []string{mimetype.WithCharset(contentType)}
	hd["X-Content-Type-Options"] = h.nosniff
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", modified, rs)
		return
	}
	hd["Content-Length"] = []string{strconv.FormatInt(size, 10)}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, rc)
	}
}

// deleteFile deletes a stored file; the keys come from the headers only,
// since the body is not read.
func (h *handler) deleteFile(w http.ResponseWriter, r *http.Request, name string) {
	var none input
	creds, err := h.credentials(r, &none)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	auth, err := h.app.Authenticate(r.Context(), creds)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.app.Files.Delete(parse.WithAuth(r.Context(), auth), name); err != nil {
		h.writeFileError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// writeFileError answers an error of the files routes. A refusal without
// a code (no master key, the read-only master key) is written as the
// reference's files router writes it: raw, without a Content-Type, and
// with the sanitized message.
func (h *handler) writeFileError(w http.ResponseWriter, r *http.Request, err error) {
	if pe, ok := errors.AsType[*parse.Error](err); ok && pe.Code == 0 && pe != parse.ErrUnauthorized {
		w.Header()["Content-Type"] = nil // keeps net/http from sniffing one
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":"Permission denied"}`))
		return
	}
	h.writeError(w, r, err)
}
