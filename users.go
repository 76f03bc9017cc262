package parse

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parsego/parse/storage"
)

// Users signs users up and in, and guards what the _User class reveals.
//
// A user's password is hashed with bcrypt (cost 10, as the reference, whose
// $2a$/$2b$/$2y$ hashes it verifies) into the hidden document field
// _hashed_password, which no answer ever carries. New users get the ACL
// {"<id>": read+write} (the reference's enforcePrivateUsers default). A
// client sees another user's email and authData never, and session tokens
// only its own.
//
// Methods act as the identity the context carries (WithAuth), the master
// key by default.
type Users struct{ app *App }

// hashedPasswordField is the hidden document field of a password's hash.
const hashedPasswordField = "_hashed_password"

// bcryptCost is the reference's cost factor.
const bcryptCost = 10

// dummyHash is compared against when a login names no user, so that an
// unknown username takes as long to refuse as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("parsego dummy password"), bcryptCost)
	return h
})

// hashPassword hashes a password. bcrypt reads at most 72 bytes; longer
// passwords are cut there, as the reference's bcrypt does.
func hashPassword(pw string) (string, error) {
	b := []byte(pw)
	if len(b) > 72 {
		b = b[:72]
	}
	h, err := bcrypt.GenerateFromPassword(b, bcryptCost)
	if err != nil {
		return "", &Error{Code: InternalServerError, Message: "An internal server error occurred", Err: err}
	}
	return string(h), nil
}

