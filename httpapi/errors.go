package httpapi

import (
	"errors"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/parsego/parse"
)

// statusError is a Parse error answered with a status of its own rather
// than the one its code maps to.
type statusError struct {
	status int
	err    *parse.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// errUnrouted makes a routed handler answer as if its route didn't exist.
var errUnrouted = errors.New("httpapi: no route")

// errBatchAborted answers a transactional batch one of whose items failed.
// The reference rejects it with a non-Parse value, which its error
// middleware answers as an uncaught error: 500 {"code":1,"message":...}.
var errBatchAborted = errors.New("httpapi: batch transaction aborted")

// errPermissionDenied refuses a master-only route (the schemas API): the
// reference's sanitized 403, with a message and no code.
func errPermissionDenied() error { return &parse.Error{Message: "Permission denied"} }

// internalError is what an unexpected error is answered with; its cause is
// logged, never sent.
func internalError(cause error) *parse.Error {
	return &parse.Error{Code: parse.InternalServerError, Message: "An internal server error occurred", Err: cause}
}

// httpStatus maps a Parse error code to its HTTP status, as the reference's
// handleParseErrors: 500 for an internal error, 404 for a missing object,
// 403 for a refusal without a code, 400 for everything else.
func httpStatus(code int) int {
	switch code {
	case parse.InternalServerError:
		return http.StatusInternalServerError
	case parse.ObjectNotFound:
		return http.StatusNotFound
	case 0:
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// parseError returns err as the *parse.Error it answers with, and its
// status. Errors that aren't Parse errors become internal errors.
func parseError(err error) (*parse.Error, int) {
	if se, ok := errors.AsType[*statusError](err); ok {
		return se.err, se.status
	}
	if pe, ok := errors.AsType[*parse.Error](err); ok {
		return pe, httpStatus(pe.Code)
	}
	return internalError(err), http.StatusInternalServerError
}

// appendError appends {"code":N,"error":"msg"} (no code for code 0).
func appendError(b []byte, pe *parse.Error) []byte {
	b = append(b, '{')
	if pe.Code != 0 {
		b = append(b, `"code":`...)
		b = strconv.AppendInt(b, int64(pe.Code), 10)
		b = append(b, ',')
	}
	b = append(b, `"error":`...)
	b = parse.AppendJSON(b, pe.Message)
	return append(b, '}')
}

// writeError answers err. Internal errors are logged with their cause.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errBatchAborted) {
		h.writeJSON(w, http.StatusInternalServerError, []byte(`{"code":1,"message":"Internal server error."}`))
		return
	}
	pe, status := parseError(err)
	if pe == parse.ErrUnauthorized {
		writeUnauthorized(w)
		return
	}
	if pe.Code == parse.InternalServerError {
		h.logError(r, err)
	}
	bp := h.getBuf()
	defer h.putBuf(bp)
	*bp = appendError((*bp)[:0], pe)
	h.writeJSON(w, status, *bp)
}

// writeUnauthorized refuses wrong keys. The reference writes this body
// raw, without a Content-Type; a nil value keeps net/http from sniffing
// one.
func writeUnauthorized(w http.ResponseWriter) {
	w.Header()["Content-Type"] = nil
	w.WriteHeader(http.StatusForbidden)
	w.Write([]byte(`{"error":"unauthorized"}`))
}

func (h *handler) logError(r *http.Request, err error) {
	h.app.Logger().Error("httpapi: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
}

// recoverPanic answers a panic as an internal error instead of dropping
// the connection, and logs it with its stack.
func (h *handler) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	h.app.Logger().Error("httpapi: panic", "method", r.Method, "path", r.URL.Path,
		"panic", v, "stack", string(debug.Stack()))
	delete(w.Header(), "Location")
	h.writeJSON(w, http.StatusInternalServerError, []byte(`{"code":1,"error":"An internal server error occurred"}`))
}

// notFound answers an unknown route with Express's default 404 page, as the
// reference does: "Cannot GET /parse/nowhere", the full request path.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request, method string) {
	p := r.RequestURI
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if !strings.HasPrefix(p, "/") {
		p = r.URL.EscapedPath()
	}
	body := "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n" +
		"</head>\n<body>\n<pre>Cannot " + escapeHTML(method) + " " + escapeHTML(p) + "</pre>\n</body>\n</html>\n"
	hd := w.Header()
	hd["Content-Security-Policy"] = h.cspNone
	hd["X-Content-Type-Options"] = h.nosniff
	hd["Content-Type"] = h.ctHTML
	hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(body))
}

// escapeHTML escapes as the escape-html package Express uses.
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, `"&'<>`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b.WriteString("&quot;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&#39;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
