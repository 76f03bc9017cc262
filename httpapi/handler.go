// Package httpapi serves a parse.App over HTTP in the exact wire format of
// the Node.js Parse Server (9.x), so that existing Parse apps and the
// official SDKs work against it unchanged: the same routes, keys, status
// codes, headers, JSON shapes and Parse error codes.
//
// The handler only translates: it decodes the wire, authenticates the keys
// through the App, calls the App's services and encodes their answers. The
// App enforces every rule; httpapi never reaches the store.
//
// Served: /health; find, create, get, update and delete on /classes; users
// (/users, /users/me, /users/{id}, /login, /logout; users.go) and sessions
// (/sessions, /sessions/me, /sessions/{id}; sessions.go); password reset
// and verification mail requests (/requestPasswordReset,
// /verificationEmailRequest) and the HTML pages their links lead to
// (/apps/{appId}/...; pages.go); find and get on
// /installations and /roles; /batch; POST /push (push.go); the
// schema API (/schemas, /purge); cloud functions (POST /functions/{name});
// jobs (POST /jobs/{name}) and their schedules (/cloud_code/jobs; jobs.go);
// the Hooks API (/hooks; hooks.go);
// files (/files: upload, download, delete; files.go); the remote
// configuration (GET and PUT /config) and analytics events
// (POST /events/{name}); what Parse Dashboard reads (/serverInfo,
// /scriptlog, /push_audiences). Host (host.go) serves several Apps, and the Apps API. Any
// other path
// answers Express's 404 page after the keys are checked, as the reference
// does for routes it lacks. HTTP requests and batch sub-requests go through
// one dispatch (match, then serve).
//
//	mux := http.NewServeMux()
//	mux.Handle("/parse/", http.StripPrefix("/parse", httpapi.New(app, httpapi.Options{})))
package httpapi

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/parsego/parse"
)

// Options tune the handler. The zero value serves the App as the reference
// server would with its default options.
type Options struct {
	// MountPath is the path prefix the API is mounted at ("/parse"). Batch
	// sub-requests carry it in their paths. It defaults to the path of the
	// App's ServerURL; the path of its PublicServerURL is accepted too.
	MountPath string
	// AllowOrigin lists the origins CORS answers allow, as the reference's
	// allowOrigin option: a request's Origin is echoed when listed, else the
	// first entry is sent. Empty: "*".
	AllowOrigin []string
	// AllowHeaders adds request headers to the CORS allow list, as the
	// reference's allowHeaders option.
	AllowHeaders []string
}

// handler is the http.Handler New returns. Everything in it is fixed at
// construction except the buffer pool.
type handler struct {
	app *parse.App
	cfg parse.Config
	// mount is stripped from request paths that still carry it (a handler
	// mounted without http.StripPrefix); prefixes are the mount paths batch
	// sub-request paths may start with, longest first.
	mount    string
	prefixes []string
	cors     cors

	// Header values are assigned as shared slices rather than through
	// Header.Set, which allocates a new slice for every response.
	ctJSON, ctText, ctHTML, cspNone, nosniff []string

	// pages renders the pages of the mails' links (pages.go).
	pages *template.Template

	bufs sync.Pool // *[]byte response and body buffers
}

