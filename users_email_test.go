package parse_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/teststore"
)

// mailbox is a MailAdapter that keeps what it is asked to send.
type mailbox struct{ ch chan parse.Mail }

func newMailbox() *mailbox { return &mailbox{ch: make(chan parse.Mail, 16)} }

func (m *mailbox) SendMail(_ context.Context, mail parse.Mail) error {
	m.ch <- mail
	return nil
}

// next waits for the next mail (they are sent in the background).
func (m *mailbox) next(t *testing.T) parse.Mail {
	t.Helper()
	select {
	case mail := <-m.ch:
		return mail
	case <-time.After(5 * time.Second):
		t.Fatal("no mail sent")
		return parse.Mail{}
	}
}

// none fails if a mail is sent within a moment.
func (m *mailbox) none(t *testing.T) {
	t.Helper()
	select {
	case mail := <-m.ch:
		t.Fatalf("unexpected mail to %s: %q", mail.To, mail.Subject)
	case <-time.After(100 * time.Millisecond):
	}
}

var linkPattern = regexp.MustCompile(`^http://example\.test/parse/apps/APP/(verify_email|request_password_reset)\?token=([A-Za-z0-9]{25})$`)

// linkToken returns the token of the link a mail's text ends with, after
// checking the link leads to page.
func linkToken(t *testing.T, mail parse.Mail, page string) string {
	t.Helper()
	lines := strings.Split(mail.Text, "\n")
	m := linkPattern.FindStringSubmatch(lines[len(lines)-1])
	if m == nil || m[1] != page {
		t.Fatalf("mail text doesn't end with a %s link:\n%s", page, mail.Text)
	}
	return m[2]
}

// mailApp is an App that mails through a mailbox.
func mailApp(t *testing.T, cfg parse.Config) (*parse.App, *mailbox, func(id string) map[string]any) {
	t.Helper()
	box := newMailbox()
	cfg.AppName, cfg.MailAdapter = "My App", box
	app, store := newUserApp(t, cfg)
	return app, box, func(id string) map[string]any { return storedDoc(t, store, parse.ClassUser, id) }
}

// wantExpiry checks a stored Date lies validity from now.
func wantExpiry(t *testing.T, v any, validity time.Duration) {
	t.Helper()
	d, _ := v.(map[string]any)
	iso, _ := d["iso"].(string)
	exp, err := parse.ParseDate(iso)
	if d["__type"] != "Date" || err != nil {
		t.Fatalf("expiry %v", v)
	}
	if diff := time.Until(exp) - validity; diff > 0 || diff < -time.Minute {
		t.Fatalf("expires at %v, %v from now, want %v", exp, time.Until(exp), validity)
	}
}

