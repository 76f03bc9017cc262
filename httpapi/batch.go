package httpapi

import (
	"context"
	"errors"
	"maps"
	"path"
	"strings"

	"github.com/parsego/parse"
)

// batchItem is one sub-request of a batch, routed before any item runs.
type batchItem struct {
	method, path string // as routed, for messages
	call         call
}

// batch answers POST /batch: the sub-requests' answers in request order,
// each {"success": <answer>} or {"error": {"code", "error"}}.
//
// Every item is validated and routed before any runs, so a batch with a
// bad path writes nothing. Items then run one after another through the
// same dispatch as HTTP requests, with the batch's identity; runs of
// consecutive creates in one class are saved together (one round trip).
// With "transaction": true everything runs in one database transaction,
// and the first failing item rolls it all back.
func (h *handler) batch(ctx context.Context, c *call, b []byte) ([]byte, error) {
	reqs, ok := c.in.body["requests"].([]any)
	if !ok {
		return b, parse.NewError(parse.InvalidJSON, "requests must be an array")
	}
	// The reference sets no limit by default; ours bounds the work one
	// request can ask for.
	if limit := h.cfg.Limits.MaxBatchSize; len(reqs) > limit {
		return b, parse.NewError(parse.InvalidJSON,
			"Batch request contains %d sub-requests, which exceeds the limit of %d.", len(reqs), limit)
	}
	items, err := h.routeBatch(reqs)
	if err != nil {
		return b, err
	}
	if tx, _ := c.in.body["transaction"].(bool); !tx {
		b, _ = h.runBatch(ctx, items, b, false)
		return b, nil
	}
	mark := len(b)
	err = h.app.Tx(ctx, func(ctx context.Context) error {
		var failed bool
		if b, failed = h.runBatch(ctx, items, b[:mark], true); failed {
			return errBatchAborted
		}
		return nil
	})
	if err != nil {
		return b[:mark], err
	}
	return b, nil
}

// routeBatch validates and routes every sub-request, with the reference's
// checks in its order: paths are strings, carry the mount path, are not
// batches themselves, and route.
func (h *handler) routeBatch(reqs []any) ([]batchItem, error) {
	for _, r := range reqs {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, parse.NewError(parse.InvalidJSON, "batch request path must be a string")
		}
		if _, ok := m["path"].(string); !ok {
			return nil, parse.NewError(parse.InvalidJSON, "batch request path must be a string")
		}
	}
	items := make([]batchItem, len(reqs))
	for i, r := range reqs {
		m := r.(map[string]any)
		p, err := h.batchPath(m["path"].(string))
		if err != nil {
			return nil, err
		}
		method, ok := m["method"].(string)
		if !ok {
			method = "undefined" // as JavaScript names the missing method in messages
		}
		if ok && strings.ToUpper(method) == "POST" && match("POST", p).kind == routeBatch {
			return nil, parse.NewError(parse.InvalidJSON, "nested batch requests are not allowed")
		}
		items[i] = batchItem{method: method, path: p}
		items[i].call = call{in: bodyInput(m["body"]), status: 200}
	}
	for i := range items {
		it := &items[i]
		// The reference's router matches methods case-sensitively here.
		if it.method != "HEAD" {
			it.call.route = match(it.method, it.path)
		}
		if k := it.call.route.kind; k == routeNone || k == routeBatch || k.isPage() {
			return nil, parse.NewError(parse.InvalidJSON, "cannot route %s %s", it.method, it.path)
		}
	}
	return items, nil
}

// batchPath turns a sub-request path into a mount-relative one. It must
// start with the mount path (the server URL's or the public URL's).
func (h *handler) batchPath(p string) (string, error) {
	for _, prefix := range h.prefixes {
		if strings.HasPrefix(p, prefix) {
			return path.Join("/", p[len(prefix):]), nil
		}
	}
	return "", parse.NewError(parse.InvalidJSON, "cannot route batch path %s", p)
}