// New returns an http.Handler serving app's REST API. Mount it under the
// API's path with http.StripPrefix ("/parse"), or directly at
// MountPath+"/": paths that still carry the mount path are stripped of it.
func New(app *parse.App, opts Options) http.Handler {
	cfg := app.Config()
	h := &handler{
		app:     app,
		cfg:     cfg,
		cors:    newCORS(opts),
		ctJSON:  []string{"application/json; charset=utf-8"},
		ctText:  []string{"text/plain; charset=utf-8"},
		ctHTML:  []string{"text/html; charset=utf-8"},
		cspNone: []string{"default-src 'none'"},
		nosniff: []string{"nosniff"},
		pages:   template.Must(template.New("page").Parse(pageTemplate)),
	}
	serverPath, publicPath := urlPath(cfg.ServerURL), urlPath(cfg.PublicServerURL)
	h.mount = cleanMount(opts.MountPath)
	if opts.MountPath == "" {
		h.mount = serverPath
	}
	for _, p := range []string{h.mount, serverPath, publicPath} {
		if !contains(h.prefixes, p) {
			h.prefixes = append(h.prefixes, p)
		}
	}
	// Longest first, so that "/parse/v2" wins over "/parse".
	for i := 1; i < len(h.prefixes); i++ {
		for j := i; j > 0 && len(h.prefixes[j]) > len(h.prefixes[j-1]); j-- {
			h.prefixes[j], h.prefixes[j-1] = h.prefixes[j-1], h.prefixes[j]
		}
	}
	return h
}

func urlPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return ""
	}
	return cleanMount(u.Path)
}

// cleanMount normalizes a mount path to "/x/y" form, "" for the root.
func cleanMount(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// ServeHTTP runs the reference server's middleware chain in its order:
// CORS and OPTIONS, /health, the files routes, body parsing, method
// override, keys and session, then the route.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer h.recoverPanic(w, r)
	h.cors.apply(w.Header(), r)
	if r.Method == http.MethodOptions {
		h.writeText(w, http.StatusOK, "OK")
		return
	}
	path := h.stripMount(r.URL.Path)
	if isHealth(path) {
		h.health(w)
		return
	}
	// The files routes take raw bodies and their own keys (files.go).
	if rt := h.fileRoute(r, path); rt.kind != fileNone {
		h.serveFile(w, r, rt)
		return
	}
	// The pages take forms and no keys: the app id is in the path.
	rt := match(r.Method, path)
	if rt.kind.isPage() {
		h.servePage(w, r, rt)
		return
	}

	in, err := h.readBody(r, rt.kind == routeEvent)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	method := r.Method
	if method == http.MethodPost {
		method = in.overrideMethod(method)
	}
	creds, err := h.credentials(r, &in)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if method != r.Method {
		rt = match(method, path)
	}
	token := creds.SessionToken
	lookupSelf := rt.kind == routeSessionMe || rt.kind == routeUserMe
	if rt.kind == routeLogin || lookupSelf {
		// As the reference: a session token sent to /login is dropped, and
		// GET /sessions/me and /users/me look their token up themselves
		// (for /users/me, in the one round trip that reads the user).
		creds.SessionToken = ""
	}
	auth, err := h.app.Authenticate(r.Context(), creds)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if lookupSelf {
		auth.SessionToken = token
	}

	if rt.kind == routeNone {
		h.notFound(w, r, method)
		return
	}
	c := call{route: rt, in: in, status: http.StatusOK}
	if rt.readsQuery() && r.URL.RawQuery != "" {
		c.query = queryParams(r.URL.RawQuery)
	} else if (rt.kind == routeFunction || rt.kind == routeJob || rt.kind == routeLogin || rt.kind == routeUserMeFiles) && r.URL.RawQuery != "" {
		c.query = formParams(r.URL.RawQuery)
	}
	ctx := parse.WithRequestInfo(parse.WithAuth(r.Context(), auth), requestInfo(r, in))

	bp := h.getBuf()
	defer h.putBuf(bp)
	out, err := h.serve(ctx, &c, (*bp)[:0])
	*bp = out
	if err != nil {
		if errors.Is(err, errUnrouted) {
			h.notFound(w, r, method)
			return
		}
		h.writeError(w, r, err)
		return
	}
	if c.location != "" {
		w.Header()["Location"] = []string{c.location}
	}
	for k, v := range c.header {
		w.Header()[k] = v
	}
	h.writeJSON(w, c.status, out)
}

// stripMount removes the mount path from a path that still carries it.
func (h *handler) stripMount(p string) string {
	m := h.mount
	if m != "" && strings.HasPrefix(p, m) && (len(p) == len(m) || p[len(m)] == '/') {
		return p[len(m):]
	}
	return p
}