// passwordMatches compares a password with a stored hash.
func passwordMatches(hash, pw string) bool {
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// emailPattern is the reference's email check.
var emailPattern = regexp.MustCompile(`^.+@.+$`)

// SessionToken returns the session token an object carries: a user just
// signed up or logged in, or a session.
func (o *Object) SessionToken() string {
	s, _ := o.Fields["sessionToken"].(string)
	return s
}

// SignUp creates a user from fields, which must hold a username and a
// password (unless authData does), and logs it in: the user returned
// carries the new session's token (Object.SessionToken). With
// Config.VerifyUserEmails an email makes the user unverified and mails it
// a verification link; with PreventLoginWithUnverifiedEmail too, the user
// gets no session until verified. Errors: 200 missing username, 201
// missing password, 202 username taken, 203 email taken, 125 invalid
// email, 119 emailVerified set by a client.
func (s *Users) SignUp(ctx context.Context, fields map[string]any) (*Object, error) {
	u, _, err := s.SignUpOrLogIn(ctx, fields)
	return u, err
}

// SignUpOrLogIn is SignUp for fields that may identify an existing user
// by its authData: that user is then logged in rather than created, and
// created reports false. It is what POST /users does.
func (s *Users) SignUpOrLogIn(ctx context.Context, fields map[string]any) (user *Object, created bool, err error) {
	a := s.app
	auth := AuthFrom(ctx)
	if err := a.checkWritable(auth, ClassUser, "create"); err != nil {
		return nil, false, err
	}
	in := make(map[string]any, len(fields))
	for k, v := range fields {
		in[k] = v
	}
	delete(in, "sessionToken")
	delete(in, "authDataResponse")
	authData, hasAuthData, err := a.signUpAuthData(ctx, in)
	if err != nil {
		return nil, false, err
	}
	if hasAuthData {
		stored := make(map[string]any, len(authData))
		for k, v := range authData {
			stored[k] = v
		}
		in["authData"] = stored
	}
	username, _ := in["username"].(string)
	pwv, hasPassword := in["password"]
	password, pwIsString := pwv.(string)
	delete(in, "password")
	if !hasAuthData {
		if username == "" {
			return nil, false, NewError(UsernameMissing, "bad or missing username")
		}
		if password == "" {
			return nil, false, NewError(PasswordMissing, "password is required")
		}
	}
	if hasPassword && pwv != nil && !pwIsString {
		return nil, false, NewError(PasswordMissing, "password is required")
	}
	if hasAuthData {
		if u, err := a.logInWithAuthData(ctx, authData); u != nil || err != nil {
			return u, false, err
		}
	}
	if in, _, err = a.beforeSave(ctx, ClassUser, "", in); err != nil {
		return nil, false, err
	}
	// A sign-up creates a _User: the class-level permission applies (a
	// login through authData, above, creates nothing).
	if _, err := a.classAccess(ctx, auth, ClassUser, "create"); err != nil {
		return nil, false, err
	}
	if _, ok := in["emailVerified"]; ok && !auth.Master {
		return nil, false, NewError(OperationForbidden, "Clients aren't allowed to manually update email verification.")
	}
	if id, ok := in["objectId"].(string); ok && strings.HasPrefix(id, "role:") {
		return nil, false, NewError(OperationForbidden, "Invalid object ID.")
	}
	if in["username"] == nil {
		// authData sign-ups get a random username, as in the reference.
		in["username"] = randomString(25, idAlphabet)
	}
	// With verification on, a new address starts unverified and gets a
	// token, unless the master key said otherwise. As in the reference,
	// addresses that came with a third-party authData are trusted.
	var verifyToken string
	hidden := map[string]any{}
	if email, ok := in["email"].(string); ok && email != "" && a.cfg.VerifyUserEmails && !hasThirdPartyAuthData(authData) {
		if _, set := in["emailVerified"]; !set {
			in["emailVerified"] = false
			verifyToken = a.issueToken(hidden, verifyTokenField, verifyExpiresField, a.cfg.EmailVerifyTokenValidity)
		}
	}
	acl, err := userACL(in["ACL"])
	if err != nil {
		return nil, false, err
	}
	delete(in, "ACL")
	now := time.Now().UTC().Truncate(time.Millisecond)
	w, err := a.prepareCreate(ctx, ClassUser, in, now)
	if err != nil {
		return nil, false, err
	}
	email, _ := w.fields["email"].(string)
	if email != "" && !emailPattern.MatchString(email) {
		if a.usernameTaken(ctx, username, "") {
			return nil, false, errUsernameTaken()
		}
		return nil, false, NewError(InvalidEmailAddress, "Email address format is invalid.")
	}
	acl[w.id] = Permission{Read: true, Write: true}
	w.acl = acl
	w.stored.ReadPerm, w.stored.WritePerm = acl.perms()
	if pwIsString {
		hash, err := hashPassword(password)
		if err != nil {
			return nil, false, err
		}
		hidden[hashedPasswordField] = hash
	}
	w.stored.Data = withHiddenFields(w.stored.Data, hidden)
	if err := a.insert(ctx, ClassUser, []*write{w}, []storage.Object{w.stored}); err != nil {
		err = a.writeError(ClassUser, err)
		if ErrorCode(err) == EmailTaken && a.usernameTaken(ctx, username, "") {
			err = errUsernameTaken()
		}
		return nil, false, err
	}
	user = w.result()
	if verifyToken != "" {
		a.sendVerificationMail(ctx, user, verifyToken)
	}
	cw := createdWith{action: "signup", provider: "password"}
	if hasAuthData {
		cw.provider = authProviderNames(authData)
	}
	// An unverified user who may not log in gets no session from signing
	// up either (the reference's rule, for password sign-ups only).
	if hasAuthData || !a.mustVerifyBeforeLogin(user) {
		if err := a.attachSession(ctx, user, cw); err != nil {
			return nil, false, err
		}
	}
	if hasAuthData {
		user.Fields["authDataResponse"] = map[string]any{}
	}
	a.afterSave(ctx, ClassUser, user, nil)
	return user, true, nil
}

// attachSession creates a session for a user who just signed or logged in
// and puts its token in the user's fields. Cloud code's installation
// ("cloud") never gets sessions, as in the reference.
func (a *App) attachSession(ctx context.Context, user *Object, cw createdWith) error {
	auth := AuthFrom(ctx)
	if auth.InstallationID == "cloud" {
		return nil
	}
	sess, err := a.newSession(ctx, sessionSpec{userID: user.ID, createdWith: cw, installationID: auth.InstallationID})
	if err != nil {
		return err
	}
	user.Fields["sessionToken"] = sess.SessionToken()
	return nil
}

func errUsernameTaken() error {
	return NewError(UsernameTaken, "Account already exists for this username.")
}

// userACL is a new user's ACL: the one given (or none), with the user
// itself always allowed to read and write.
func userACL(v any) (ACL, error) {
	if v == nil {
		return ACL{}, nil
	}
	acl, err := toACL(v)
	if err != nil {
		return nil, err
	}
	out := make(ACL, len(acl)+1)
	for k, p := range acl {
		out[k] = p
	}
	return out, nil
}

// withHiddenFields adds internal fields (password hash, tokens) to a
// stored document.
func withHiddenFields(doc []byte, fields map[string]any) []byte {
	if len(fields) == 0 {
		return doc
	}
	out := make([]byte, 0, len(doc)+128*len(fields))
	out = append(out, '{')
	for i, k := range sortedKeys(fields) {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ':')
		out = appendStored(out, fields[k])
	}
	rest := doc[1:] // after '{'
	if len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
}

