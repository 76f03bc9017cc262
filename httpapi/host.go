package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/parsego/parse"
)

// Host serves several Apps behind one handler: each request goes to the
// App its application id names (the X-Parse-Application-Id header, the
// app id in a file's or a page's path, HTTP Basic auth, or the JavaScript
// SDK's _ApplicationId body field, in that order), served as New serves
// one App. With an Account, it also serves the Apps API of the Parse REST
// guide: GET /apps, GET /apps/{applicationId}, POST /apps and
// PUT /apps/{applicationId}, authenticated by the account's email and
// password (X-Parse-Email, X-Parse-Password) or its key
// (X-Parse-Account-Key) instead of an app's keys.
type Host struct {
	opts  HostOptions
	mount string
	cors  cors

	handlers sync.Map // *parse.App → http.Handler, made on first use
}

// HostOptions configure a Host.
type HostOptions struct {
	// Options configure the handler of every App.
	Options Options
	// Apps finds the Apps served. An AppSet will do; a host program whose
	// instances create apps implements its own, backed by its database,
	// so that every instance finds every app.
	Apps AppSource
	// Default, when set, serves the requests that name no App the source
	// finds, which it refuses as any App refuses a wrong application id;
	// a Host of one App with it as Default answers exactly as New's
	// handler (a malformed body is 107 before its keys are looked at,
	// /health needs none). Without it such requests are 403 unauthorized.
	Default *parse.App
	// Account authenticates the Apps API. Without an email and password
	// or a key, /apps is not served (it is then an ordinary route of the
	// app the request names).
	Account Account
	// MaxBodyBytes bounds the body a request is read into to find its
	// _ApplicationId (default 20 MiB, the default of Limits.MaxBodyBytes).
	MaxBodyBytes int64
	// Logger receives the Host's own errors (the Apps API's, and those of
	// AppSource); nil discards them. Each App logs to its own logger.
	Logger *slog.Logger
}

// Account is the credential of the Apps API.
type Account struct {
	Email, Password string
	Key             string
}

func (a Account) configured() bool { return a.Email != "" && a.Password != "" || a.Key != "" }

// AppSource finds the Apps a Host serves.
type AppSource interface {
	// App returns the App with an application id, nil when there is none.
	App(ctx context.Context, appID string) (*parse.App, error)
	// Apps returns every App.
	Apps(ctx context.Context) ([]*parse.App, error)
}

// AppCreator is implemented by AppSources that make new Apps: POST /apps
// needs one. CreateApp gets a Config with the new app's id, keys
// (random, from crypto/rand), name and AllowClientClassCreation set; it
// adds what the host program decides (a Store, a ServerURL...), makes the
// App, keeps it so that App and Apps find it from then on, and returns it.
type AppCreator interface {
	CreateApp(ctx context.Context, cfg parse.Config) (*parse.App, error)
}

// AppSet is an AppSource holding its Apps in memory: the ones given to
// NewAppSet, and with New set, the ones POST /apps makes.
type AppSet struct {
	// New makes an App from a Config (see AppCreator); nil: POST /apps is
	// refused.
	New func(ctx context.Context, cfg parse.Config) (*parse.App, error)

	mu   sync.RWMutex
	apps []*parse.App
}

// NewAppSet returns an AppSet of apps.
func NewAppSet(apps ...*parse.App) *AppSet { return &AppSet{apps: apps} }

// App implements AppSource.
func (s *AppSet) App(_ context.Context, appID string) (*parse.App, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.apps {
		if a.Config().AppID == appID {
			return a, nil
		}
	}
	return nil, nil
}

// Apps implements AppSource.
func (s *AppSet) Apps(context.Context) ([]*parse.App, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*parse.App(nil), s.apps...), nil
}

// CreateApp implements AppCreator with New.
func (s *AppSet) CreateApp(ctx context.Context, cfg parse.Config) (*parse.App, error) {
	if s.New == nil {
		return nil, errNoAppCreation
	}
	app, err := s.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.apps = append(s.apps, app)
	s.mu.Unlock()
	return app, nil
}

