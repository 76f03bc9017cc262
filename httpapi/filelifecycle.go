package httpapi

// The file lifecycle API (routed in files.go): placeholders, content set
// later, derived files, private files read with a file token. Bodies are
// bare JSON (the file itself, not Parse's object encoding) and errors are
// Parse's {"code","error"}. Keys come from the headers only: these routes
// are reached before the body parser, and a body may be the file's bytes.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parsego/parse"
)

// maxFileFieldBytes caps a lifecycle request's JSON body, its metadata
// part and each of its form fields.
const maxFileFieldBytes = 64 << 10

// isLifecycleBody reports whether a POST /files carries a lifecycle
// create (JSON, a form or multipart); anything else is answered as the
// reference answers a Parse upload without a name.
func isLifecycleBody(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || mt == "multipart/form-data" || mt == "application/x-www-form-urlencoded"
}

// serveLifecycle answers the lifecycle routes but create.
func (h *handler) serveLifecycle(w http.ResponseWriter, r *http.Request, rt fileRoute) {
	ctx, err := h.fileAuth(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	files := h.app.Files
	token := r.URL.Query().Get("file_token")
	var rec *parse.FileRecord
	switch rt.kind {
	case fileGet:
		rec, err = files.Get(ctx, rt.name, token)
	case fileList:
		var results []*parse.FileRecord
		if results, err = files.GetMany(ctx, splitIDs(r.URL.Query().Get("ids"))); err == nil {
			h.writeFiles(w, r, results)
			return
		}
	case fileUpdate:
		var u parse.FileUpdate
		if u, err = readFileUpdate(r); err == nil {
			rec, err = files.Update(ctx, rt.name, u)
		}
	case fileRemove:
		rec, err = files.Remove(ctx, rt.name)
	case fileContent:
		h.serveContent(ctx, w, r, rt, token)
		return
	case fileSetContent:
		if err = h.setContent(ctx, r, rt); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeFile(w, r, http.StatusOK, rec)
}

// fileAuth authenticates a lifecycle request by its headers.
func (h *handler) fileAuth(r *http.Request) (context.Context, error) {
	var none input
	creds, err := h.credentials(r, &none)
	if err != nil {
		return nil, err
	}
	auth, err := h.app.Authenticate(r.Context(), creds)
	if err != nil {
		return nil, err
	}
	return parse.WithAuth(r.Context(), auth), nil
}

func (h *handler) writeFile(w http.ResponseWriter, r *http.Request, status int, rec *parse.FileRecord) {
	b, err := json.Marshal(rec)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeJSON(w, status, b)
}

func (h *handler) writeFiles(w http.ResponseWriter, r *http.Request, recs []*parse.FileRecord) {
	b, err := json.Marshal(map[string]any{"results": recs})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeJSON(w, http.StatusOK, b)
}

func splitIDs(s string) []string {
	var ids []string
	for id := range strings.SplitSeq(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// createFile answers POST /files: a placeholder from a JSON or form body,
// a complete file from a multipart body with a content part.
func (h *handler) createFile(w http.ResponseWriter, r *http.Request) {
	ctx, err := h.fileAuth(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var rec *parse.FileRecord
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		rec, err = h.createMultipart(ctx, r)
	default:
		var fields map[string]any
		if fields, err = readFileFields(r, mt); err == nil {
			var spec parse.FileSpec
			if spec, err = fileSpec(fields); err == nil {
				rec, err = h.app.Files.CreatePlaceholder(ctx, spec)
			}
		}
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeFile(w, r, http.StatusCreated, rec)
}

// createMultipart reads the parts in order: the metadata (a JSON part
// named metadata, or form fields) must precede the content part, which is
// streamed to the blob store. Without a content part the file is a
// placeholder. Parts after the content are ignored.
func (h *handler) createMultipart(ctx context.Context, r *http.Request) (*parse.FileRecord, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errBadMultipart(err)
	}
	fields := map[string]any{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			spec, err := fileSpec(fields)
			if err != nil {
				return nil, err
			}
			return h.app.Files.CreatePlaceholder(ctx, spec)
		}
		if err != nil {
			return nil, errBadMultipart(err)
		}
		switch name := part.FormName(); name {
		case "content":
			if _, ok := fields["name"]; !ok && part.FileName() != "" {
				fields["name"] = part.FileName()
			}
			spec, err := fileSpec(fields)
			if err != nil {
				return nil, err
			}
			return h.app.Files.Create(ctx, spec, partContent(part))
		case "metadata":
			var meta map[string]any
			if err := readJSONPart(part, &meta); err != nil {
				return nil, err
			}
			for k, v := range meta {
				fields[k] = v
			}
		default:
			v, err := readLimited(part)
			if err != nil {
				return nil, err
			}
			fields[name] = string(v)
		}
	}
}

// partContent is a multipart part as content; a part in base64 transfer
// encoding is decoded.
func partContent(p *multipart.Part) parse.FileContent {
	var r io.Reader = p
	if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
		r = base64.NewDecoder(base64.StdEncoding, p)
	}
	return parse.FileContent{Reader: r, MimeType: p.Header.Get("Content-Type")}
}

func errBadMultipart(err error) error {
	return &parse.Error{Code: parse.InvalidJSON, Message: "Invalid multipart body.", Err: err}
}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFileFieldBytes+1))
	if err != nil {
		return nil, &parse.Error{Code: parse.InvalidJSON, Message: "Could not read the request.", Err: err}
	}
	if len(b) > maxFileFieldBytes {
		return nil, parse.NewError(parse.ObjectTooLarge, "The file's details are too large.")
	}
	return b, nil
}