// usernameTaken reports whether another user has the username, letter case
// aside. It runs only on error paths, to order errors as the reference.
func (a *App) usernameTaken(ctx context.Context, username, exceptID string) bool {
	if username == "" {
		return false
	}
	where := storage.And{storage.Regex{Field: "username", Pattern: "^" + regexp.QuoteMeta(username) + "$", Options: "i"}}
	if exceptID != "" {
		where = append(where, storage.Cmp{Field: "objectId", Op: storage.Ne, Value: exceptID})
	}
	rows, err := a.storeFor(ctx).Find(ctx, ClassUser, storage.Query{Where: where, Limit: 1})
	return err == nil && len(rows) > 0
}

// Login is what a login presents: a username or an email (or both), and
// the password. A Username also matches a user's email, as the reference.
type Login struct {
	Username string
	Email    string
	Password string
}

// LogIn checks a username (or email) and password and opens a session: the
// user returned (as the user sees itself) carries its token. Errors: 200
// without username and email, 201 without password, 205 for an unverified
// email when Config.PreventLoginWithUnverifiedEmail applies, 101 "Invalid
// username/password." for every other failure.
func (s *Users) LogIn(ctx context.Context, l Login) (*Object, error) {
	a := s.app
	if l.Username == "" && l.Email == "" {
		return nil, NewError(UsernameMissing, "username/email is required.")
	}
	if l.Password == "" {
		return nil, NewError(PasswordMissing, "password is required.")
	}
	invalid := NewError(ObjectNotFound, "Invalid username/password.")
	var where storage.Cond
	switch {
	case l.Email != "" && l.Username != "":
		where = storage.And{
			storage.Cmp{Field: "email", Op: storage.Eq, Value: l.Email},
			storage.Cmp{Field: "username", Op: storage.Eq, Value: l.Username},
		}
	case l.Email != "":
		where = storage.Cmp{Field: "email", Op: storage.Eq, Value: l.Email}
	default:
		where = storage.Or{
			storage.Cmp{Field: "username", Op: storage.Eq, Value: l.Username},
			storage.Cmp{Field: "email", Op: storage.Eq, Value: l.Username},
		}
	}
	rows, err := a.storeFor(ctx).Find(ctx, ClassUser, storage.Query{Where: where, Limit: 2})
	if err != nil {
		return nil, a.storeError(err)
	}
	if len(rows) == 0 {
		passwordMatches("", l.Password)
		return nil, invalid
	}
	row := rows[0]
	if len(rows) > 1 {
		// One user's username is another's email: the username wins.
		for _, r := range rows {
			if storedString(r, "username") == l.Username {
				row = r
			}
		}
	}
	if !passwordMatches(storedString(row, hashedPasswordField), l.Password) {
		return nil, invalid
	}
	auth := AuthFrom(ctx)
	// A user whose ACL is empty is locked out (master key only).
	if !auth.Master && row.ReadPerm != nil && len(row.ReadPerm) == 0 && len(row.WritePerm) == 0 {
		return nil, invalid
	}
	user, err := a.decodeStored(ClassUser, row)
	if err != nil {
		return nil, err
	}
	if a.mustVerifyBeforeLogin(user) {
		return nil, NewError(EmailNotFound, "User email is not verified.")
	}
	if err := a.Triggers.run(ctx, TriggerBeforeLogin, ClassUser, &TriggerRequest{Object: user}); err != nil {
		return nil, err
	}
	if err := a.attachSession(ctx, user, createdWith{action: "login", provider: "password"}); err != nil {
		return nil, err
	}
	a.Triggers.runAfter(ctx, TriggerAfterLogin, ClassUser, &TriggerRequest{Object: user})
	return visibleToSelf(user, auth), nil
}

// visibleToSelf is a logged-in user as it sees itself: all of it, unless
// its ACL hides it from itself (then only its objectId and token).
func visibleToSelf(u *Object, auth Auth) *Object {
	if auth.Master || u.ACL == nil {
		return u
	}
	if u.ACL[PublicRead].Read || u.ACL[u.ID].Read {
		return u
	}
	return &Object{ClassName: ClassUser, ID: u.ID, Fields: map[string]any{"sessionToken": u.Fields["sessionToken"]}}
}

// LogOut ends the session of a token. A token that names no session is not
// an error.
func (s *Users) LogOut(ctx context.Context, sessionToken string) error {
	if sessionToken == "" {
		return nil
	}
	a := s.app
	var sessions []*Object
	if a.Triggers.exists(ctx, TriggerAfterLogout, ClassSession) {
		var err error
		sessions, err = a.storedObjects(ctx, ClassSession, storage.Query{
			Where: storage.Cmp{Field: "sessionToken", Op: storage.Eq, Value: sessionToken}, Limit: 1})
		if err != nil {
			return err
		}
	}
	deleted, err := a.deleteToken(ctx, sessionToken)
	if err != nil {
		return err
	}
	if deleted && len(sessions) == 1 {
		a.Triggers.runAfter(ctx, TriggerAfterLogout, ClassSession, &TriggerRequest{Object: sessions[0]})
	}
	return nil
}