var errNoAppCreation = parse.NewError(parse.OperationForbidden, "This server does not create apps.")

// NewHost returns a Host serving the Apps opts.Apps finds.
func NewHost(opts HostOptions) *Host {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 20 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Host{opts: opts, mount: cleanMount(opts.Options.MountPath), cors: newCORS(opts.Options)}
}

// handler returns the handler of an App, made on first use.
func (h *Host) handler(app *parse.App) http.Handler {
	if hd, ok := h.handlers.Load(app); ok {
		return hd.(http.Handler)
	}
	hd, _ := h.handlers.LoadOrStore(app, New(app, h.opts.Options))
	return hd.(http.Handler)
}

// ServeHTTP answers the Apps API itself and hands every other request to
// the handler of the App it names; a request naming no App served here is
// refused as a wrong application id is (403 unauthorized).
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if m := h.mount; m != "" && strings.HasPrefix(path, m) && (len(path) == len(m) || path[len(m)] == '/') {
		path = path[len(m):]
	}
	if p := strings.TrimLeft(path, "/"); len(p) >= 4 && strings.EqualFold(p[:4], "apps") &&
		h.opts.Account.configured() && r.Method != http.MethodOptions {
		if seg := segments(path, 3); len(seg) > 0 && len(seg) <= 2 && strings.EqualFold(seg[0], "apps") {
			h.cors.apply(w.Header(), r)
			h.serveApps(w, r, seg[1:])
			return
		}
	}
	var app *parse.App
	if r.Method != http.MethodOptions { // a preflight names no app
		var err error
		if app, err = h.opts.Apps.App(r.Context(), h.appID(r, path)); err != nil {
			h.cors.apply(w.Header(), r)
			h.writeError(w, r, err)
			return
		}
	}
	if app == nil {
		app = h.opts.Default
	}
	switch {
	case app != nil:
		h.handler(app).ServeHTTP(w, r)
	case r.Method == http.MethodOptions:
		h.cors.apply(w.Header(), r)
		writeHostJSON(w, http.StatusOK, nil, "OK")
	default:
		h.cors.apply(w.Header(), r)
		writeUnauthorized(w)
	}
}

// segments splits a path at its slashes, ignoring empty segments, into
// at most n segments (the last one holds the rest).
func segments(path string, n int) []string {
	var seg []string
	for path != "" && len(seg) < n {
		var s string
		s, path, _ = strings.Cut(strings.TrimLeft(path, "/"), "/")
		if s != "" {
			seg = append(seg, s)
		}
	}
	if path = strings.Trim(path, "/"); path != "" && len(seg) == n {
		seg[n-1] += "/" + path
	}
	return seg
}

