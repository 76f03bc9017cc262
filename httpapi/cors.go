package httpapi

import (
	"net/http"
	"slices"
	"strings"
)

// defaultAllowHeaders is the reference's CORS request-header allow list.
// X-Parse-Installation-Id is not in it there either.
const defaultAllowHeaders = "X-Parse-Master-Key, X-Parse-REST-API-Key, X-Parse-Javascript-Key, " +
	"X-Parse-Application-Id, X-Parse-Client-Version, X-Parse-Session-Token, X-Requested-With, " +
	"X-Parse-Revocable-Session, X-Parse-Request-Id, Content-Type, Pragma, Cache-Control"

// cors holds the CORS headers every response carries, built once.
type cors struct {
	origins      []string // configured origins; empty: "*"
	allowOrigin  []string // the header value when the request's Origin is not echoed
	allowMethods []string
	allowHeaders []string
	expose       []string
}

func newCORS(opts Options) cors {
	c := cors{
		origins:      slices.Clone(opts.AllowOrigin),
		allowOrigin:  []string{"*"},
		allowMethods: []string{"GET,PUT,POST,DELETE,OPTIONS"},
		allowHeaders: []string{defaultAllowHeaders},
		expose:       []string{"X-Parse-Job-Status-Id, X-Parse-Push-Status-Id"},
	}
	if len(opts.AllowOrigin) > 0 {
		c.allowOrigin = []string{opts.AllowOrigin[0]}
	}
	if len(opts.AllowHeaders) > 0 {
		c.allowHeaders = []string{defaultAllowHeaders + ", " + strings.Join(opts.AllowHeaders, ", ")}
	}
	return c
}

// apply sets the CORS headers, as the reference does on every response
// under its mount, errors and 404s included.
func (c *cors) apply(hd http.Header, r *http.Request) {
	origin := c.allowOrigin
	if len(c.origins) > 0 {
		if o := r.Header.Get("Origin"); o != "" && contains(c.origins, o) {
			origin = []string{o}
		}
	}
	hd["Access-Control-Allow-Origin"] = origin
	hd["Access-Control-Allow-Methods"] = c.allowMethods
	hd["Access-Control-Allow-Headers"] = c.allowHeaders
	hd["Access-Control-Expose-Headers"] = c.expose
}
