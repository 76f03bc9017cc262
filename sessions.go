package parse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/parsego/parse/storage"
)

// Sessions manages the _Session objects behind session tokens. A session
// belongs to one user; clients see and change only their own sessions (the
// query is rewritten to user == caller, as the reference does), the master
// key sees all of them.
//
// Sessions are stored with an empty ACL (master only), so that a read that
// bypassed the rewriting would find nothing rather than everything; the
// ACL is never shown.
type Sessions struct{ app *App }

// DefaultSessionLength is how long a session lasts unless
// Config.SessionLength says otherwise: a year, as the reference.
const DefaultSessionLength = 365 * 24 * time.Hour

// newSessionToken returns "r:" + 32 lowercase hex digits from crypto/rand,
// the reference's revocable session token format.
func newSessionToken() string {
	var b [16]byte
	rand.Read(b[:]) // never fails
	return "r:" + hex.EncodeToString(b[:])
}

// createdWith is a session's createdWith field: {action, authProvider}. An
// empty action leaves the field out (sessions made by a password change
// have none, as in the reference).
type createdWith struct{ action, provider string }

func (c createdWith) value() map[string]any {
	m := map[string]any{"action": c.action}
	if c.provider != "" {
		m["authProvider"] = c.provider
	}
	return m
}

// sessionSpec describes a session to create.
type sessionSpec struct {
	userID         string
	createdWith    createdWith
	installationID string
	expiresAt      time.Time      // zero: now + SessionLength
	extra          map[string]any // more fields (POST /sessions bodies)
	restricted     bool           // made by POST /sessions (Auth.Restricted)
}

// restrictedField is the hidden document field that marks a restricted
// session. Hidden, because the reference's sessions show no such field.
const restrictedField = "_restricted"

// newSession stores a session and returns it. A session carrying an
// installationId replaces the user's older sessions of that installation
// (the reference's destroyDuplicatedSessions).
func (a *App) newSession(ctx context.Context, spec sessionSpec) (*Object, error) {
	token := newSessionToken()
	now := time.Now().UTC().Truncate(time.Millisecond)
	exp := spec.expiresAt
	if exp.IsZero() {
		exp = now.Add(a.cfg.SessionLength)
	}
	fields := make(map[string]any, len(spec.extra)+5)
	for k, v := range spec.extra {
		fields[k] = v
	}
	fields["sessionToken"] = token
	fields["user"] = Pointer{ClassName: ClassUser, ObjectID: spec.userID}
	fields["expiresAt"] = exp
	if spec.createdWith.action != "" {
		fields["createdWith"] = spec.createdWith.value()
	}
	if spec.installationID != "" {
		fields["installationId"] = spec.installationID
	}
	w, err := a.prepareCreate(ctx, ClassSession, fields, now)
	if err != nil {
		return nil, err
	}
	w.stored.ReadPerm, w.stored.WritePerm = []string{}, []string{}
	if spec.restricted {
		w.stored.Data = withHiddenFields(w.stored.Data, map[string]any{restrictedField: true})
	}
	store := a.storeFor(ctx)
	if spec.installationID != "" {
		_, err := store.DeleteMany(ctx, ClassSession, storage.And{
			storage.Cmp{Field: "user", Op: storage.Eq, Value: userPointerJSON(spec.userID)},
			storage.Cmp{Field: "installationId", Op: storage.Eq, Value: spec.installationID},
		})
		if err != nil {
			return nil, a.storeError(err)
		}
		a.forgetUser(ctx, spec.userID)
	}
	if err := a.insert(ctx, ClassSession, []*write{w}, []storage.Object{w.stored}); err != nil {
		return nil, a.writeError(ClassSession, err)
	}
	return w.result(), nil
}

// userPointerJSON is a _User pointer in storage encoding, for conditions.
func userPointerJSON(id string) json.RawMessage {
	return appendStored(nil, Pointer{ClassName: ClassUser, ObjectID: id})
}

// ownSessions is the condition that restricts a client to its sessions.
func ownSessions(userID string) storage.Cond {
	return storage.Cmp{Field: "user", Op: storage.Eq, Value: userPointerJSON(userID)}
}

// errSessionRequired refuses a session write without a session.
func errSessionRequired() error {
	return NewError(InvalidSessionToken, "Session token required.")
}

// Query starts a query on _Session. Clients get their own sessions only.
func (s *Sessions) Query() *Query { return s.app.Query(ClassSession) }