func readJSONPart(r io.Reader, v any) error {
	b, err := readLimited(r)
	if err != nil {
		return err
	}
	if json.Unmarshal(b, v) != nil {
		return parse.NewError(parse.InvalidJSON, "Invalid JSON")
	}
	return nil
}

// readFileFields reads a JSON or form body of file details.
func readFileFields(r *http.Request, mediaType string) (map[string]any, error) {
	b, err := readLimited(r.Body)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{}
	if mediaType == "application/x-www-form-urlencoded" {
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, parse.NewError(parse.InvalidJSON, "Invalid form body.")
		}
		for k, v := range vals {
			fields[k] = v[0]
		}
		return fields, nil
	}
	if json.Unmarshal(b, &fields) != nil || fields == nil {
		return nil, parse.NewError(parse.InvalidJSON, "Invalid JSON")
	}
	return fields, nil
}

// fileSpec reads a file's details from JSON values, or from form fields,
// whose values are all strings (annotations then hold JSON).
func fileSpec(fields map[string]any) (parse.FileSpec, error) {
	var spec parse.FileSpec
	var err error
	str := func(key string, dst *string) {
		if v, ok := fields[key]; ok && err == nil {
			s, ok := v.(string)
			if !ok {
				err = parse.NewError(parse.IncorrectType, "%s must be a string.", key)
			}
			*dst = s
		}
	}
	str("name", &spec.Name)
	str("kind", &spec.Kind)
	str("type", &spec.Type)
	str("sha256", &spec.SHA256)
	str("mime_type", &spec.MimeType)
	if err != nil {
		return spec, err
	}
	if v, ok := fields["is_public"]; ok {
		if spec.IsPublic, err = formBool("is_public", v); err != nil {
			return spec, err
		}
	}
	if v, ok := fields["annotations"]; ok {
		if spec.Annotations, err = annotations(v); err != nil {
			return spec, err
		}
	}
	return spec, nil
}

func formBool(key string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch x {
		case "1", "true":
			return true, nil
		case "0", "false", "":
			return false, nil
		}
	}
	return false, parse.NewError(parse.IncorrectType, "%s must be a boolean.", key)
}

