package parse

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"time"

	"github.com/parsego/parse/storage"
)

// Auth is who a call acts as: the master key, a user's session, or an
// anonymous client.
type Auth struct {
	// Master is set for the master key (and for the read-only master key,
	// together with ReadOnly).
	Master   bool
	ReadOnly bool
	// User is the session's user, nil without a session.
	User *Object
	// Roles are the names of the roles User belongs to, directly or
	// through child roles: Authenticate resolves them with the session.
	// Code that builds an Auth for a user itself gets them from
	// App.UserAuth.
	Roles []string
	// SessionToken is the token the caller presented, if any.
	SessionToken string
	// Restricted is set for a restricted session (one made with POST
	// /sessions rather than by a login or sign-up): it may not create,
	// change or delete _User, _Session or _Role objects, nor read
	// unrestricted sessions.
	Restricted bool
	// InstallationID is the client's X-Parse-Installation-Id.
	InstallationID string
	// ClientVersion is the client's X-Parse-Client-Version.
	ClientVersion string
}

// Master is the identity of trusted code.
var masterAuth = Auth{Master: true}

// UserID returns the session user's objectId, or "".
func (a Auth) UserID() string {
	if a.User == nil {
		return ""
	}
	return a.User.ID
}

// readPerms is the ACL identity the store checks reads against: nil for
// the master key (no check), else the public entry plus the user and its
// roles.
func (a Auth) readPerms() []string {
	if a.Master {
		return nil
	}
	if a.User == nil {
		return []string{PublicRead}
	}
	perms := make([]string, 0, 2+len(a.Roles))
	perms = append(perms, PublicRead, a.User.ID)
	for _, r := range a.Roles {
		perms = append(perms, rolePrefix+r)
	}
	return perms
}

// UserAuth returns the Auth of a client acting as user (without a session
// token), with the user's roles resolved.
func (a *App) UserAuth(ctx context.Context, user *Object) (Auth, error) {
	roles, err := a.userRoles(ctx, user.ID)
	if err != nil {
		return Auth{}, a.storeError(err)
	}
	return Auth{User: user, Roles: roles}, nil
}

type authKey struct{}

// WithAuth returns a context whose calls on the App act as a. Without it,
// calls act with the master key.
func WithAuth(ctx context.Context, a Auth) context.Context {
	return context.WithValue(ctx, authKey{}, a)
}

// AuthFrom returns the identity ctx carries: the master key when none.
func AuthFrom(ctx context.Context) Auth {
	if a, ok := ctx.Value(authKey{}).(Auth); ok {
		return a
	}
	return masterAuth
}

// Credentials are what a request presents to identify its application and
// caller. Empty fields were not presented.
type Credentials struct {
	AppID          string
	MasterKey      string
	RESTKey        string
	JavaScriptKey  string
	ClientKey      string
	DotNetKey      string
	SessionToken   string
	InstallationID string
	ClientVersion  string
}

// ErrUnauthorized refuses a request whose application id or keys don't
// match. It carries no Parse code: the REST API answers it with HTTP 403
// and {"error": "unauthorized"}.
var ErrUnauthorized = &Error{Message: "unauthorized"}

// ErrMasterKeyRequired refuses a call that needs the master key (the schema
// API, for one). Like ErrUnauthorized it has no Parse code: HTTP 403.
var ErrMasterKeyRequired = &Error{Message: "Permission denied"}

// Authenticate checks a request's keys and resolves its session token into
// the Auth its calls act as. Keys are compared in constant time. A wrong
// master key is ignored (the client keys decide), as the reference does.
func (a *App) Authenticate(ctx context.Context, c Credentials) (Auth, error) {
	if !keyEqual(c.AppID, a.cfg.AppID) {
		return Auth{}, ErrUnauthorized
	}
	auth := Auth{InstallationID: c.InstallationID, ClientVersion: c.ClientVersion}
	switch {
	case keyEqual(c.MasterKey, a.cfg.MasterKey):
		auth.Master = true
	case a.cfg.ReadOnlyMasterKey != "" && keyEqual(c.MasterKey, a.cfg.ReadOnlyMasterKey):
		auth.Master, auth.ReadOnly = true, true
	case a.needsClientKey():
		if !(keyEqual(c.RESTKey, a.cfg.RESTKey) || keyEqual(c.JavaScriptKey, a.cfg.JavaScriptKey) ||
			keyEqual(c.ClientKey, a.cfg.ClientKey) || keyEqual(c.DotNetKey, a.cfg.DotNetKey)) {
			return Auth{}, ErrUnauthorized
		}
	}
	// The master key acts as itself: the reference never resolves a session
	// beside it, so a stale token doesn't fail a master request. The token
	// is kept, unresolved: /logout and /users/me still act on it.
	if c.SessionToken != "" && auth.Master {
		auth.SessionToken = c.SessionToken
	}
	if c.SessionToken != "" && !auth.Master {
		id, err := a.userForSession(ctx, c.SessionToken)
		if err != nil {
			return Auth{}, err
		}
		auth.User, auth.Roles, auth.Restricted, auth.SessionToken = id.user, id.roles, id.restricted, c.SessionToken
	}
	return auth, nil
}

