package httpapi

import (
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/jsonx"
)

// errMalformedContext answers a cloud-code context that is not a JSON
// object (X-Parse-Cloud-Context or the body's _context), as the reference.
var errMalformedContext = &parse.Error{Code: parse.InvalidJSON, Message: "Invalid object for context."}

// isTransportField reports the body fields the JavaScript SDK uses to carry
// keys and options instead of headers. They are never object fields.
func isTransportField(k string) bool {
	switch k {
	case "_ApplicationId", "_JavaScriptKey", "_MasterKey", "_ClientKey", "_SessionToken",
		"_InstallationId", "_ClientVersion", "_RevocableSession", "_context", "_noBody":
		return true
	}
	return false
}

func stripTransportFields(body map[string]any) {
	for k := range body {
		if len(k) > 0 && k[0] == '_' && isTransportField(k) {
			delete(body, k)
		}
	}
}

// credentials collects what a request presents: the X-Parse-* headers, HTTP
// Basic auth (appId:javascript-key=KEY or appId:MASTERKEY) and, when the
// headers carry no valid application id, the JavaScript SDK's body fields,
// as the reference's handleParseHeaders does. The transport fields are
// removed from the body in every case.
func (h *handler) credentials(r *http.Request, in *input) (parse.Credentials, error) {
	hd := r.Header
	c := parse.Credentials{
		AppID:          hd.Get("X-Parse-Application-Id"),
		MasterKey:      hd.Get("X-Parse-Master-Key"),
		RESTKey:        hd.Get("X-Parse-Rest-Api-Key"),
		JavaScriptKey:  hd.Get("X-Parse-Javascript-Key"),
		ClientKey:      hd.Get("X-Parse-Client-Key"),
		DotNetKey:      hd.Get("X-Parse-Windows-Key"),
		SessionToken:   hd.Get("X-Parse-Session-Token"),
		InstallationID: hd.Get("X-Parse-Installation-Id"),
		ClientVersion:  hd.Get("X-Parse-Client-Version"),
	}
	if v, ok := hd["X-Parse-Cloud-Context"]; ok && len(v) > 0 && !isJSONObject(v[0]) {
		return c, errMalformedContext
	}
	if a := hd.Get("Authorization"); a != "" {
		h.basicAuth(a, &c)
	}
	body := in.body
	if body == nil {
		return c, nil
	}
	defer stripTransportFields(body)
	if ctx, ok := body["_context"]; ok {
		if !validContext(ctx) {
			return c, errMalformedContext
		}
		in.cloudContext = ctx
	}
	if c.AppID == h.cfg.AppID {
		return c, nil
	}
	// The JavaScript SDK's transport: the keys travel in the body. A body
	// app id is refused beside a header master key that doesn't match.
	appID, _ := body["_ApplicationId"].(string)
	if appID != h.cfg.AppID || c.MasterKey != "" && !secretEqual(c.MasterKey, h.cfg.MasterKey) {
		return c, parse.ErrUnauthorized
	}
	c.AppID = appID
	c.JavaScriptKey, _ = body["_JavaScriptKey"].(string)
	var ok bool
	for _, f := range [...]struct {
		name string
		dst  *string
	}{
		{"_InstallationId", &c.InstallationID},
		{"_SessionToken", &c.SessionToken},
		{"_MasterKey", &c.MasterKey},
	} {
		v, present := body[f.name]
		if !present || !truthy(v) {
			continue
		}
		if *f.dst, ok = v.(string); !ok {
			return c, parse.ErrUnauthorized
		}
	}
	if s, ok := body["_ClientKey"].(string); ok {
		c.ClientKey = s
	}
	if s, ok := body["_ClientVersion"].(string); ok && c.ClientVersion == "" {
		c.ClientVersion = s
	}
	return c, nil
}

// basicAuth reads HTTP Basic credentials: user the application id,
// password "javascript-key=KEY" or the master key. They apply only when the
// application id is this App's.
func (h *handler) basicAuth(header string, c *parse.Credentials) {
	const prefix = "basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return
	}
	enc := strings.TrimRight(strings.TrimSpace(header[len(prefix):]), "=")
	dec, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return
	}
	appID, key, ok := strings.Cut(string(dec), ":")
	if !ok || strings.Contains(key, ":") || appID != h.cfg.AppID {
		return
	}
	c.AppID = appID
	if js, isJS := strings.CutPrefix(key, "javascript-key="); isJS {
		if js != "" {
			c.JavaScriptKey = js
		}
	} else if key != "" {
		c.MasterKey = key
	}
}

func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// truthy is JavaScript's truthiness of a JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	}
	return true
}

// validContext accepts a _context that is an object or a string holding a
// JSON object; a falsy one is ignored.
func validContext(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return true
	case string:
		return x == "" || isJSONObject(x)
	}
	return !truthy(v)
}

func isJSONObject(s string) bool {
	v, err := jsonx.Decode([]byte(s))
	_, ok := v.(map[string]any)
	return err == nil && ok
}

// requestInfo is what cloud code and webhooks learn of the request: its
// headers, the client's address and its cloud context, from the
// X-Parse-Cloud-Context header or else the body's _context.
func requestInfo(r *http.Request, in input) parse.RequestInfo {
	info := parse.RequestInfo{Headers: r.Header, IP: clientIP(r)}
	var raw any
	if v := r.Header.Get("X-Parse-Cloud-Context"); v != "" {
		raw = v
	} else {
		raw = in.cloudContext
	}
	if s, ok := raw.(string); ok && s != "" {
		raw, _ = jsonx.Decode([]byte(s))
	}
	if m, ok := raw.(map[string]any); ok {
		info.Context = m
	}
	return info
}

// clientIP is the request's remote address without its port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
