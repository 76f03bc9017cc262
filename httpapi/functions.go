package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/parsego/parse"
)

// function answers POST /functions/{name}: {"result": <value>}. The
// params are the JSON body's fields overridden by the query string's, as
// the reference merges them, decoded to typed values (Dates, Pointers,
// Files, GeoPoints...). An unknown function is 141; an error the function
// returns keeps its code.
func (h *handler) function(ctx context.Context, c *call, b []byte) ([]byte, error) {
	params := make(map[string]any, len(c.in.body)+len(c.query))
	maps.Copy(params, c.in.body)
	maps.Copy(params, c.query)
	decoded, err := parse.DecodeValue(params, false)
	if err != nil {
		return b, err
	}
	res, err := h.app.Functions.Run(ctx, c.route.class, decoded.(map[string]any))
	h.logFunction(ctx, c.route.class, decoded, res, err)
	if err != nil {
		return b, err
	}
	b = append(b, `{"result":`...)
	b = parse.AppendJSON(b, res)
	return append(b, '}'), nil
}

// formParams decodes a query string as Express's extended parser (the qs
// package) does for the routes that take it as it is, the functions':
// values stay strings; a[b]=1 nests ({"a":{"b":"1"}}), a[]=1 and a[0]=1
// make arrays, repeated keys collect into an array.
func formParams(raw string) map[string]any {
	root := qsObject{}
	n := 0
	for raw != "" && n < qsParameterLimit {
		var p string
		p, raw, _ = strings.Cut(raw, "&")
		if p == "" {
			continue
		}
		n++
		k, v, _ := strings.Cut(p, "=")
		key, val := unescape(k), unescape(v)
		if key == "" {
			continue
		}
		qsMergeInto(root, qsLeaf(key, val))
	}
	return qsFinish(root).(map[string]any)
}

// The qs package's defaults.
const (
	qsParameterLimit = 1000
	qsDepth          = 5
	qsArrayLimit     = 20
)

// While a query string is decoded, objects are qsObject and arrays are
// qsArray, sparse by index; qsFinish turns them into map[string]any and
// []any (arrays compacted in index order).
type (
	qsObject map[string]any
	qsArray  map[int]any
)

// qsLeaf builds the value one key=value pair stands for: {"a":{"b":"1"}}
// for a[b]=1.
func qsLeaf(key, val string) qsObject {
	segs := qsSegments(key)
	var v any = val
	for i := len(segs) - 1; i >= 1; i-- {
		s := segs[i]
		inner := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		switch idx, err := strconv.Atoi(inner); {
		case s == "[]":
			v = qsArray{0: v}
		case s != inner && err == nil && idx >= 0 && idx <= qsArrayLimit && strconv.Itoa(idx) == inner:
			v = qsArray{idx: v}
		case s != inner:
			v = qsObject{inner: v}
		default:
			v = qsObject{s: v}
		}
	}
	return qsObject{segs[0]: v}
}

// qsSegments splits a key into its parent and bracketed children, at
// most qsDepth of them; what follows stays one literal segment.
func qsSegments(key string) []string {
	open := strings.IndexByte(key, '[')
	if open <= 0 {
		return []string{key}
	}
	if !strings.Contains(key[open:], "]") {
		// Unbalanced: the rest is one literal child ("k[a" is {"k":{"[a":...}}).
		return []string{key[:open], "[" + key[open:] + "]"}
	}
	segs := []string{key[:open]}
	rest := key[open:]
	for len(segs) <= qsDepth && strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 || strings.IndexByte(rest[1:end], '[') >= 0 {
			break
		}
		segs = append(segs, rest[:end+1])
		rest = rest[end+1:]
	}
	if rest != "" {
		segs = append(segs, "["+rest+"]")
	}
	return segs
}

// qsMergeInto merges src into dst as the qs package's merge does.
func qsMergeInto(dst, src qsObject) {
	for k, v := range src {
		if cur, ok := dst[k]; ok {
			dst[k] = qsMerge(cur, v)
		} else {
			dst[k] = v
		}
	}
}

func qsMerge(target, source any) any {
	switch s := source.(type) {
	case string:
		switch t := target.(type) {
		case qsArray:
			t[qsNext(t)] = s
			return t
		}
		return qsArray{0: target, 1: s}
	case qsArray:
		switch t := target.(type) {
		case qsArray:
			for _, i := range slices.Sorted(maps.Keys(s)) {
				item := s[i]
				cur, ok := t[i]
				switch {
				case !ok:
					t[i] = item
				case qsIsObject(cur) && qsIsObject(item):
					t[i] = qsMerge(cur, item)
				default:
					t[qsNext(t)] = item
				}
			}
			return t
		case qsObject:
			for i, item := range s {
				k := strconv.Itoa(i)
				if cur, ok := t[k]; ok {
					t[k] = qsMerge(cur, item)
				} else {
					t[k] = item
				}
			}
			return t
		}
		out := qsArray{0: target}
		for _, i := range slices.Sorted(maps.Keys(s)) {
			out[qsNext(out)] = s[i]
		}
		return out
	case qsObject:
		switch t := target.(type) {
		case qsObject:
			qsMergeInto(t, s)
			return t
		case qsArray:
			obj := qsObject{}
			for i, item := range t {
				obj[strconv.Itoa(i)] = item
			}
			qsMergeInto(obj, s)
			return obj
		}
		return qsArray{0: target, 1: s}
	}
	return source
}

func qsIsObject(v any) bool {
	switch v.(type) {
	case qsObject, qsArray:
		return true
	}
	return false
}

func qsNext(a qsArray) int {
	next := 0
	for i := range a {
		if i >= next {
			next = i + 1
		}
	}
	return next
}

// qsFinish turns the decoding types into JSON values.
func qsFinish(v any) any {
	switch x := v.(type) {
	case qsObject:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = qsFinish(e)
		}
		return out
	case qsArray:
		out := make([]any, 0, len(x))
		for _, i := range slices.Sorted(maps.Keys(x)) {
			out = append(out, qsFinish(x[i]))
		}
		return out
	}
	return v
}

// logFunction logs a function call in the reference's words, so that the
// dashboard's Logs page shows failures: a failure at error level, a
// success at debug level (the reference logs it at info, which would put
// a line per call on the hot path).
func (h *handler) logFunction(ctx context.Context, name string, params, res any, err error) {
	log := h.app.Logger()
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelError
	}
	if !log.Enabled(ctx, level) {
		return
	}
	user := "undefined"
	if u := parse.AuthFrom(ctx).User; u != nil {
		user = u.ID
	}
	input := truncateLog(parse.AppendJSON(nil, params))
	if err == nil {
		log.Debug("Ran cloud function "+name+" for user "+user+" with:\n  Input: "+input+"\n  Result: "+truncateLog(parse.AppendJSON(nil, res)),
			"functionName", name, "user", user)
		return
	}
	pe, _ := parseError(err)
	cause := `{"message":` + string(parse.AppendJSON(nil, pe.Message)) + `,"code":` + strconv.Itoa(pe.Code) + `}`
	log.Error("Failed running cloud function "+name+" for user "+user+" with:\n  Input: "+input+"\n  Error: "+cause,
		"functionName", name, "user", user, "error", json.RawMessage(cause), "params", json.RawMessage(parse.AppendJSON(nil, params)))
}

// truncateLog shortens a logged value to 1000 bytes, as the reference.
func truncateLog(b []byte) string {
	if len(b) > 1000 {
		return string(b[:1000]) + "... (truncated)"
	}
	return string(b)
}
