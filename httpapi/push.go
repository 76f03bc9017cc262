package httpapi

import (
	"context"
	"net/http"

	"github.com/parsego/parse"
)

// push answers POST /push: {"result":true}, with the _PushStatus's id in
// X-Parse-Push-Status-Id. As the reference, it needs the master key (a
// sanitized 403 otherwise) unless the App allows client pushes.
func (h *handler) push(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master && !h.cfg.Push.AllowClientPush {
		return b, errPermissionDenied()
	}
	id, err := h.app.Push.Send(ctx, c.in.body)
	if err != nil {
		return b, err
	}
	c.header = http.Header{"X-Parse-Push-Status-Id": {id}}
	return append(b, `{"result":true}`...), nil
}