// Get returns one session: 101 when it doesn't exist or isn't the caller's.
func (s *Sessions) Get(ctx context.Context, id string) (*Object, error) {
	return s.app.Query(ClassSession).Get(ctx, id)
}

// Me returns the session of the token the caller presented
// (AuthFrom(ctx).SessionToken); 209 without one or when it is unknown.
func (s *Sessions) Me(ctx context.Context) (*Object, error) {
	token := AuthFrom(ctx).SessionToken
	if token == "" {
		return nil, errSessionRequired()
	}
	a := s.app
	rows, err := a.storeFor(ctx).Find(ctx, ClassSession, storage.Query{
		Where: storage.Cmp{Field: "sessionToken", Op: storage.Eq, Value: token},
		Limit: 1,
	})
	if err != nil {
		return nil, a.storeError(err)
	}
	notFound := NewError(InvalidSessionToken, "Session token not found.")
	if len(rows) == 0 {
		return nil, notFound
	}
	o, err := a.decodeStored(ClassSession, rows[0])
	if err != nil {
		return nil, err
	}
	if _, ok := o.Fields["user"].(Pointer); !ok {
		return nil, notFound
	}
	o.ACL = nil
	return o, nil
}

// Create makes a new session for the caller, as POST /sessions does: a
// restricted session (createdWith {action: "create"}) carrying the extra
// fields given. The master key may create one for any user by giving
// "user" (a _User pointer), and may set expiresAt, createdWith and
// installationId. It returns the session; its sessionToken field holds the
// new token.
func (s *Sessions) Create(ctx context.Context, fields map[string]any) (*Object, error) {
	a := s.app
	auth := AuthFrom(ctx)
	if err := a.checkWritable(auth, ClassSession, "create"); err != nil {
		return nil, err
	}
	if auth.User == nil && !auth.Master {
		return nil, errSessionRequired()
	}
	if _, ok := fields["ACL"]; ok {
		return nil, NewError(InvalidKeyName, "Cannot set ACL on a Session.")
	}
	spec := sessionSpec{createdWith: createdWith{action: "create"}, extra: map[string]any{}, restricted: true}
	for k, v := range fields {
		v, err := normalize(v)
		if err != nil {
			return nil, err
		}
		switch k {
		case "objectId", "sessionToken":
			continue
		case "user", "expiresAt", "createdWith":
			if !auth.Master {
				continue
			}
		}
		spec.extra[k] = v
	}
	if auth.Master {
		// The reference stores a master-key session as given, without a
		// token; parsego makes it a working session of the user named.
		p, ok := spec.extra["user"].(Pointer)
		if !ok || p.ClassName != ClassUser || p.ObjectID == "" {
			return nil, NewError(MissingRequiredField, "user is required: a pointer to the _User the session is for")
		}
		spec.userID = p.ObjectID
		delete(spec.extra, "user")
		if exp, ok := spec.extra["expiresAt"].(time.Time); ok {
			spec.expiresAt = exp
			delete(spec.extra, "expiresAt")
		}
		if cw, ok := spec.extra["createdWith"].(map[string]any); ok {
			action, _ := cw["action"].(string)
			provider, _ := cw["authProvider"].(string)
			spec.createdWith = createdWith{action: action, provider: provider}
			delete(spec.extra, "createdWith")
		}
	} else {
		spec.userID = auth.User.ID
	}
	// An installationId given replaces the user's older sessions of that
	// installation, as the reference's does.
	if inst, ok := spec.extra["installationId"].(string); ok {
		spec.installationID = inst
		delete(spec.extra, "installationId")
	}
	return a.newSession(ctx, spec)
}

