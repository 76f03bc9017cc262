package parse

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parsego/parse/storage"
)

// The hidden _User fields of the mailed tokens, named as the reference's,
// so that databases moved between the two keep working links.
const (
	verifyTokenField   = "_email_verify_token"
	verifyExpiresField = "_email_verify_token_expires_at"
	resetTokenField    = "_perishable_token"
	resetExpiresField  = "_perishable_token_expires_at"
)

// mailTokenLength is the reference's: 25 letters and digits, about 149
// bits from crypto/rand.
const mailTokenLength = 25

// issueToken makes a new mail token and puts it, with its expiry, into
// hidden under the given field names. It returns the token.
func (a *App) issueToken(hidden map[string]any, tokenField, expiresField string, validity time.Duration) string {
	token := randomString(mailTokenLength, idAlphabet)
	hidden[tokenField] = token
	hidden[expiresField] = time.Now().UTC().Add(validity).Truncate(time.Millisecond)
	return token
}

// wellFormedToken reports whether s could be a mail token: anything else
// is refused without asking the store.
func wellFormedToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// hasThirdPartyAuthData reports whether a sign-up's authData names a
// provider other than anonymous: such users' addresses are not verified,
// as in the reference.
func hasThirdPartyAuthData(data map[string]map[string]any) bool {
	for name := range data {
		if name != "anonymous" {
			return true
		}
	}
	return false
}

// mustVerifyBeforeLogin reports whether a user may not log in until its
// email is verified.
func (a *App) mustVerifyBeforeLogin(u *Object) bool {
	return a.cfg.VerifyUserEmails && a.cfg.PreventLoginWithUnverifiedEmail && u.Fields["emailVerified"] != true
}

// CheckMailConfig reports whether the App can mail verification and reset
// links: nil, or the error their requests are answered with (500, code
// 1), as the reference, when the Config lacks a MailAdapter, an AppName or
// a PublicServerURL.
func (s *Users) CheckMailConfig() error {
	if !s.app.cfg.mailConfigured() {
		return errMailNotConfigured()
	}
	return nil
}

// errEmailMissing is the reference's answer to a mail request without an
// address.
func errEmailMissing() error { return NewError(EmailMissing, "you must provide an email") }

// RequestPasswordReset mails a link to choose a new password to the user
// with the given email (or, lacking an email, that username), as POST
// /requestPasswordReset does. An address no user has is not an error, so
// that the answer doesn't tell which addresses have accounts. Each request
// issues a new link, voiding the one before; a link works once, for
// Config.PasswordResetTokenValidity. Errors: 500 without mail
// configuration, 204 without an email.
func (s *Users) RequestPasswordReset(ctx context.Context, email string) error {
	a := s.app
	if err := s.CheckMailConfig(); err != nil {
		return err
	}
	if email == "" {
		return errEmailMissing()
	}
	hidden := map[string]any{}
	token := a.issueToken(hidden, resetTokenField, resetExpiresField, a.cfg.PasswordResetTokenValidity)
	u, err := a.updateUserWhere(ctx, storage.Or{
		storage.Cmp{Field: "email", Op: storage.Eq, Value: email},
		storage.And{
			storage.Cmp{Field: "username", Op: storage.Eq, Value: email},
			storage.Exists{Field: "email", Exists: false},
		},
	}, nil, hidden)
	if err != nil || u == nil {
		return err
	}
	a.sendResetMail(ctx, u, token)
	return nil
}

// RequestVerificationEmail mails a new verification link to the user with
// the given email, voiding the one before, as POST
// /verificationEmailRequest does. As the reference (by default, its
// emailVerifySuccessOnInvalidEmail), an address no user has, or one
// already verified, is not an error and gets no mail; nor does any
// address unless Config.VerifyUserEmails is on. Errors: 500 without mail
// configuration, 204 without an email.
func (s *Users) RequestVerificationEmail(ctx context.Context, email string) error {
	a := s.app
	if err := s.CheckMailConfig(); err != nil {
		return err
	}
	if email == "" {
		return errEmailMissing()
	}
	if !a.cfg.VerifyUserEmails {
		return nil
	}
	hidden := map[string]any{}
	token := a.issueToken(hidden, verifyTokenField, verifyExpiresField, a.cfg.EmailVerifyTokenValidity)
	// One conditional update finds the user and checks it is unverified,
	// so a verification racing this request is not undone.
	u, err := a.updateUserWhere(ctx, storage.And{
		storage.Cmp{Field: "email", Op: storage.Eq, Value: email},
		storage.Cmp{Field: "emailVerified", Op: storage.Ne, Value: true},
	}, map[string]any{"emailVerified": false}, hidden)
	if err != nil || u == nil {
		return err
	}
	a.sendVerificationMail(ctx, u, token)
	return nil
}

