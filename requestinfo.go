package parse

import (
	"context"
	"net/http"
)

// RequestInfo describes the HTTP request a call came from. Cloud functions
// and triggers see it, and webhooks are sent it. Calls made from Go carry
// none unless the caller adds it with WithRequestInfo.
type RequestInfo struct {
	Headers http.Header
	// IP is the client's address.
	IP string
	// Context is the cloud context the client sent (X-Parse-Cloud-Context
	// or the body's _context): values for triggers and functions.
	Context map[string]any
}

type requestInfoKey struct{}

// WithRequestInfo returns a context whose App calls carry info.
func WithRequestInfo(ctx context.Context, info RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

// RequestInfoFrom returns the RequestInfo ctx carries, the zero one when
// none.
func RequestInfoFrom(ctx context.Context) RequestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	return info
}