// call is one API request, from HTTP or from a batch item: its route, its
// decoded input, and the status and Location its handler answers with.
type call struct {
	route route
	in    input
	query map[string]any // decoded query string (HTTP GET routes only)

	status   int
	location string
	header   http.Header // more response headers (a job's status id)
}

// serve runs a routed call, appending its JSON answer to b. It is the one
// dispatch HTTP requests and batch sub-requests share.
func (h *handler) serve(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if c.route.pushAudiences {
		return h.audiences(ctx, c, b)
	}
	switch c.route.kind {
	case routeFind:
		return h.find(ctx, c, b)
	case routeGet:
		return h.get(ctx, c, b)
	case routeCreate:
		return h.create(ctx, c, b)
	case routeUpdate:
		return h.update(ctx, c, b)
	case routeDelete:
		return h.delete(ctx, c, b)
	case routeBatch:
		return h.batch(ctx, c, b)
	case routeSchemas:
		return h.schemas(ctx, b)
	case routeSchema:
		return h.schema(ctx, c, b)
	case routeSchemaCreate:
		return h.schemaCreate(ctx, c, b)
	case routeSchemaUpdate:
		return h.schemaUpdate(ctx, c, b)
	case routeSchemaDelete:
		return h.schemaDelete(ctx, c, b)
	case routePurge:
		return h.purge(ctx, c, b)
	case routeFunction:
		return h.function(ctx, c, b)
	case routeJob:
		return h.job(ctx, c, b)
	case routeJobSchedules:
		return h.jobSchedules(ctx, b)
	case routeJobsData:
		return h.jobsData(ctx, b)
	case routeJobScheduleSave:
		return h.jobScheduleSave(ctx, c, b)
	case routeJobScheduleDelete:
		return h.jobScheduleDelete(ctx, c, b)
	case routeHooksList:
		return h.hooksList(ctx, c, b)
	case routeHookCreate:
		return h.hookCreate(ctx, c, b)
	case routeHookGet:
		return h.hookGet(ctx, c, b)
	case routeHookUpdate:
		return h.hookUpdate(ctx, c, b)
	case routePush:
		return h.push(ctx, c, b)
	case routeConfig:
		return h.getConfig(ctx, b)
	case routeConfigUpdate:
		return h.putConfig(ctx, c, b)
	case routeEvent:
		return h.event(ctx, c, b)
	case routeServerInfo:
		return h.serverInfo(ctx, b)
	case routeScriptLog:
		return h.scriptLog(ctx, c, b)
	case routeSignUp:
		return h.signUp(ctx, c, b)
	case routeUserUpdate:
		return h.userUpdate(ctx, c, b)
	case routeUserMe:
		return h.userMe(ctx, b)
	case routeLogin:
		return h.logIn(ctx, c, b)
	case routeLogout:
		return h.logOut(ctx, b)
	case routeSessionCreate:
		return h.sessionCreate(ctx, c, b)
	case routeSessionMe:
		return h.sessionMe(ctx, b)
	case routeSessionPair:
		return h.sessionPair(ctx, b)
	case routeRequestPasswordReset:
		return h.requestPasswordReset(ctx, c, b)
	case routeVerificationEmailRequest:
		return h.verificationEmailRequest(ctx, c, b)
	case routeUserMeFiles:
		return h.myFiles(ctx, c, b)
	}
	return b, errUnrouted
}

