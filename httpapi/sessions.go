package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/parsego/parse"
)

// sessionCreate answers POST /sessions (and POST /classes/_Session): 201,
// a Location under /classes/_Session, and the new session without its
// timestamps, as the reference.
func (h *handler) sessionCreate(ctx context.Context, c *call, b []byte) ([]byte, error) {
	fields, err := writeFields(c.in)
	if err != nil {
		return b, err
	}
	if fields == nil {
		fields = map[string]any{}
	}
	s, err := h.app.Sessions.Create(ctx, fields)
	if err != nil {
		return b, err
	}
	c.status = http.StatusCreated
	c.location = h.cfg.PublicServerURL + "/classes/" + parse.ClassSession + "/" + s.ID
	shown := *s
	shown.CreatedAt, shown.UpdatedAt = time.Time{}, time.Time{}
	return shown.AppendJSON(b), nil
}

// sessionMe answers GET /sessions/me: the session of the caller's token.
func (h *handler) sessionMe(ctx context.Context, b []byte) ([]byte, error) {
	s, err := h.app.Sessions.Me(ctx)
	if err != nil {
		return b, err
	}
	return s.AppendJSON(b), nil
}

// sessionPair answers PUT /sessions/me: the caller's restricted session,
// paired with its X-Parse-Installation-Id, answered as an update is.
func (h *handler) sessionPair(ctx context.Context, b []byte) ([]byte, error) {
	s, err := h.app.Sessions.PairInstallation(ctx)
	if err != nil {
		return b, err
	}
	b = append(b, `{"updatedAt":"`...)
	b = parse.AppendDate(b, s.UpdatedAt)
	return append(b, `"}`...), nil
}