// appID finds the application id a request names.
func (h *Host) appID(r *http.Request, path string) string {
	if id := r.Header.Get("X-Parse-Application-Id"); id != "" {
		return id
	}
	// GET /files/{appId}/{name}; the pages /apps/{appId}/{page}.
	if seg := segments(path, 3); len(seg) == 3 && (strings.EqualFold(seg[0], "files") || strings.EqualFold(seg[0], "apps")) {
		return seg[1]
	}
	if a := r.Header.Get("Authorization"); len(a) > 6 && strings.EqualFold(a[:6], "basic ") {
		if dec, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(a[6:]), "=")); err == nil {
			id, _, _ := strings.Cut(string(dec), ":")
			return id
		}
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || r.ContentLength > h.opts.MaxBodyBytes {
		return ""
	}
	// The JavaScript SDK's transport: the body carries the keys. It is
	// read here and handed on whole.
	body, err := io.ReadAll(io.LimitReader(r.Body, h.opts.MaxBodyBytes+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil {
		return ""
	}
	if r.ContentLength < 0 && int64(len(body)) <= h.opts.MaxBodyBytes {
		r.ContentLength = int64(len(body))
	}
	var fields struct {
		AppID string `json:"_ApplicationId"`
	}
	if json.Unmarshal(body, &fields) != nil {
		return ""
	}
	return fields.AppID
}

// serveApps answers the Apps API: rest is what follows /apps in the path.
func (h *Host) serveApps(w http.ResponseWriter, r *http.Request, rest []string) {
	if !h.accountAuthenticated(r) {
		h.writeError(w, r, parse.ErrUnauthorized)
		return
	}
	ctx := r.Context()
	var (
		status = http.StatusOK
		out    any
		err    error
	)
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		out, err = h.listApps(ctx)
	case len(rest) == 0 && r.Method == http.MethodPost:
		status = http.StatusCreated
		out, err = h.createApp(ctx, r)
	case len(rest) == 1 && r.Method == http.MethodGet:
		out, err = h.getApp(ctx, rest[0], nil)
	case len(rest) == 1 && r.Method == http.MethodPut:
		var u parse.SettingsUpdate
		if u, err = readSettings(r, h.opts.MaxBodyBytes); err == nil {
			out, err = h.getApp(ctx, rest[0], &u)
		}
	default:
		err = parse.NewError(parse.InvalidJSON, "%s is not an Apps API request.", r.Method)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	b, err := marshalJSON(out)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// The answers carry master keys: no cache may keep them.
	w.Header().Set("Cache-Control", "no-store")
	writeHostJSON(w, status, b, "")
}

// accountAuthenticated checks the account credential in constant time:
// both the email and the password, or the key.
func (h *Host) accountAuthenticated(r *http.Request) bool {
	acct := h.opts.Account
	if key := r.Header.Get("X-Parse-Account-Key"); key != "" {
		return acct.Key != "" && secretEqual(key, acct.Key)
	}
	email, password := r.Header.Get("X-Parse-Email"), r.Header.Get("X-Parse-Password")
	if acct.Email == "" || acct.Password == "" {
		return false
	}
	// Both are compared whatever the first gives, so the time doesn't
	// tell which one was wrong.
	emailOK := secretEqual(strings.ToLower(email), strings.ToLower(acct.Email))
	passwordOK := secretEqual(password, acct.Password)
	return emailOK && passwordOK
}

// appJSON is an app as the Apps API shows it: its keys and settings.
type appJSON struct {
	AppName                       string `json:"appName"`
	ApplicationID                 string `json:"applicationId"`
	ClientClassCreationEnabled    bool   `json:"clientClassCreationEnabled"`
	ClientKey                     string `json:"clientKey"`
	ClientPushEnabled             bool   `json:"clientPushEnabled"`
	JavaScriptKey                 string `json:"javascriptKey"`
	MasterKey                     string `json:"masterKey"`
	RequireRevocableSessions      bool   `json:"requireRevocableSessions"`
	RESTKey                       string `json:"restKey"`
	RevokeSessionOnPasswordChange bool   `json:"revokeSessionOnPasswordChange"`
	WebhookKey                    string `json:"webhookKey"`
	WindowsKey                    string `json:"windowsKey"`
}

func describeApp(ctx context.Context, app *parse.App) (*appJSON, error) {
	s, err := app.Settings(ctx)
	if err != nil {
		return nil, err
	}
	return newAppJSON(app.Config(), s), nil
}

func newAppJSON(cfg parse.Config, s parse.AppSettings) *appJSON {
	return &appJSON{
		AppName: s.AppName, ApplicationID: cfg.AppID,
		ClientClassCreationEnabled: s.ClientClassCreationEnabled, ClientPushEnabled: s.ClientPushEnabled,
		RequireRevocableSessions: s.RequireRevocableSessions, RevokeSessionOnPasswordChange: s.RevokeSessionOnPasswordChange,
		ClientKey: cfg.ClientKey, JavaScriptKey: cfg.JavaScriptKey, MasterKey: cfg.MasterKey, RESTKey: cfg.RESTKey,
		WebhookKey: cfg.WebhookKey, WindowsKey: cfg.DotNetKey,
	}
}

func (h *Host) listApps(ctx context.Context) (any, error) {
	apps, err := h.opts.Apps.Apps(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*appJSON, 0, len(apps))
	for _, app := range apps {
		a, err := describeApp(ctx, app)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return map[string]any{"results": out}, nil
}

// getApp answers GET /apps/{id} and, with an update, PUT /apps/{id}.
func (h *Host) getApp(ctx context.Context, id string, u *parse.SettingsUpdate) (any, error) {
	app, err := h.opts.Apps.App(ctx, id)
	if err != nil {
		return nil, err
	}
	if app == nil {
		return nil, parse.NewError(parse.ObjectNotFound, "App not found.")
	}
	if u != nil {
		s, err := app.UpdateSettings(ctx, *u)
		if err != nil {
			return nil, err
		}
		return newAppJSON(app.Config(), s), nil
	}
	return describeApp(ctx, app)
}

// createApp answers POST /apps {"appName": ..., settings...} with the new
// app. Its keys are random; its settings default as the guide says.
func (h *Host) createApp(ctx context.Context, r *http.Request) (any, error) {
	creator, ok := h.opts.Apps.(AppCreator)
	if !ok {
		return nil, errNoAppCreation
	}
	u, err := readSettings(r, h.opts.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	if u.AppName == nil || *u.AppName == "" {
		return nil, parse.NewError(parse.MissingRequiredField, "appName is required.")
	}
	cfg := parse.Config{AppName: *u.AppName, AllowClientClassCreation: true,
		AppID: randomKey(), MasterKey: randomKey(), RESTKey: randomKey(), JavaScriptKey: randomKey(),
		ClientKey: randomKey(), DotNetKey: randomKey(), WebhookKey: randomKey()}
	if u.ClientClassCreationEnabled != nil {
		cfg.AllowClientClassCreation = *u.ClientClassCreationEnabled
	}
	app, err := creator.CreateApp(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// The name and class creation are in the Config; the others are
	// stored with the app.
	u.AppName, u.ClientClassCreationEnabled = nil, nil
	s, err := app.UpdateSettings(ctx, u)
	if err != nil {
		return nil, err
	}
	return newAppJSON(app.Config(), s), nil
}

// readSettings decodes an Apps API body: appName and the four settings.
func readSettings(r *http.Request, limit int64) (parse.SettingsUpdate, error) {
	var u parse.SettingsUpdate
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return u, &parse.Error{Code: parse.InvalidJSON, Message: "Invalid JSON", Err: err}
	}
	if int64(len(body)) > limit {
		return u, errBodyTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return u, nil
	}
	var in map[string]any
	if json.Unmarshal(body, &in) != nil || in == nil {
		return u, errInvalidJSON
	}
	for k, v := range in {
		var dst **bool
		switch k {
		case "appName":
			s, ok := v.(string)
			if !ok {
				return u, parse.NewError(parse.IncorrectType, "appName must be a string.")
			}
			u.AppName = &s
			continue
		case "clientClassCreationEnabled":
			dst = &u.ClientClassCreationEnabled
		case "clientPushEnabled":
			dst = &u.ClientPushEnabled
		case "requireRevocableSessions":
			dst = &u.RequireRevocableSessions
		case "revokeSessionOnPasswordChange":
			dst = &u.RevokeSessionOnPasswordChange
		default:
			return u, parse.NewError(parse.InvalidKeyName, "%s is not an app setting that can be changed.", k)
		}
		b, ok := v.(bool)
		if !ok {
			return u, parse.NewError(parse.IncorrectType, "%s must be a boolean.", k)
		}
		*dst = &b
	}
	return u, nil
}

// randomKey returns 40 hex digits from crypto/rand: an app id or key.
func randomKey() string {
	b := make([]byte, 20)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func writeHostJSON(w http.ResponseWriter, status int, body []byte, text string) {
	if body == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, text)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// writeError answers an error as a handler does; internal errors are
// logged with their cause.
func (h *Host) writeError(w http.ResponseWriter, r *http.Request, err error) {
	pe, status := parseError(err)
	if pe == parse.ErrUnauthorized {
		writeUnauthorized(w)
		return
	}
	if pe.Code == parse.InternalServerError {
		h.opts.Logger.Error("httpapi: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeHostJSON(w, status, appendError(nil, pe), "")
}
