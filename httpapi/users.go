package httpapi

import (
	"context"
	"maps"
	"net/http"

	"github.com/parsego/parse"
)

// signUp answers POST /users (and POST /classes/_User): 201 with a
// Location and {"objectId","createdAt","sessionToken",...}; when authData
// names an existing user, that user is logged in instead: 200 with the
// whole user, and a Location too, as the reference.
func (h *handler) signUp(ctx context.Context, c *call, b []byte) ([]byte, error) {
	fields, err := writeFields(c.in)
	if err != nil {
		return b, err
	}
	if fields == nil {
		fields = map[string]any{}
	}
	if auth := parse.AuthFrom(ctx); auth.Master && auth.InstallationID == "" {
		// The reference's master key acts from the "cloud" installation
		// unless the request names one, and that gets no session: a
		// master-key sign-up answers no sessionToken.
		auth.InstallationID = "cloud"
		ctx = parse.WithAuth(ctx, auth)
	}
	u, created, err := h.app.Users.SignUpOrLogIn(ctx, fields)
	if err != nil {
		return b, err
	}
	c.location = h.location(parse.ClassUser, u.ID)
	if !created {
		return u.AppendJSON(b), nil
	}
	c.status = http.StatusCreated
	if _, sent := fields["emailVerified"]; !sent {
		// emailVerified false, set by the server, is left out of the
		// answer, as the reference leaves it.
		if v, ok := u.Fields["emailVerified"]; ok {
			fields["emailVerified"] = v
		}
	}
	// Sign-ups copy the fields they are given: triggers change the copy,
	// and a field a trigger added is echoed as any field not sent is.
	return appendSaved(b, fields, nil, u, true), nil
}

// userUpdate answers PUT /users/{id}: {"updatedAt",...}, plus the new
// sessionToken after a password change and the authDataResponse after an
// authData change.
func (h *handler) userUpdate(ctx context.Context, c *call, b []byte) ([]byte, error) {
	fields, err := writeFields(c.in)
	if err != nil {
		return b, err
	}
	if fields == nil {
		fields = map[string]any{}
	}
	sent := maps.Clone(fields)
	u, err := h.app.Users.Update(ctx, c.route.id, fields)
	if err != nil {
		return b, err
	}
	for _, m := range []map[string]any{sent, fields} {
		delete(m, "sessionToken")
		delete(m, "authDataResponse")
	}
	b = appendSaved(b, sent, fields, u, false)
	b = b[:len(b)-1] // reopen the object
	for _, k := range [...]string{"authDataResponse", "sessionToken"} {
		if v, ok := u.Fields[k]; ok {
			b = append(b, ',')
			b = parse.AppendJSON(b, k)
			b = append(b, ':')
			b = parse.AppendJSON(b, v)
		}
	}
	return append(b, '}'), nil
}

// userMe answers GET /users/me: the caller's user with its session token.
func (h *handler) userMe(ctx context.Context, b []byte) ([]byte, error) {
	u, err := h.app.Users.Me(ctx)
	if err != nil {
		return b, err
	}
	return u.AppendJSON(b), nil
}

// logIn answers GET and POST /login: the user with a new sessionToken. The
// credentials come from the body, or from the query string when the body
// lacks them, with the reference's checks in its order.
func (h *handler) logIn(ctx context.Context, c *call, b []byte) ([]byte, error) {
	payload := c.in.body
	q := c.query
	if !truthy(payload["username"]) && truthy(q["username"]) || !truthy(payload["email"]) && truthy(q["email"]) {
		payload = q
	}
	username, email, password := payload["username"], payload["email"], payload["password"]
	if !truthy(username) && !truthy(email) {
		return b, parse.NewError(parse.UsernameMissing, "username/email is required.")
	}
	if !truthy(password) {
		return b, parse.NewError(parse.PasswordMissing, "password is required.")
	}
	l := parse.Login{}
	var ok1, ok2, ok3 bool
	l.Password, ok1 = password.(string)
	l.Email, ok2 = email.(string)
	l.Username, ok3 = username.(string)
	if !ok1 || truthy(email) && !ok2 || truthy(username) && !ok3 {
		return b, parse.NewError(parse.ObjectNotFound, "Invalid username/password.")
	}
	u, err := h.app.Users.LogIn(ctx, l)
	if err != nil {
		return b, err
	}
	return u.AppendJSON(b), nil
}

// logOut answers POST /logout: {} after deleting the caller's session (a
// request without a session token logs nothing out).
func (h *handler) logOut(ctx context.Context, b []byte) ([]byte, error) {
	if err := h.app.Users.LogOut(ctx, parse.AuthFrom(ctx).SessionToken); err != nil {
		return b, err
	}
	return append(b, "{}"...), nil
}

// requestPasswordReset answers POST /requestPasswordReset {"email"}: {}
// whether or not a user has the address, so that the answer tells nobody
// which addresses have accounts.
func (h *handler) requestPasswordReset(ctx context.Context, c *call, b []byte) ([]byte, error) {
	email, err := h.mailRequestEmail(c)
	if err != nil {
		return b, err
	}
	if err := h.app.Users.RequestPasswordReset(ctx, email); err != nil {
		return b, err
	}
	return append(b, "{}"...), nil
}

// verificationEmailRequest answers POST /verificationEmailRequest
// {"email"}: {}, as the reference does by default for an unknown or
// verified address too.
func (h *handler) verificationEmailRequest(ctx context.Context, c *call, b []byte) ([]byte, error) {
	email, err := h.mailRequestEmail(c)
	if err != nil {
		return b, err
	}
	if err := h.app.Users.RequestVerificationEmail(ctx, email); err != nil {
		return b, err
	}
	return append(b, "{}"...), nil
}

// mailRequestEmail reads the email of a mail request with the reference's
// checks in its order: the mail configuration (500), then a missing email
// (204, which the App answers for ""), then one that isn't a string (125).
func (h *handler) mailRequestEmail(c *call) (string, error) {
	if err := h.app.Users.CheckMailConfig(); err != nil {
		return "", err
	}
	v := c.in.body["email"]
	if !truthy(v) {
		return "", nil
	}
	email, ok := v.(string)
	if !ok {
		return "", parse.NewError(parse.InvalidEmailAddress, "you must provide a valid email string")
	}
	return email, nil
}