func (a *App) needsClientKey() bool {
	return a.cfg.RESTKey != "" || a.cfg.JavaScriptKey != "" || a.cfg.ClientKey != "" || a.cfg.DotNetKey != ""
}

// keyEqual compares a presented key with a configured one in constant time.
// An empty configured key matches nothing.
func keyEqual(presented, configured string) bool {
	if configured == "" || presented == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(presented), []byte(configured)) == 1
}

// sessionIdentity is what a session token stands for.
type sessionIdentity struct {
	user       *Object
	roles      []string // user's roles (userRoles)
	restricted bool     // the session's "restricted"
}

// userForSession resolves a live session token: from the session cache,
// else with sessionUser and the user's roles (userRoles).
func (a *App) userForSession(ctx context.Context, token string) (sessionIdentity, error) {
	now := time.Now()
	if id, ok := a.sessionCache.get(token, now); ok {
		return id, nil
	}
	id, expires, err := a.sessionUser(ctx, token, now)
	if err != nil {
		return sessionIdentity{}, err
	}
	if id.roles, err = a.userRoles(ctx, id.user.ID); err != nil {
		return sessionIdentity{}, a.storeError(err)
	}
	a.sessionCache.put(token, id, expires, now)
	return id, nil
}

// sessionUser reads the session of a token and its user, uncached, without
// roles: one round trip where the store can join (storage.Joiner), two
// where it can't. 209 unless the session is live at now. expires is the
// session's end (zero: none).
func (a *App) sessionUser(ctx context.Context, token string, now time.Time) (id sessionIdentity, expires time.Time, err error) {
	invalid := NewError(InvalidSessionToken, "Invalid session token")
	session, userRow, err := a.lookupSession(ctx, token)
	if errors.Is(err, storage.ErrNotFound) {
		return id, expires, invalid
	}
	if err != nil {
		return id, expires, a.storeError(err)
	}
	if userRow == nil {
		return id, expires, invalid
	}
	var doc struct {
		ExpiresAt *struct {
			ISO string `json:"iso"`
		} `json:"expiresAt"`
		Restricted bool `json:"_restricted"` // restrictedField
	}
	if err := json.Unmarshal(session.Data, &doc); err != nil {
		return id, expires, &Error{Code: InternalServerError, Message: "corrupt stored session", Err: err}
	}
	if doc.ExpiresAt != nil {
		if expires, err = ParseDate(doc.ExpiresAt.ISO); err != nil || !expires.After(now) {
			return id, expires, invalid
		}
	}
	id.restricted = doc.Restricted
	if id.user, err = a.decodeStored(ClassUser, *userRow); err != nil {
		return id, expires, err
	}
	return id, expires, nil
}

// lookupSession reads the session of a token and its user's row (nil when
// the user is gone).
func (a *App) lookupSession(ctx context.Context, token string) (storage.Object, *storage.Object, error) {
	store := a.storeFor(ctx)
	if j, ok := store.(storage.Joiner); ok {
		return j.FindJoined(ctx, storage.JoinLookup{
			Class: ClassSession, Field: "sessionToken", Value: token,
			Pointer: "user", TargetClass: ClassUser,
		})
	}
	rows, err := store.Find(ctx, ClassSession, storage.Query{
		Where: storage.Cmp{Field: "sessionToken", Op: storage.Eq, Value: token},
		Limit: 1,
	})
	if err != nil {
		return storage.Object{}, nil, err
	}
	if len(rows) == 0 {
		return storage.Object{}, nil, storage.ErrNotFound
	}
	var doc struct {
		User *struct {
			ObjectID string `json:"objectId"`
		} `json:"user"`
	}
	if err := json.Unmarshal(rows[0].Data, &doc); err != nil || doc.User == nil {
		return rows[0], nil, nil
	}
	u, err := store.Get(ctx, ClassUser, doc.User.ObjectID, nil)
	if errors.Is(err, storage.ErrNotFound) {
		return rows[0], nil, nil
	}
	if err != nil {
		return storage.Object{}, nil, err
	}
	return rows[0], &u, nil
}