func TestEmailVerification(t *testing.T) {
	t.Parallel()
	app, box, doc := mailApp(t, parse.Config{VerifyUserEmails: true})
	ctx := context.Background()

	// Sign-up: unverified, a token in hidden fields, a mail with its link.
	u := signUp(t, app, map[string]any{"username": "ann", "password": "pw", "email": "ann@example.com"})
	if u.Fields["emailVerified"] != false || !tokenPattern.MatchString(u.SessionToken()) {
		t.Fatalf("signed up %v", u.Fields)
	}
	mail := box.next(t)
	if mail.To != "ann@example.com" || mail.Subject != "Please verify your e-mail for My App" ||
		!strings.HasPrefix(mail.Text, "Hi,\n\nYou are being asked to confirm the e-mail address ann@example.com with My App\n\nClick here to confirm it:\nhttp://") {
		t.Fatalf("mail %+v", mail)
	}
	token := linkToken(t, mail, "verify_email")
	d := doc(u.ID)
	if d["_email_verify_token"] != token || d["emailVerified"] != false {
		t.Fatalf("stored %v, mailed token %s", d, token)
	}
	wantExpiry(t, d["_email_verify_token_expires_at"], parse.DefaultEmailVerifyTokenValidity)
	got, err := app.Users.Get(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for k := range got.Fields {
		if strings.HasPrefix(k, "_") {
			t.Fatalf("a read shows %s", k)
		}
	}

	// Clients can't verify themselves.
	self := client(t, app, u.SessionToken())
	_, err = app.Users.Update(self, u.ID, map[string]any{"emailVerified": true})
	wantCode(t, err, parse.OperationForbidden)

	// Malformed and unknown tokens verify nothing.
	for _, bad := range []string{"", "nope", strings.Repeat("a", 25), token + "x", token[:24], "' OR 1=1 --", strings.Repeat("b", 500)} {
		err := app.Users.VerifyEmail(ctx, bad)
		wantCode(t, err, parse.OtherCause)
	}
	if err := app.Users.VerifyEmail(ctx, token); err != nil {
		t.Fatalf("verify: %v", err)
	}
	d = doc(u.ID)
	if d["emailVerified"] != true || d["_email_verify_token"] != nil || d["_email_verify_token_expires_at"] != nil {
		t.Fatalf("after verifying: %v", d)
	}
	// A link works once.
	wantCode(t, app.Users.VerifyEmail(ctx, token), parse.OtherCause)

	// Asking again for a verified address sends nothing, as for an
	// unknown one.
	for _, email := range []string{"ann@example.com", "nobody@example.com"} {
		if err := app.Users.RequestVerificationEmail(client(t, app, ""), email); err != nil {
			t.Fatal(err)
		}
	}
	box.none(t)
	wantCode(t, app.Users.RequestVerificationEmail(ctx, ""), parse.EmailMissing)

	// A new address is unverified again, and mailed a new link; a link
	// asked for again voids the one before.
	got, err = app.Users.Update(self, u.ID, map[string]any{"email": "ann@example.org"})
	if err != nil || got.Fields["emailVerified"] != false {
		t.Fatalf("email change: %v %v", err, got)
	}
	mail = box.next(t)
	first := linkToken(t, mail, "verify_email")
	if mail.To != "ann@example.org" || first == token {
		t.Fatalf("mail %+v", mail)
	}
	if err := app.Users.RequestVerificationEmail(ctx, "ann@example.org"); err != nil {
		t.Fatal(err)
	}
	second := linkToken(t, box.next(t), "verify_email")
	wantCode(t, app.Users.VerifyEmail(ctx, first), parse.OtherCause)
	if err := app.Users.VerifyEmail(ctx, second); err != nil {
		t.Fatal(err)
	}
	if d := doc(u.ID); d["emailVerified"] != true {
		t.Fatalf("after verifying the new address: %v", d)
	}

	// Users without an email, and the master key's verified users, get
	// no mail.
	signUp(t, app, map[string]any{"username": "noemail", "password": "pw"})
	m, err := app.Users.SignUp(ctx, map[string]any{"username": "vip", "password": "pw", "email": "vip@example.com", "emailVerified": true})
	if err != nil || m.Fields["emailVerified"] != true {
		t.Fatalf("master sign-up: %v %v", err, m)
	}
	box.none(t)
	if d := doc(m.ID); d["_email_verify_token"] != nil {
		t.Fatalf("a verified user got a token: %v", d)
	}
}

func TestEmailVerificationExpires(t *testing.T) {
	t.Parallel()
	app, box, doc := mailApp(t, parse.Config{VerifyUserEmails: true, EmailVerifyTokenValidity: time.Millisecond})
	u := signUp(t, app, map[string]any{"username": "late", "password": "pw", "email": "late@example.com"})
	token := linkToken(t, box.next(t), "verify_email")
	time.Sleep(5 * time.Millisecond)
	err := app.Users.VerifyEmail(context.Background(), token)
	wantCode(t, err, parse.OtherCause)
	if err.Error() != "parse error -1: The verification link has expired." || doc(u.ID)["emailVerified"] != false {
		t.Fatalf("expired link: %v, %v", err, doc(u.ID))
	}
}

func TestEmailVerificationOff(t *testing.T) {
	t.Parallel()
	app, box, doc := mailApp(t, parse.Config{})
	ctx := context.Background()
	u := signUp(t, app, map[string]any{"username": "bob", "password": "pw", "email": "bob@example.com"})
	if _, ok := u.Fields["emailVerified"]; ok {
		t.Fatalf("emailVerified without verification: %v", u.Fields)
	}
	if err := app.Users.RequestVerificationEmail(ctx, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	box.none(t)
	if d := doc(u.ID); d["_email_verify_token"] != nil || d["emailVerified"] != nil {
		t.Fatalf("stored %v", d)
	}
	wantCode(t, app.Users.VerifyEmail(ctx, strings.Repeat("a", 25)), parse.OtherCause)
	// Password sign-ups and logins of unverified users still work: the
	// prevention needs verification on.
	if _, err := app.Users.LogIn(ctx, parse.Login{Username: "bob", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
}

func TestPreventLoginWithUnverifiedEmail(t *testing.T) {
	t.Parallel()
	app, box, _ := mailApp(t, parse.Config{VerifyUserEmails: true, PreventLoginWithUnverifiedEmail: true})
	ctx := context.Background()
	u := signUp(t, app, map[string]any{"username": "carl", "password": "pw", "email": "carl@example.com"})
	if u.SessionToken() != "" {
		t.Fatalf("an unverified sign-up got a session: %v", u.Fields)
	}
	token := linkToken(t, box.next(t), "verify_email")
	_, err := app.Users.LogIn(ctx, parse.Login{Username: "carl", Password: "pw"})
	wantCode(t, err, parse.EmailNotFound)
	if err.Error() != "parse error 205: User email is not verified." {
		t.Fatal(err)
	}
	// A wrong password is still just wrong.
	_, err = app.Users.LogIn(ctx, parse.Login{Username: "carl", Password: "nope"})
	wantCode(t, err, parse.ObjectNotFound)
	if err := app.Users.VerifyEmail(ctx, token); err != nil {
		t.Fatal(err)
	}
	got, err := app.Users.LogIn(ctx, parse.Login{Username: "carl", Password: "pw"})
	if err != nil || !tokenPattern.MatchString(got.SessionToken()) || got.Fields["emailVerified"] != true {
		t.Fatalf("login after verifying: %v %v", err, got)
	}
}

func TestNewNeedsMailConfig(t *testing.T) {
	t.Parallel()
	store := teststore.New(t)
	for _, cfg := range []parse.Config{
		{VerifyUserEmails: true, AppName: "x", ServerURL: "http://h/parse"},
		{VerifyUserEmails: true, MailAdapter: newMailbox(), ServerURL: "http://h/parse"},
		{VerifyUserEmails: true, MailAdapter: newMailbox(), AppName: "x"},
	} {
		cfg.AppID, cfg.MasterKey, cfg.Store = "APP", "MASTER", store
		if app, err := parse.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "VerifyUserEmails needs") {
			if app != nil {
				app.Close()
			}
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	app, box, doc := mailApp(t, parse.Config{})
	ctx := context.Background()
	anon := client(t, app, "")
	u := signUp(t, app, map[string]any{"username": "dora", "password": "old", "email": "dora@example.com"})
	second, err := app.Users.LogIn(ctx, parse.Login{Username: "dora", Password: "old"})
	if err != nil {
		t.Fatal(err)
	}

	// Unknown addresses answer as known ones do, and get no mail.
	if err := app.Users.RequestPasswordReset(anon, "nobody@example.com"); err != nil {
		t.Fatal(err)
	}
	box.none(t)
	wantCode(t, app.Users.RequestPasswordReset(anon, ""), parse.EmailMissing)

	if err := app.Users.RequestPasswordReset(anon, "dora@example.com"); err != nil {
		t.Fatal(err)
	}
	mail := box.next(t)
	want := "Hi,\n\nYou requested to reset your password for My App (your username is 'dora').\n\nClick here to reset it:\nhttp://example.test/parse/apps/APP/request_password_reset?token="
	if mail.To != "dora@example.com" || mail.Subject != "Password Reset for My App" || !strings.HasPrefix(mail.Text, want) {
		t.Fatalf("mail %+v", mail)
	}
	first := linkToken(t, mail, "request_password_reset")
	d := doc(u.ID)
	if d["_perishable_token"] != first {
		t.Fatalf("stored %v, mailed %s", d, first)
	}
	wantExpiry(t, d["_perishable_token_expires_at"], parse.DefaultPasswordResetTokenValidity)

	// A new request voids the link before.
	if err := app.Users.RequestPasswordReset(anon, "dora@example.com"); err != nil {
		t.Fatal(err)
	}
	token := linkToken(t, box.next(t), "request_password_reset")
	if token == first {
		t.Fatal("the same token twice")
	}
	for _, bad := range []string{first, "", "nope", strings.Repeat("z", 25), token + "0", "' OR 1=1 --"} {
		wantCode(t, app.Users.CheckPasswordResetToken(anon, bad), parse.OtherCause)
		err := app.Users.ResetPassword(anon, bad, "new")
		wantCode(t, err, parse.OtherCause)
		if err.Error() != "parse error -1: Failed to reset password: username / email / token is invalid" {
			t.Fatal(err)
		}
	}
	if err := app.Users.CheckPasswordResetToken(anon, token); err != nil {
		t.Fatalf("check: %v", err)
	}
	wantCode(t, app.Users.ResetPassword(anon, token, ""), parse.PasswordMissing)

	if err := app.Users.ResetPassword(anon, token, "new"); err != nil {
		t.Fatalf("reset: %v", err)
	}
	d = doc(u.ID)
	if d["_perishable_token"] != nil || d["_perishable_token_expires_at"] != nil {
		t.Fatalf("the token outlived its use: %v", d)
	}
	// The reset revoked every session, as a password change does.
	for _, tok := range []string{u.SessionToken(), second.SessionToken()} {
		_, err := app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: tok})
		wantCode(t, err, parse.InvalidSessionToken)
	}
	_, err = app.Users.LogIn(ctx, parse.Login{Username: "dora", Password: "old"})
	wantCode(t, err, parse.ObjectNotFound)
	if _, err := app.Users.LogIn(ctx, parse.Login{Username: "dora", Password: "new"}); err != nil {
		t.Fatal(err)
	}
	// A link works once.
	wantCode(t, app.Users.ResetPassword(anon, token, "again"), parse.OtherCause)
}

func TestPasswordResetVoided(t *testing.T) {
	t.Parallel()
	app, box, _ := mailApp(t, parse.Config{})
	anon := client(t, app, "")
	u := signUp(t, app, map[string]any{"username": "eve", "password": "pw", "email": "eve@example.com"})
	self := client(t, app, u.SessionToken())
	for _, change := range []map[string]any{
		{"password": "changed"},
		{"email": "eve@example.org"},
	} {
		if err := app.Users.RequestPasswordReset(anon, "eve@example.com"); err != nil {
			t.Fatal(err)
		}
		token := linkToken(t, box.next(t), "request_password_reset")
		// A field that is neither keeps the link.
		if _, err := app.Users.Update(context.Background(), u.ID, map[string]any{"phone": "555"}); err != nil {
			t.Fatal(err)
		}
		if err := app.Users.CheckPasswordResetToken(anon, token); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Users.Update(self, u.ID, change); err != nil {
			t.Fatal(err)
		}
		if change["password"] != nil {
			// The password change revoked the user's session.
			l, err := app.Users.LogIn(context.Background(), parse.Login{Username: "eve", Password: "changed"})
			if err != nil {
				t.Fatal(err)
			}
			self = client(t, app, l.SessionToken())
		}
		wantCode(t, app.Users.ResetPassword(anon, token, "hijack"), parse.OtherCause)
	}
}

func TestPasswordResetExpires(t *testing.T) {
	t.Parallel()
	app, box, _ := mailApp(t, parse.Config{PasswordResetTokenValidity: time.Millisecond})
	signUp(t, app, map[string]any{"username": "fay", "password": "pw", "email": "fay@example.com"})
	anon := client(t, app, "")
	if err := app.Users.RequestPasswordReset(anon, "fay@example.com"); err != nil {
		t.Fatal(err)
	}
	token := linkToken(t, box.next(t), "request_password_reset")
	time.Sleep(5 * time.Millisecond)
	for _, err := range []error{app.Users.CheckPasswordResetToken(anon, token), app.Users.ResetPassword(anon, token, "new")} {
		wantCode(t, err, parse.OtherCause)
		if err.Error() != "parse error -1: The password reset link has expired" {
			t.Fatal(err)
		}
	}
	if _, err := app.Users.LogIn(context.Background(), parse.Login{Username: "fay", Password: "pw"}); err != nil {
		t.Fatalf("the old password stopped working: %v", err)
	}
}

func TestPasswordResetUsernameAsEmail(t *testing.T) {
	t.Parallel()
	app, box, _ := mailApp(t, parse.Config{})
	signUp(t, app, map[string]any{"username": "gus@example.com", "password": "pw"})
	signUp(t, app, map[string]any{"username": "hal@example.com", "password": "pw", "email": "other@example.com"})
	if err := app.Users.RequestPasswordReset(context.Background(), "gus@example.com"); err != nil {
		t.Fatal(err)
	}
	if mail := box.next(t); mail.To != "gus@example.com" || !strings.Contains(mail.Text, "(your username is 'gus@example.com')") {
		t.Fatalf("mail %+v", mail)
	}
	// A username is only the address of a user without an email.
	if err := app.Users.RequestPasswordReset(context.Background(), "hal@example.com"); err != nil {
		t.Fatal(err)
	}
	box.none(t)
}

func TestPasswordResetSingleUseUnderRace(t *testing.T) {
	t.Parallel()
	app, box, _ := mailApp(t, parse.Config{})
	signUp(t, app, map[string]any{"username": "ivy", "password": "pw", "email": "ivy@example.com"})
	if err := app.Users.RequestPasswordReset(context.Background(), "ivy@example.com"); err != nil {
		t.Fatal(err)
	}
	token := linkToken(t, box.next(t), "request_password_reset")
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = app.Users.ResetPassword(context.Background(), token, "new"+string(rune('a'+i))) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantCode(t, err, parse.OtherCause)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent uses of one link succeeded: %v", ok, n, errs)
	}
}

func TestMailNotConfigured(t *testing.T) {
	t.Parallel()
	app, _ := newUserApp(t, parse.Config{})
	for _, err := range []error{
		app.Users.RequestPasswordReset(context.Background(), "a@example.com"),
		app.Users.RequestVerificationEmail(context.Background(), "a@example.com"),
		app.Users.CheckMailConfig(),
	} {
		wantCode(t, err, parse.InternalServerError)
		if err.Error() != "parse error 1: An appName, publicServerURL, and emailAdapter are required for password reset and email verification functionality." {
			t.Fatal(err)
		}
	}
}

// userMailer writes its own mails.
type userMailer struct {
	mailbox
	verify chan parse.VerificationMail
	reset  chan parse.ResetMail
}

func (m *userMailer) SendVerificationEmail(_ context.Context, v parse.VerificationMail) error {
	m.verify <- v
	return nil
}

func (m *userMailer) SendPasswordResetEmail(_ context.Context, r parse.ResetMail) error {
	m.reset <- r
	return nil
}

func TestUserMailer(t *testing.T) {
	t.Parallel()
	um := &userMailer{mailbox: *newMailbox(), verify: make(chan parse.VerificationMail, 1), reset: make(chan parse.ResetMail, 1)}
	app, _ := newUserApp(t, parse.Config{AppName: "Hooks", MailAdapter: um, VerifyUserEmails: true, PublicServerURL: "https://public.example/p/"})
	u := signUp(t, app, map[string]any{"username": "jo", "password": "pw", "email": "jo@example.com"})
	select {
	case v := <-um.verify:
		if v.AppName != "Hooks" || v.To != "jo@example.com" || v.User.ID != u.ID || v.User.Fields["username"] != "jo" ||
			!strings.HasPrefix(v.Link, "https://public.example/p/apps/APP/verify_email?token=") {
			t.Fatalf("verification %+v", v)
		}
		if _, ok := v.User.Fields["sessionToken"]; ok {
			t.Fatal("the mail's user carries a session token")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no verification mail")
	}
	if err := app.Users.RequestPasswordReset(context.Background(), "jo@example.com"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-um.reset:
		if r.To != "jo@example.com" || r.User.ID != u.ID || !strings.HasPrefix(r.Link, "https://public.example/p/apps/APP/request_password_reset?token=") {
			t.Fatalf("reset %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no reset mail")
	}
	um.none(t)
}