// PairInstallation pairs the caller's restricted session with the
// installation the caller presents (Auth.InstallationID), as PUT
// /sessions/me does for a device that was handed a session made for it
// (POST /sessions). It returns the session. 209 without a live session
// token; 119 for an unrestricted session (logins pair theirs); 135 without
// an installation id; 136 when the session is paired with another
// installation already: an installationId is set once.
func (s *Sessions) PairInstallation(ctx context.Context) (*Object, error) {
	a := s.app
	auth := AuthFrom(ctx)
	if auth.SessionToken == "" {
		return nil, errSessionRequired()
	}
	if auth.ReadOnly {
		return nil, a.checkWritable(auth, ClassSession, "update")
	}
	id, err := a.userForSession(ctx, auth.SessionToken)
	if err != nil {
		return nil, err
	}
	if !id.restricted {
		return nil, NewError(OperationForbidden, "Only a restricted session can be paired with an installation.")
	}
	if auth.InstallationID == "" {
		return nil, NewError(MissingRequiredField, "An installation id (X-Parse-Installation-Id) is required.")
	}
	mine := storage.And{
		storage.Cmp{Field: "sessionToken", Op: storage.Eq, Value: auth.SessionToken},
		ownSessions(id.user.ID),
	}
	rows, err := a.storeFor(ctx).Find(ctx, ClassSession, storage.Query{Where: mine, Limit: 1})
	if err != nil {
		return nil, a.storeError(err)
	}
	if len(rows) == 0 {
		return nil, NewError(InvalidSessionToken, "Invalid session token")
	}
	paired := NewError(ChangedImmutableField, "This session is paired with another installation already.")
	var o *Object
	switch storedString(rows[0], "installationId") {
	case auth.InstallationID:
		o, err = a.decodeStored(ClassSession, rows[0])
	case "":
		// The condition makes the first pairing win a race.
		where := storage.And{mine, storage.Exists{Field: "installationId"}}
		o, err = a.updateObject(ctx, ClassSession, rows[0].ID, map[string]any{"installationId": auth.InstallationID},
			writeOpts{anyWriter: true, where: where})
		if ErrorCode(err) == ObjectNotFound {
			return nil, paired
		}
		a.forgetToken(ctx, auth.SessionToken)
	default:
		return nil, paired
	}
	if err != nil {
		return nil, err
	}
	o.ACL = nil
	return o, nil
}

// Update changes a session's own fields. Clients may change their own
// sessions' custom fields; user, installationId, sessionToken, expiresAt,
// createdWith and the ACL are refused with 105 (the master key may set
// expiresAt and createdWith).
func (s *Sessions) Update(ctx context.Context, id string, fields map[string]any) (*Object, error) {
	a := s.app
	auth := AuthFrom(ctx)
	if err := a.checkWritable(auth, ClassSession, "update"); err != nil {
		return nil, err
	}
	if auth.User == nil && !auth.Master {
		return nil, errSessionRequired()
	}
	if _, ok := fields["ACL"]; ok {
		return nil, NewError(InvalidKeyName, "Cannot set ACL on a Session.")
	}
	if v, ok := fields["user"]; ok && !auth.Master {
		p, isPtr := v.(Pointer)
		if o, isObj := v.(*Object); isObj && o != nil {
			p, isPtr = o.Pointer(), true
		}
		if !isPtr || p.ObjectID != auth.User.ID {
			return nil, NewError(InvalidKeyName, "Invalid key name: user")
		}
	}
	for _, k := range [...]string{"installationId", "sessionToken", "expiresAt", "createdWith"} {
		if _, ok := fields[k]; ok && (k == "installationId" || k == "sessionToken" || !auth.Master) {
			return nil, NewError(InvalidKeyName, "Invalid key name: %s", k)
		}
	}
	opts := writeOpts{anyWriter: true}
	if !auth.Master {
		opts.where = ownSessions(auth.User.ID)
	}
	o, err := a.updateObject(ctx, ClassSession, id, fields, opts)
	if err != nil {
		return nil, err
	}
	if tok, ok := o.Fields["sessionToken"].(string); ok {
		a.forgetToken(ctx, tok)
	}
	o.ACL = nil
	return o, nil
}

// Delete removes a session, revoking its token: the caller's own, or any
// with the master key. 101 when there is no such session of the caller's.
func (s *Sessions) Delete(ctx context.Context, id string) error {
	a := s.app
	auth := AuthFrom(ctx)
	if err := a.checkWritable(auth, ClassSession, "delete"); err != nil {
		return err
	}
	if auth.User == nil && !auth.Master {
		return NewError(InvalidSessionToken, "Invalid session token")
	}
	where := storage.Cond(storage.Cmp{Field: "objectId", Op: storage.Eq, Value: id})
	if !auth.Master {
		where = storage.And{where, ownSessions(auth.User.ID)}
	}
	store := a.storeFor(ctx)
	rows, err := store.Find(ctx, ClassSession, storage.Query{Where: where, Limit: 1})
	if err != nil {
		return a.storeError(err)
	}
	notFound := NewError(ObjectNotFound, "Object not found for delete.")
	if len(rows) == 0 {
		return notFound
	}
	if err := store.Delete(ctx, ClassSession, id, nil, where); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return notFound
		}
		return a.storeError(err)
	}
	a.forgetToken(ctx, storedString(rows[0], "sessionToken"))
	return nil
}

