package parse

import (
	"context"
	"maps"
	"net/url"
	"time"
)

// MailAdapter sends the App's mails: email verification and password
// reset links. Package mail/smtp implements it over SMTP.
//
// The App sends in the background, as the reference does, so that a slow
// or failing mail server neither delays nor fails the request that caused
// the mail (and so that a reset request for a known address takes as long
// as one for an unknown address). Failures are logged.
type MailAdapter interface {
	SendMail(ctx context.Context, m Mail) error
}

// Mail is one plain-text message.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// UserMailer is implemented by a MailAdapter that writes the verification
// and reset mails itself (its own wording, HTML, templates). Without it the
// App sends the reference's default texts through SendMail.
type UserMailer interface {
	SendVerificationEmail(ctx context.Context, m VerificationMail) error
	SendPasswordResetEmail(ctx context.Context, m ResetMail) error
}

// VerificationMail is what a verification mail says: follow Link to verify
// the address To of User.
type VerificationMail struct {
	AppName string
	To      string
	Link    string
	// User is the user as the master key sees it (hidden fields aside).
	User *Object
}

// ResetMail is what a password reset mail says: follow Link to choose a
// new password for User.
type ResetMail struct {
	AppName string
	To      string
	Link    string
	User    *Object
}

// Default token lifetimes, used when the Config leaves them zero. The
// reference's tokens never expire unless configured; a reset link that
// works forever is a standing risk, so parsego's do.
const (
	DefaultEmailVerifyTokenValidity   = 24 * time.Hour
	DefaultPasswordResetTokenValidity = time.Hour
)

// mailTimeout bounds one background send, dial to QUIT.
const mailTimeout = time.Minute

// errMailNotConfigured is the reference's answer to a reset or
// verification request on an app that can't send mail.
func errMailNotConfigured() error {
	return NewError(InternalServerError, "An appName, publicServerURL, and emailAdapter are required for password reset and email verification functionality.")
}

// mailConfigured reports whether the App can send its mails: it needs an
// adapter, a name for the mails and a public URL for the links.
func (c *Config) mailConfigured() bool {
	return c.MailAdapter != nil && c.AppName != "" && c.PublicServerURL != ""
}

// sendVerificationMail mails a user the link that verifies its email.
func (a *App) sendVerificationMail(ctx context.Context, user *Object, token string) {
	user = mailUser(user)
	to, _ := user.Fields["email"].(string)
	m := VerificationMail{AppName: a.cfg.AppName, To: to, User: user, Link: a.pageLink("verify_email", token)}
	a.sendInBackground(ctx, "verification", func(ctx context.Context) error {
		if um, ok := a.cfg.MailAdapter.(UserMailer); ok {
			return um.SendVerificationEmail(ctx, m)
		}
		return a.cfg.MailAdapter.SendMail(ctx, Mail{
			To:      m.To,
			Subject: "Please verify your e-mail for " + m.AppName,
			Text: "Hi,\n\nYou are being asked to confirm the e-mail address " + m.To + " with " + m.AppName +
				"\n\nClick here to confirm it:\n" + m.Link,
		})
	})
}

// sendResetMail mails a user the link that lets it choose a new password.
// The mail goes to its email, or to its username when it has none (the
// reference's users may sign up with an address as username).
func (a *App) sendResetMail(ctx context.Context, user *Object, token string) {
	user = mailUser(user)
	username, _ := user.Fields["username"].(string)
	to, _ := user.Fields["email"].(string)
	if to == "" {
		to = username
	}
	m := ResetMail{AppName: a.cfg.AppName, To: to, User: user, Link: a.pageLink("request_password_reset", token)}
	a.sendInBackground(ctx, "password reset", func(ctx context.Context) error {
		if um, ok := a.cfg.MailAdapter.(UserMailer); ok {
			return um.SendPasswordResetEmail(ctx, m)
		}
		text := "Hi,\n\nYou requested to reset your password for " + m.AppName
		if username != "" {
			text += " (your username is '" + username + "')"
		}
		return a.cfg.MailAdapter.SendMail(ctx, Mail{
			To:      m.To,
			Subject: "Password Reset for " + m.AppName,
			Text:    text + ".\n\nClick here to reset it:\n" + m.Link,
		})
	})
}

// mailUser is a copy of a user for a mail sent in the background: the
// caller goes on changing its own (a session token is added to it), and
// neither the token nor authData goes into a mail.
func mailUser(u *Object) *Object {
	c := *u
	c.Fields = maps.Clone(u.Fields)
	for _, k := range [...]string{"sessionToken", "authData", "authDataResponse"} {
		delete(c.Fields, k)
	}
	return &c
}

// pageLink is the public URL of one of the pages httpapi serves for the
// mails' links: <PublicServerURL>/apps/<AppID>/<page>?token=<token>.
// Tokens are letters and digits; the app id is escaped.
func (a *App) pageLink(page, token string) string {
	return a.cfg.PublicServerURL + "/apps/" + url.PathEscape(a.cfg.AppID) + "/" + page + "?token=" + token
}

// sendInBackground runs send on its own goroutine, detached from the
// request's cancellation but bounded by mailTimeout. Close waits for it.
func (a *App) sendInBackground(ctx context.Context, kind string, send func(context.Context) error) {
	ctx = context.WithoutCancel(ctx)
	a.wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, mailTimeout)
		defer cancel()
		if err := send(ctx); err != nil {
			a.log.Error("sending a "+kind+" mail failed", "err", err)
		}
	})
}