// Me returns the user of the session token the caller presented, read
// afresh with its session (one round trip), with the token; 209 without a
// live session. As the reference's, it answers the user whatever the
// user's ACL says: the token is proof enough.
func (s *Users) Me(ctx context.Context) (*Object, error) {
	auth := AuthFrom(ctx)
	if auth.SessionToken == "" {
		return nil, NewError(InvalidSessionToken, "Invalid session token")
	}
	id, _, err := s.app.sessionUser(ctx, auth.SessionToken, time.Now())
	if err != nil {
		return nil, err
	}
	u := id.user
	cleanAuthData(u)
	u.Fields["sessionToken"] = auth.SessionToken
	return u, nil
}

// Become returns the user of a session token with the token, as Me does
// for a caller presenting it; 209 when the token is not a live session.
func (s *Users) Become(ctx context.Context, sessionToken string) (*Object, error) {
	auth := AuthFrom(ctx)
	auth.SessionToken = sessionToken
	return s.Me(WithAuth(ctx, auth))
}

// Get returns a user as the caller may see it; the caller's own user
// carries the caller's session token.
func (s *Users) Get(ctx context.Context, id string) (*Object, error) {
	return s.app.Query(ClassUser).Get(ctx, id)
}

// Query starts a query on _User.
func (s *Users) Query() *Query { return s.app.Query(ClassUser) }

// Update changes a user: only the user itself (or the master key) may. A
// new password is hashed and revokes every session of the user (unless
// AppSettings.RevokeSessionOnPasswordChange is off); a client
// changing its own password gets a new session, whose token the user
// returned carries. A new password or email voids a pending password
// reset link; with Config.VerifyUserEmails a new email is unverified and
// gets a verification mail. Errors: 206 without a session or on another
// user, 202 and 203 for a taken username or email, 125 for an invalid
// email, 119 for emailVerified set by a client.
func (s *Users) Update(ctx context.Context, id string, fields map[string]any) (*Object, error) {
	fields, orig, err := s.app.beforeSave(ctx, ClassUser, id, fields)
	if err != nil {
		return nil, err
	}
	u, err := s.update(ctx, id, fields, nil)
	if err != nil {
		return nil, err
	}
	s.app.afterSave(ctx, ClassUser, u, orig)
	return u, nil
}

// update is Update on the condition that the user matches where (nil:
// none); a user that doesn't is 101 (206 for a client).
func (s *Users) update(ctx context.Context, id string, fields map[string]any, where storage.Cond) (*Object, error) {
	a := s.app
	auth := AuthFrom(ctx)
	if err := a.checkWritable(auth, ClassUser, "update"); err != nil {
		return nil, err
	}
	if !auth.Master && auth.User == nil {
		return nil, NewError(SessionMissing, "Cannot modify user %s.", id)
	}
	in := make(map[string]any, len(fields))
	for k, v := range fields {
		in[k] = v
	}
	delete(in, "sessionToken")
	delete(in, "authDataResponse")
	_, authDataSent := in["authData"]
	if err := a.updateAuthData(ctx, id, in); err != nil {
		return nil, err
	}
	if _, ok := in["emailVerified"]; ok && !auth.Master {
		return nil, NewError(OperationForbidden, "Clients aren't allowed to manually update email verification.")
	}
	opts := writeOpts{hidden: map[string]any{}, where: where}
	pwv, changingPassword := in["password"]
	if changingPassword {
		pw, ok := pwv.(string)
		if !ok {
			return nil, NewError(IncorrectType, "schema mismatch for _User.password; expected String")
		}
		delete(in, "password")
		hash, err := hashPassword(pw)
		if err != nil {
			return nil, err
		}
		opts.hidden[hashedPasswordField] = hash
	}
	_, changingEmail := in["email"]
	if changingPassword || changingEmail {
		// A reset link mailed before is void: it was for the old password,
		// or went to the old address.
		opts.hidden[resetTokenField], opts.hidden[resetExpiresField] = nil, nil
	}
	var verifyToken string
	if email, ok := in["email"].(string); ok && email != "" && a.cfg.VerifyUserEmails {
		if _, set := in["emailVerified"]; !set {
			in["emailVerified"] = false
			verifyToken = a.issueToken(opts.hidden, verifyTokenField, verifyExpiresField, a.cfg.EmailVerifyTokenValidity)
		}
	}
	username, _ := in["username"].(string)
	if email, ok := in["email"].(string); ok && email != "" && !emailPattern.MatchString(email) {
		if a.usernameTaken(ctx, username, id) {
			return nil, errUsernameTaken()
		}
		return nil, NewError(InvalidEmailAddress, "Email address format is invalid.")
	}
	if v, ok := in["ACL"]; ok && v != nil && !auth.Master {
		// A client can't lock itself out of its own user.
		acl, err := userACL(v)
		if err != nil {
			return nil, err
		}
		acl[id] = Permission{Read: true, Write: true}
		in["ACL"] = acl
	}
	u, err := a.updateObject(ctx, ClassUser, id, in, opts)
	a.forgetUser(ctx, id)
	if err != nil {
		switch ErrorCode(err) {
		case ObjectNotFound:
			if !auth.Master {
				return nil, NewError(SessionMissing, "Insufficient auth.")
			}
		case EmailTaken:
			if a.usernameTaken(ctx, username, id) {
				return nil, errUsernameTaken()
			}
		}
		return nil, err
	}
	cleanAuthData(u)
	if verifyToken != "" {
		a.sendVerificationMail(ctx, u, verifyToken)
	}
	if authDataSent {
		u.Fields["authDataResponse"] = map[string]any{}
	}
	if changingPassword {
		settings, err := a.Settings(ctx)
		if err != nil {
			return nil, err
		}
		if !settings.RevokeSessionOnPasswordChange {
			return u, nil
		}
		if err := a.revokeUserSessions(ctx, id); err != nil {
			return nil, err
		}
		if !auth.Master {
			if err := a.attachSession(ctx, u, createdWith{}); err != nil {
				return nil, err
			}
		}
	}
	return u, nil
}