// writeJSON sends a JSON body. net/http computes the Content-Length of a
// small body itself, without the allocations of setting the header; a
// large one gets it explicitly rather than a chunked encoding.
func (h *handler) writeJSON(w http.ResponseWriter, status int, body []byte) {
	hd := w.Header()
	hd["Content-Type"] = h.ctJSON
	if len(body) >= 2048 {
		hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	w.Write(body)
}

func (h *handler) writeText(w http.ResponseWriter, status int, body string) {
	w.Header()["Content-Type"] = h.ctText
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func (h *handler) getBuf() *[]byte {
	if bp, ok := h.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 1024)
	return &b
}

// putBuf returns a buffer to the pool unless a large response grew it:
// keeping those would pin their memory for every later small response.
func (h *handler) putBuf(bp *[]byte) {
	if cap(*bp) <= 64<<10 {
		h.bufs.Put(bp)
	}
}

// routeKind names what a route does.
type routeKind uint8

const (
	routeNone routeKind = iota
	routeFind
	routeGet
	routeCreate
	routeUpdate
	routeDelete
	routeBatch
	routeSchemas
	routeSchema
	routeSchemaCreate
	routeSchemaUpdate
	routeSchemaDelete
	routePurge
	routeFunction
	routeSignUp        // POST /users, POST /classes/_User
	routeUserUpdate    // PUT /users/{id}, PUT /classes/_User/{id}
	routeUserMe        // GET /users/me
	routeLogin         // GET or POST /login
	routeLogout        // POST /logout
	routeSessionCreate // POST /sessions, POST /classes/_Session
	routeSessionMe     // GET /sessions/me
	routeSessionPair   // PUT /sessions/me

	routePush // POST /push

	routeRequestPasswordReset     // POST /requestPasswordReset
	routeVerificationEmailRequest // POST /verificationEmailRequest
	routeUserMeFiles              // GET /users/me/files (filelifecycle.go)

	routeJob // POST /jobs/{name} (name in class), POST /jobs
	// The job schedules (jobs.go): GET /cloud_code/jobs, GET
	// /cloud_code/jobs/data, POST /cloud_code/jobs and PUT
	// /cloud_code/jobs/{id} (the id in id), DELETE /cloud_code/jobs/{id}.
	routeJobSchedules
	routeJobsData
	routeJobScheduleSave
	routeJobScheduleDelete
	// The Hooks API (hooks.go). List and create: "functions" or "triggers"
	// in id. Get and update: a function's name in class, or a class and a
	// trigger name in class and id.
	routeHooksList
	routeHookCreate
	routeHookGet
	routeHookUpdate
	routeConfig       // GET /config
	routeConfigUpdate // PUT /config
	routeEvent        // POST /events/{name}
	routeServerInfo   // GET /serverInfo
	routeScriptLog    // GET /scriptlog

	// The pages of the mails' links (pages.go): served before the body is
	// read and the keys checked, never in a batch.
	routeVerifyEmailPage   // GET /apps/{appId}/verify_email
	routeResetPasswordPage // GET /apps/{appId}/request_password_reset
	routeResetPassword     // POST /apps/{appId}/request_password_reset
)

// isPage reports the routes of HTML pages.
func (k routeKind) isPage() bool { return k >= routeVerifyEmailPage }

// route is a matched request: what to do, on which class and object.
type route struct {
	kind  routeKind
	class string
	id    string
	// pushAudiences marks the object routes of /push_audiences, which
	// audiences.go answers for _Audience.
	pushAudiences bool
}

// readsQuery reports whether the route takes query-string parameters.
func (rt route) readsQuery() bool {
	switch rt.kind {
	case routeFind, routeGet, routeScriptLog:
		return true
	}
	return false
}

// objectRoute routes the object routes of class under a collection path:
// find and create on the collection (rest empty), get, update and delete
// on the object rest names.
func objectRoute(method, class string, rest []string) route {
	get := method == http.MethodGet || method == http.MethodHead
	switch {
	case len(rest) == 0 && get:
		return route{kind: routeFind, class: class}
	case len(rest) == 0 && method == http.MethodPost:
		return route{kind: routeCreate, class: class}
	case len(rest) == 1 && get:
		return route{kind: routeGet, class: class, id: rest[0]}
	case len(rest) == 1 && method == http.MethodPut:
		return route{kind: routeUpdate, class: class, id: rest[0]}
	case len(rest) == 1 && method == http.MethodDelete:
		return route{kind: routeDelete, class: class, id: rest[0]}
	}
	return route{}
}

// match routes a method and a mount-relative path. It works on strings,
// not on *http.Request, so that batch sub-requests route through it too.
// Like Express, it ignores empty segments (doubled and trailing slashes)
// and the letter case of the fixed segments.
func match(method, path string) route {
	var seg [4]string
	n := 0
	for path != "" {
		var s string
		s, path, _ = strings.Cut(strings.TrimLeft(path, "/"), "/")
		if s == "" {
			continue
		}
		if n == len(seg) {
			return route{}
		}
		seg[n] = s
		n++
	}
	if n == 0 {
		return route{}
	}
	get := method == http.MethodGet || method == http.MethodHead
	switch {
	case strings.EqualFold(seg[0], "classes"):
		switch {
		case n == 2 && method == http.MethodPost && seg[1] == parse.ClassUser:
			return route{kind: routeSignUp, class: seg[1]}
		case n == 2 && method == http.MethodPost && seg[1] == parse.ClassSession:
			return route{kind: routeSessionCreate, class: seg[1]}
		case n == 3 && method == http.MethodPut && seg[1] == parse.ClassUser:
			return route{kind: routeUserUpdate, class: seg[1], id: seg[2]}
		case n >= 2:
			return objectRoute(method, seg[1], seg[2:n])
		}
	case strings.EqualFold(seg[0], "users"):
		switch {
		case n == 1 && method == http.MethodPost:
			return route{kind: routeSignUp, class: parse.ClassUser}
		case n == 2 && get && strings.EqualFold(seg[1], "me"):
			return route{kind: routeUserMe, class: parse.ClassUser}
		case n == 3 && get && strings.EqualFold(seg[1], "me") && strings.EqualFold(seg[2], "files"):
			return route{kind: routeUserMeFiles}
		case n == 2 && method == http.MethodPut:
			return route{kind: routeUserUpdate, class: parse.ClassUser, id: seg[1]}
		default:
			return objectRoute(method, parse.ClassUser, seg[1:n])
		}
	case strings.EqualFold(seg[0], "login"):
		if n == 1 && (get || method == http.MethodPost) {
			return route{kind: routeLogin}
		}
	case strings.EqualFold(seg[0], "logout"):
		if n == 1 && method == http.MethodPost {
			return route{kind: routeLogout}
		}
	case strings.EqualFold(seg[0], "sessions"):
		switch {
		case n == 1 && method == http.MethodPost:
			return route{kind: routeSessionCreate, class: parse.ClassSession}
		case n == 2 && method == http.MethodGet && strings.EqualFold(seg[1], "me"):
			return route{kind: routeSessionMe, class: parse.ClassSession}
		case n == 2 && method == http.MethodPut && strings.EqualFold(seg[1], "me"):
			return route{kind: routeSessionPair, class: parse.ClassSession}
		default:
			return objectRoute(method, parse.ClassSession, seg[1:n])
		}
	case strings.EqualFold(seg[0], "roles"):
		return objectRoute(method, parse.ClassRole, seg[1:n])
	case strings.EqualFold(seg[0], "installations"):
		return objectRoute(method, parse.ClassInstallation, seg[1:n])
	case strings.EqualFold(seg[0], "push"):
		if n == 1 && method == http.MethodPost {
			return route{kind: routePush}
		}
	case strings.EqualFold(seg[0], "batch"):
		if n == 1 && method == http.MethodPost {
			return route{kind: routeBatch}
		}
	case strings.EqualFold(seg[0], "schemas"):
		switch {
		case n == 1 && get:
			return route{kind: routeSchemas}
		case n == 2 && get:
			return route{kind: routeSchema, class: seg[1]}
		case n <= 2 && method == http.MethodPost:
			return route{kind: routeSchemaCreate, class: seg[1]}
		case n == 2 && method == http.MethodPut:
			return route{kind: routeSchemaUpdate, class: seg[1]}
		case n == 2 && method == http.MethodDelete:
			return route{kind: routeSchemaDelete, class: seg[1]}
		}
	case strings.EqualFold(seg[0], "purge"):
		if n == 2 && method == http.MethodDelete {
			return route{kind: routePurge, class: seg[1]}
		}
	case strings.EqualFold(seg[0], "requestPasswordReset"):
		if n == 1 && method == http.MethodPost {
			return route{kind: routeRequestPasswordReset}
		}
	case strings.EqualFold(seg[0], "verificationEmailRequest"):
		if n == 1 && method == http.MethodPost {
			return route{kind: routeVerificationEmailRequest}
		}
	case strings.EqualFold(seg[0], "apps"):
		// The app id is in id.
		switch {
		case n == 3 && get && strings.EqualFold(seg[2], "verify_email"):
			return route{kind: routeVerifyEmailPage, id: seg[1]}
		case n == 3 && get && strings.EqualFold(seg[2], "request_password_reset"):
			return route{kind: routeResetPasswordPage, id: seg[1]}
		case n == 3 && method == http.MethodPost && strings.EqualFold(seg[2], "request_password_reset"):
			return route{kind: routeResetPassword, id: seg[1]}
		}
	case strings.EqualFold(seg[0], "jobs"):
		if n <= 2 && method == http.MethodPost {
			return route{kind: routeJob, class: seg[1]}
		}
	case strings.EqualFold(seg[0], "cloud_code") && n >= 2 && strings.EqualFold(seg[1], "jobs"):
		switch {
		case n == 2 && get:
			return route{kind: routeJobSchedules}
		case n == 2 && method == http.MethodPost:
			return route{kind: routeJobScheduleSave}
		case n == 3 && get && strings.EqualFold(seg[2], "data"):
			return route{kind: routeJobsData}
		case n == 3 && method == http.MethodPut:
			return route{kind: routeJobScheduleSave, id: seg[2]}
		case n == 3 && method == http.MethodDelete:
			return route{kind: routeJobScheduleDelete, id: seg[2]}
		}
	case strings.EqualFold(seg[0], "hooks") && n >= 2:
		fns, triggers := strings.EqualFold(seg[1], "functions"), strings.EqualFold(seg[1], "triggers")
		switch {
		case !fns && !triggers:
		case n == 2 && get:
			return route{kind: routeHooksList, id: strings.ToLower(seg[1])}
		case n == 2 && method == http.MethodPost:
			return route{kind: routeHookCreate, id: strings.ToLower(seg[1])}
		case fns && n == 3 && get, triggers && n == 4 && get:
			return route{kind: routeHookGet, class: seg[2], id: seg[3]}
		case fns && n == 3 && method == http.MethodPut, triggers && n == 4 && method == http.MethodPut:
			return route{kind: routeHookUpdate, class: seg[2], id: seg[3]}
		}
	case strings.EqualFold(seg[0], "config"):
		switch {
		case n == 1 && get:
			return route{kind: routeConfig}
		case n == 1 && method == http.MethodPut:
			return route{kind: routeConfigUpdate}
		}
	case strings.EqualFold(seg[0], "serverInfo"):
		if n == 1 && get {
			return route{kind: routeServerInfo}
		}
	case strings.EqualFold(seg[0], "scriptlog"):
		if n == 1 && get {
			return route{kind: routeScriptLog}
		}
	case strings.EqualFold(seg[0], "push_audiences"):
		rt := objectRoute(method, parse.ClassAudience, seg[1:n])
		rt.pushAudiences = rt.kind != routeNone
		return rt
	case strings.EqualFold(seg[0], "events"):
		// The event's name is in class.
		if n == 2 && method == http.MethodPost {
			return route{kind: routeEvent, class: seg[1]}
		}
	case strings.EqualFold(seg[0], "functions"):
		// The function's name is in class. Only POST: GET is not routed.
		if n == 2 && method == http.MethodPost {
			return route{kind: routeFunction, class: seg[1]}
		}
	}
	return route{}
}