// VerifyEmail verifies the email of the user a verification link was
// mailed to: emailVerified becomes true and the link stops working.
// Errors (code -1): a token that is unknown, used, voided by a newer link
// or expired, or verification being off.
func (s *Users) VerifyEmail(ctx context.Context, token string) error {
	a := s.app
	invalid := NewError(OtherCause, "Invalid verification link.")
	if !a.cfg.VerifyUserEmails {
		return invalid
	}
	row, err := a.userByToken(ctx, verifyTokenField, token)
	if err != nil {
		return err
	}
	if row == nil {
		return invalid
	}
	if expired(row, verifyExpiresField) {
		return NewError(OtherCause, "The verification link has expired.")
	}
	u, err := a.updateUserWhere(ctx, storage.And{
		storage.Cmp{Field: "objectId", Op: storage.Eq, Value: row.ID},
		storage.Cmp{Field: verifyTokenField, Op: storage.Eq, Value: token},
	}, map[string]any{"emailVerified": true}, map[string]any{verifyTokenField: nil, verifyExpiresField: nil})
	if err != nil {
		return err
	}
	if u == nil {
		return invalid // used meanwhile
	}
	return nil
}

// errInvalidResetLink and errExpiredResetLink carry the reference's
// messages, which its reset page shows.
func errInvalidResetLink() error {
	return NewError(OtherCause, "Failed to reset password: username / email / token is invalid")
}

func errExpiredResetLink() error {
	return NewError(OtherCause, "The password reset link has expired")
}

// CheckPasswordResetToken reports whether a password reset link still
// works, without using it: nil, or the error ResetPassword would answer
// (code -1).
func (s *Users) CheckPasswordResetToken(ctx context.Context, token string) error {
	_, err := s.app.resetTokenUser(ctx, token)
	return err
}

// ResetPassword sets a new password for the user a reset link was mailed
// to and voids the link. Like any password change it revokes the user's
// sessions. Errors: 201 for an empty password; -1 for a token that is
// unknown, used, voided (by a newer link, or a change of password or
// email) or expired.
func (s *Users) ResetPassword(ctx context.Context, token, password string) error {
	a := s.app
	if password == "" {
		return NewError(PasswordMissing, "password is required.")
	}
	row, err := a.resetTokenUser(ctx, token)
	if err != nil {
		return err
	}
	// The update clears the token (a password change does), on the
	// condition that the token is still there: of two concurrent uses,
	// one wins.
	_, err = s.update(WithAuth(ctx, masterAuth), row.ID, map[string]any{"password": password},
		storage.Cmp{Field: resetTokenField, Op: storage.Eq, Value: token})
	if ErrorCode(err) == ObjectNotFound {
		return errInvalidResetLink()
	}
	return err
}

// resetTokenUser returns the stored user a live reset token belongs to.
func (a *App) resetTokenUser(ctx context.Context, token string) (*storage.Object, error) {
	row, err := a.userByToken(ctx, resetTokenField, token)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, errInvalidResetLink()
	}
	if expired(row, resetExpiresField) {
		return nil, errExpiredResetLink()
	}
	return row, nil
}

// userByToken finds the stored user whose hidden field holds token; nil
// when none does. The equality query is answered by the class's GIN index.
func (a *App) userByToken(ctx context.Context, field, token string) (*storage.Object, error) {
	if !wellFormedToken(token) {
		return nil, nil
	}
	rows, err := a.storeFor(ctx).Find(ctx, ClassUser, storage.Query{
		Where: storage.Cmp{Field: field, Op: storage.Eq, Value: token},
		Limit: 1,
	})
	if err != nil {
		return nil, a.storeError(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// expired reports whether a stored user's token expiry (a Date in field)
// has passed. A token without one (set by the reference without
// emailVerifyTokenValidityDuration) doesn't expire.
func expired(row *storage.Object, field string) bool {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(row.Data, &doc); err != nil {
		return true
	}
	raw, ok := doc[field]
	if !ok || string(raw) == "null" {
		return false
	}
	var d struct {
		ISO string `json:"iso"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return true
	}
	t, err := ParseDate(d.ISO)
	return err != nil || !time.Now().Before(t)
}

// updateUserWhere sets fields and hidden fields on the one user matching
// where, as the master key, and returns it; nil when no user matches.
func (a *App) updateUserWhere(ctx context.Context, where storage.Cond, fields, hidden map[string]any) (*Object, error) {
	ctx = WithAuth(ctx, masterAuth)
	rows, err := a.storeFor(ctx).Find(ctx, ClassUser, storage.Query{Where: where, Limit: 1})
	if err != nil {
		return nil, a.storeError(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	id := rows[0].ID
	u, err := a.updateObject(ctx, ClassUser, id, fields, writeOpts{hidden: hidden, where: where})
	a.sessionCache.evictUser(id)
	if ErrorCode(err) == ObjectNotFound {
		return nil, nil
	}
	return u, err
}