// bodyInput is a sub-request's body as its handler takes it. A body that
// is neither an object nor an array counts as none.
func bodyInput(v any) input {
	switch x := v.(type) {
	case map[string]any:
		return input{body: x}
	case []any:
		return input{arrayLen: len(x)}
	}
	return input{}
}

// runBatch appends the items' answers as a JSON array. With stopOnError it
// stops at the first failure (a transaction is rolled back then, so the
// answers are never sent); it reports whether an item failed.
func (h *handler) runBatch(ctx context.Context, items []batchItem, b []byte, stopOnError bool) ([]byte, bool) {
	b = append(b, '[')
	failed := false
	for i := 0; i < len(items); {
		if i > 0 {
			b = append(b, ',')
		}
		// Installation creates may turn into updates: they go one by one.
		if rt := items[i].call.route; rt.kind == routeCreate && rt.class != parse.ClassInstallation {
			j := i + 1
			for j < len(items) && items[j].call.route.kind == routeCreate && items[j].call.route.class == rt.class {
				j++
			}
			if j-i > 1 {
				var ok bool
				b, ok = h.batchCreates(ctx, items[i:j], b, stopOnError)
				failed = failed || !ok
				if failed && stopOnError {
					return b, true
				}
				i = j
				continue
			}
		}
		it := &items[i]
		mark := len(b)
		b = append(b, `{"success":`...)
		out, err := h.serve(ctx, &it.call, b)
		if err != nil {
			b = h.appendItemError(out[:mark], it, err)
			failed = true
			if stopOnError {
				return b, true
			}
		} else {
			b = append(out, '}')
		}
		i++
	}
	return append(b, ']'), failed
}

// batchCreates saves a run of creates in one class with one CreateMany
// call, appending their answers separated by commas.
func (h *handler) batchCreates(ctx context.Context, items []batchItem, b []byte, stopOnError bool) ([]byte, bool) {
	fields := make([]map[string]any, len(items))
	errs := make([]error, len(items))
	var list []map[string]any
	var idx []int
	for i := range items {
		f, err := writeFields(items[i].call.in)
		if err != nil {
			errs[i] = err
			if stopOnError {
				b = h.appendItemError(b, &items[i], err)
				return b, false
			}
			continue
		}
		if f == nil {
			f = map[string]any{}
		}
		// fields keeps what was sent; list holds what beforeSave
		// triggers may change.
		fields[i] = maps.Clone(f)
		list = append(list, f)
		idx = append(idx, i)
	}
	objs := make([]*parse.Object, len(items))
	written := make([]map[string]any, len(items))
	for n, i := range idx {
		written[i] = list[n]
	}
	if len(list) > 0 {
		saved, saveErrs := h.app.Objects.CreateMany(ctx, items[0].call.route.class, list)
		for n, i := range idx {
			objs[i], errs[i] = saved[n], saveErrs[n]
		}
	}
	ok := true
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		if errs[i] != nil {
			b = h.appendItemError(b, &items[i], errs[i])
			ok = false
			if stopOnError {
				return b, false
			}
			continue
		}
		b = append(b, `{"success":`...)
		b = appendSaved(b, fields[i], written[i], objs[i], true)
		b = append(b, '}')
	}
	return b, ok
}

// appendItemError appends {"error":{"code","error"}} for a failed item.
func (h *handler) appendItemError(b []byte, it *batchItem, err error) []byte {
	if errors.Is(err, errUnrouted) {
		err = parse.NewError(parse.InvalidJSON, "cannot route %s %s", it.method, it.path)
	}
	pe, _ := parseError(err)
	if pe.Code == parse.InternalServerError {
		h.app.Logger().Error("httpapi: internal error in batch", "method", it.method, "path", it.path, "err", err)
	}
	b = append(b, `{"error":`...)
	b = appendError(b, pe)
	return append(b, '}')
}
