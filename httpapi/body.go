package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/jsonx"
)

// input is a request's decoded JSON body.
type input struct {
	// body is the JSON object sent, with the JavaScript SDK's transport
	// fields (_method, _ApplicationId, ...) removed; nil without a body.
	body map[string]any
	// arrayLen is the length of a body that was a JSON array. The reference
	// treats such a body as an object keyed by index, so a non-empty one is
	// refused by whichever check meets key "0" first.
	arrayLen int
	// cloudContext is the body's _context (the JavaScript SDK's cloud
	// context), before the transport fields were removed.
	cloudContext any
	// raw is the body as sent, kept only for the routes that need the
	// order of its keys (events: the first eight dimensions).
	raw []byte
}

// errInvalidJSON answers a body that is not a JSON object or array. The
// reference answers Express's parser message without a code; the REST
// guide gives 107, which we follow.
var errInvalidJSON = &parse.Error{Code: parse.InvalidJSON, Message: "Invalid JSON"}

// errBodyTooLarge answers a body over Limits.MaxBodyBytes. The reference
// answers 413 {"error":"request entity too large"} from Express, without a
// code; we keep the status and add Parse's ObjectTooLarge code so SDKs
// surface a Parse error.
var errBodyTooLarge = &statusError{status: http.StatusRequestEntityTooLarge,
	err: &parse.Error{Code: parse.ObjectTooLarge, Message: "request entity too large"}}

// readBody reads and decodes the request body, as the reference's JSON body
// parser does for any Content-Type (the JavaScript SDK sends text/plain to
// avoid CORS preflights).
func (h *handler) readBody(r *http.Request, keepRaw bool) (input, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return input{}, nil
	}
	limit := h.cfg.Limits.MaxBodyBytes
	if r.ContentLength > limit {
		return input{}, errBodyTooLarge
	}
	bp := h.getBuf()
	defer h.putBuf(bp)
	buf, err := readAll(r.Body, (*bp)[:0], r.ContentLength, limit)
	*bp = buf
	if err != nil {
		// An outer http.MaxBytesReader may have cut the body short.
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return input{}, errBodyTooLarge
		}
		return input{}, err
	}
	in, err := decodeBody(buf)
	if keepRaw {
		in.raw = bytes.Clone(buf)
	}
	return in, err
}

// readAll appends the body to buf: exactly n bytes when the length is
// known, else up to limit.
func readAll(body io.Reader, buf []byte, n, limit int64) ([]byte, error) {
	if n > 0 {
		if int64(cap(buf)) < n {
			buf = make([]byte, 0, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(body, buf); err != nil {
			return buf[:0], &parse.Error{Code: parse.InvalidJSON, Message: "Invalid JSON", Err: err}
		}
		return buf, nil
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if int64(len(buf)) > limit {
			return buf, errBodyTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, &parse.Error{Code: parse.InvalidJSON, Message: "Invalid JSON", Err: err}
		}
	}
}

// decodeBody decodes a JSON body. Like Express's parser in strict mode it
// accepts only an object or an array, and an empty body as none. Numbers
// decode as float64: Parse numbers are doubles.
func decodeBody(b []byte) (input, error) {
	b = bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(b) == 0 {
		return input{}, nil
	}
	if b[0] != '{' && b[0] != '[' {
		return input{}, errInvalidJSON
	}
	v, err := jsonx.Decode(b)
	if err != nil {
		return input{}, errInvalidJSON
	}
	switch x := v.(type) {
	case map[string]any:
		return input{body: x}, nil
	case []any:
		return input{arrayLen: len(x)}, nil
	}
	return input{}, errInvalidJSON
}

// overrideMethod applies the JavaScript SDK's method tunnelling: a POST
// whose body has _method is served as that method. A _method that is not a
// string is dropped, as the reference does.
func (in *input) overrideMethod(method string) string {
	v, ok := in.body["_method"]
	if !ok {
		return method
	}
	delete(in.body, "_method")
	if s, ok := v.(string); ok && s != "" {
		return strings.ToUpper(s)
	}
	return method
}

// queryParams decodes a query string as the reference does: every value
// that parses as JSON is taken as that JSON (limit=10 is a number, where is
// an object), any other stays a string; a repeated key gives the list of
// its raw strings.
func queryParams(raw string) map[string]any {
	type pair struct{ k, v string }
	var stack [8]pair
	pairs := stack[:0]
	for raw != "" {
		var p string
		p, raw, _ = strings.Cut(raw, "&")
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		pairs = append(pairs, pair{unescape(k), unescape(v)})
	}
	params := make(map[string]any, len(pairs))
	for i, p := range pairs {
		if _, seen := params[p.k]; seen {
			continue // collected with its first occurrence
		}
		var list []any
		for _, q := range pairs[i+1:] {
			if q.k == p.k {
				if list == nil {
					list = []any{p.v}
				}
				list = append(list, q.v)
			}
		}
		if list != nil {
			params[p.k] = list
			continue
		}
		params[p.k] = decodeParam(p.v)
	}
	return params
}

// unescape decodes a query-string component as Node's querystring does:
// "+" is a space, and a malformed escape is kept as it is rather than
// failing the request.
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// decodeParam is JSON.parse with a fallback to the string itself.
// Scalars are recognized without encoding/json, which would allocate an
// error for every plain string ("-score", "name").
func decodeParam(s string) any {
	t := strings.Trim(s, " \t\r\n")
	switch {
	case t == "":
		return s
	case t == "true":
		return true
	case t == "false":
		return false
	case t == "null":
		return nil
	case t[0] == '{' || t[0] == '[' || t[0] == '"':
		if v, err := jsonx.Decode([]byte(t)); err == nil {
			return v
		}
	case isJSONNumber(t):
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return f
		}
	}
	return s
}

// isJSONNumber reports whether s follows JSON's number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