// deleteToken removes the session of a token (a logout). It reports
// whether there was one.
func (a *App) deleteToken(ctx context.Context, token string) (bool, error) {
	a.forgetToken(ctx, token)
	n, err := a.storeFor(ctx).DeleteMany(ctx, ClassSession, storage.Cmp{Field: "sessionToken", Op: storage.Eq, Value: token})
	if err != nil {
		return false, a.storeError(err)
	}
	return n > 0, nil
}

// revokeUserSessions removes every session of a user.
func (a *App) revokeUserSessions(ctx context.Context, userID string) error {
	a.forgetUser(ctx, userID)
	_, err := a.storeFor(ctx).DeleteMany(ctx, ClassSession, ownSessions(userID))
	return a.storeError(err)
}

// restrictSessions rewrites a client's query on _Session to its own
// sessions. Sessions have an empty ACL, so the rewritten query skips the
// ACL check: the condition is the access control.
func (q *Query) restrictSessions(auth Auth) error {
	if auth.Master {
		return nil
	}
	if auth.User == nil {
		return NewError(InvalidSessionToken, "Invalid session token")
	}
	q.where = append(q.where, ownSessions(auth.User.ID))
	if auth.Restricted {
		// A restricted session sees only restricted sessions.
		q.where = append(q.where, storage.Cmp{Field: restrictedField, Op: storage.Eq, Value: true})
	}
	q.anyReader = true
	return nil
}

// storedString reads a top-level string field of a stored document
// without decoding the rest.
func storedString(o storage.Object, field string) string {
	var doc map[string]any
	if err := json.Unmarshal(o.Data, &doc); err != nil {
		return ""
	}
	s, _ := doc[field].(string)
	return s
}

// restrict applies the class-level permission of op (find, get or count;
// once per operation) and, once, the class rules to a query: a client's
// sessions are its own; clients can't query by fields protected from them,
// nor find installations.
func (q *Query) restrict(ctx context.Context, op string) error {
	if q.err != nil || slices.Contains(q.allowed, op) {
		return q.err
	}
	q.allowed = append(q.allowed, op)
	auth := AuthFrom(ctx)
	cond, err := q.app.classAccess(ctx, auth, q.class, op)
	if err == nil && cond != nil {
		q.where = append(q.where, cond)
	}
	if err != nil || q.restricted {
		return q.fail(err).err
	}
	q.restricted = true
	err = q.protect(ctx, auth)
	if err == nil {
		switch q.class {
		case ClassInstallation:
			if op == "find" && !auth.Master {
				err = NewError(OperationForbidden, "Permission denied")
			}
		case ClassSession:
			err = q.restrictSessions(auth)
		}
	}
	if err != nil {
		q.fail(err)
	}
	return err
}

// afterRead applies the class rules to objects read: sessions show no ACL;
// fields protected from the caller are dropped (a user sees all of its own
// _User object, as the reference's protectedFieldsOwnerExempt); users
// don't see other users' authData.
func (q *Query) afterRead(auth Auth, objs []*Object) {
	for _, o := range objs {
		if o == nil {
			continue
		}
		switch q.class {
		case ClassSession:
			o.ACL = nil
		case ClassJobStatus:
			// The reference writes job statuses beneath its REST layer,
			// without updatedAt.
			o.UpdatedAt = time.Time{}
		case ClassUser:
			if !auth.Master && o.ID != auth.UserID() {
				delete(o.Fields, "authData")
			}
			cleanAuthData(o)
			if o.ID == auth.UserID() {
				continue
			}
		}
		hidden := q.hidden
		if len(q.userHidden) > 0 {
			hidden = objectHidden(o, auth.UserID(), hidden, q.userHidden)
		}
		for _, f := range hidden {
			delete(o.Fields, f)
		}
	}
}

// addOwnSessionToken gives the caller's own user, read by id, the session
// token the caller presented, as the reference's GET /users/:id does.
func addOwnSessionToken(auth Auth, o *Object) {
	if o.ClassName == ClassUser && auth.User != nil && auth.SessionToken != "" && o.ID == auth.User.ID {
		o.Fields["sessionToken"] = auth.SessionToken
	}
}