// annotations takes a JSON object, or a string holding one (a form field).
func annotations(v any) (map[string]any, error) {
	if s, ok := v.(string); ok {
		if json.Unmarshal([]byte(s), &v) != nil {
			v = nil
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, parse.NewError(parse.IncorrectType, "annotations must be an object.")
	}
	return m, nil
}

// readFileUpdate reads PUT/PATCH /files/{id}: name, is_public and
// annotations only.
func readFileUpdate(r *http.Request) (parse.FileUpdate, error) {
	var u parse.FileUpdate
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	fields, err := readFileFields(r, mt)
	if err != nil {
		return u, err
	}
	for k, v := range fields {
		switch k {
		case "name":
			s, ok := v.(string)
			if !ok {
				return u, parse.NewError(parse.IncorrectType, "name must be a string.")
			}
			u.Name = &s
		case "is_public":
			b, err := formBool(k, v)
			if err != nil {
				return u, err
			}
			u.IsPublic = &b
		case "annotations":
			if v == nil {
				u.Annotations = map[string]any{}
				continue
			}
			if u.Annotations, err = annotations(v); err != nil {
				return u, err
			}
		default:
			return u, parse.NewError(parse.InvalidKeyName, "Only name, is_public and annotations can be updated, not %s.", k)
		}
	}
	return u, nil
}

// setContent answers PUT /files/{id}/content[/{key}]: the raw body, or
// the part named content of a multipart body.
func (h *handler) setContent(ctx context.Context, r *http.Request, rt fileRoute) error {
	c := parse.FileContent{Reader: r.Body, MimeType: r.Header.Get("Content-Type")}
	if mt, _, _ := mime.ParseMediaType(c.MimeType); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return errBadMultipart(err)
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return parse.NewError(parse.MissingRequiredField, "The content part is missing.")
			}
			if err != nil {
				return errBadMultipart(err)
			}
			if part.FormName() == "content" {
				c = partContent(part)
				break
			}
		}
	}
	if rt.key != "" {
		return h.app.Files.AddDerived(ctx, rt.name, rt.key, c)
	}
	return h.app.Files.SetContent(ctx, rt.name, c)
}

// serveContent streams a file's content with its type, an ETag of its
// SHA-256, and Range and conditional requests answered by
// http.ServeContent when the blob store can seek; or it redirects to a
// signed URL of the blob store (FilesConfig.SignedURLTTL). A
// placeholder's content is 204, as pnut answers it.
func (h *handler) serveContent(ctx context.Context, w http.ResponseWriter, r *http.Request, rt fileRoute, token string) {
	signed, err := h.app.Files.SignedContentURL(ctx, rt.name, rt.key, token)
	if err == nil && signed != "" {
		w.Header()["Cache-Control"] = []string{"private, no-store"} // the URL expires
		http.Redirect(w, r, signed, http.StatusFound)
		return
	}
	var rc io.ReadCloser
	var info parse.FileContentInfo
	if err == nil {
		rc, info, err = h.app.Files.OpenContent(ctx, rt.name, rt.key, token)
	}
	if errors.Is(err, parse.ErrFileIncomplete) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer rc.Close()
	hd := w.Header()
	// The content is the client's: never let a browser run it as a page
	// of the API's origin.
	hd["Content-Security-Policy"] = []string{"default-src 'none'; sandbox"}
	if info.SHA256 != "" {
		hd["Etag"] = []string{`"` + info.SHA256 + `"`}
	}
	h.serveBlob(w, r, rc, info.MimeType, info.Size, info.Created)
}

// myFiles answers GET /users/me/files: the caller's files, newest first,
// of one type with ?type=, at most ?limit= (default 100, at most 1000).
func (h *handler) myFiles(ctx context.Context, c *call, b []byte) ([]byte, error) {
	typ, _ := c.query["type"].(string)
	var limit int
	if s, ok := c.query["limit"].(string); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return b, parse.NewError(parse.InvalidQuery, "Invalid limit.")
		}
		limit = n
	}
	recs, err := h.app.Files.Mine(ctx, typ, limit)
	if err != nil {
		return b, err
	}
	out, err := json.Marshal(map[string]any{"results": recs})
	if err != nil {
		return b, err
	}
	return append(b, out...), nil
}