// Delete removes a user and its sessions: only the user itself (or the
// master key) may; 206 otherwise.
func (s *Users) Delete(ctx context.Context, id string) error {
	a := s.app
	auth := AuthFrom(ctx)
	if err := a.checkWritable(auth, ClassUser, "delete"); err != nil {
		return err
	}
	if !auth.Master && auth.User == nil {
		return NewError(SessionMissing, "Insufficient auth to delete user")
	}
	o, err := a.beforeDelete(ctx, ClassUser, id)
	if err != nil {
		return err
	}
	if err := a.storeFor(ctx).Delete(ctx, ClassUser, id, auth.writePerms(), nil); err != nil {
		err = a.writeError(ClassUser, err)
		if ErrorCode(err) == ObjectNotFound && !auth.Master {
			return NewError(SessionMissing, "Insufficient auth.")
		}
		return err
	}
	// The reference leaves a deleted user's sessions behind (they no
	// longer resolve); parsego removes them.
	if err := a.revokeUserSessions(ctx, id); err != nil {
		return err
	}
	a.afterDelete(ctx, ClassUser, o)
	return nil
}

// protect records the fields of the class protected from the caller
// (q.hidden) and refuses a query that constrains or sorts by one of them
// (119), as the reference does.
func (q *Query) protect(ctx context.Context, auth Auth) error {
	cp, err := q.app.schema.perms(ctx, q.class)
	if err != nil {
		return q.app.storeError(err)
	}
	q.hidden = cp.protectedFields(auth)
	if cp != nil && auth.User != nil && !auth.Master {
		q.userHidden = cp.userFields
	}
	if len(q.hidden) == 0 {
		return nil
	}
	uses := func(field string) bool {
		top, _, _ := strings.Cut(field, ".")
		return slices.Contains(q.hidden, top)
	}
	denied := func(field string) error {
		top, _, _ := strings.Cut(field, ".")
		return NewError(OperationForbidden, "This user is not allowed to query %s on class %s", top, q.class)
	}
	for _, s := range q.order {
		if uses(s.Field) {
			return denied(s.Field)
		}
	}
	for _, w := range q.raw {
		if f, ok := whereUses(w, uses); ok {
			return denied(f)
		}
	}
	return nil
}

// whereUses returns the first field of a REST where document matching
// pred, looking into $or, $and and $nor.
func whereUses(w map[string]any, pred func(string) bool) (string, bool) {
	for k, v := range w {
		switch k {
		case "$or", "$and", "$nor":
			list, _ := v.([]any)
			for _, e := range list {
				if m, ok := e.(map[string]any); ok {
					if f, ok := whereUses(m, pred); ok {
						return f, true
					}
				}
			}
		default:
			if pred(k) {
				return k, true
			}
		}
	}
	return "", false
}
