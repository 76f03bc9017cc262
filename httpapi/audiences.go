package httpapi

import (
	"context"

	"github.com/parsego/parse"
)

// audiences answers /push_audiences, the master key's only (the
// reference's sanitized 403 otherwise): the /classes routes on _Audience,
// except that reads answer each audience's query decoded, not as the JSON
// string it is stored as.
func (h *handler) audiences(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	switch c.route.kind {
	case routeFind:
		if c.in.arrayLen > 0 {
			return b, parse.NewError(parse.InvalidQuery, "Invalid parameter for query: 0")
		}
		q, err := h.app.DecodeQuery(c.route.class, c.params())
		if err != nil {
			return b, err
		}
		list, err := h.app.Audiences.Find(ctx, q)
		if err != nil {
			return b, err
		}
		b = appendArray(append(b, `{"results":`...), list, appendObject)
		return appendCount(ctx, q, b)
	case routeGet:
		q, err := h.getQuery(c)
		if err != nil {
			return b, err
		}
		o, err := h.app.Audiences.Get(ctx, q, c.route.id)
		if err != nil {
			return b, err
		}
		return o.AppendJSON(b), nil
	case routeCreate:
		return h.create(ctx, c, b)
	case routeUpdate:
		return h.update(ctx, c, b)
	}
	return h.delete(ctx, c, b)
}
