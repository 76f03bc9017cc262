package httpapi_test

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/internal/smtptest"
	"github.com/parsego/parse/mail/smtp"
)

// mailEnv is an env whose App mails through mail/smtp to a real SMTP
// server started for the test.
func mailEnv(t *testing.T, cfg func(*parse.Config)) (*recorder, *smtptest.Server) {
	t.Helper()
	srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "s3cret"})
	adapter, err := smtp.New(smtp.Config{Host: srv.Host, Port: srv.Port, Username: "mailer", Password: "s3cret",
		From: "My App <noreply@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *parse.Config, _ *httpapi.Options) {
		c.AppName, c.MailAdapter = "My App", adapter
		if cfg != nil {
			cfg(c)
		}
	})
	return &recorder{env: e}, srv
}

// inbox is a mail as received: headers and decoded text.
type inbox struct {
	to, subject, text string
}

func receive(t *testing.T, srv *smtptest.Server) inbox {
	t.Helper()
	m := srv.Next(t, 10*time.Second)
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("mail: %v\n%s", err, m.Data)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if m.User != "mailer" || m.From != "noreply@example.com" || len(m.To) != 1 {
		t.Fatalf("envelope: user %q from %q to %q", m.User, m.From, m.To)
	}
	return inbox{to: msg.Header.Get("To"), subject: subject, text: strings.ReplaceAll(string(body), "\r\n", "\n")}
}

var mailLink = regexp.MustCompile(`(http://\S+/apps/APP/(?:verify_email|request_password_reset))\?token=([A-Za-z0-9]{25})\n$`)

// link returns a mail's link and its token, checking the link's page.
func (m inbox) link(t *testing.T, e *env, page string) (link, token string) {
	t.Helper()
	sub := mailLink.FindStringSubmatch(m.text)
	if sub == nil || sub[1] != e.url+"/apps/APP/"+page {
		t.Fatalf("no %s link in:\n%s", page, m.text)
	}
	return sub[0][:len(sub[0])-1], sub[2]
}

// page is an HTML answer.
type pageResp struct {
	status int
	header http.Header
	body   string
}

// get fetches a page as a browser would: no Parse headers.
func getPage(t *testing.T, u string) pageResp {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return readPage(t, res)
}

func postForm(t *testing.T, u string, form url.Values) pageResp {
	t.Helper()
	res, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	return readPage(t, res)
}

func readPage(t *testing.T, res *http.Response) pageResp {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return pageResp{status: res.StatusCode, header: res.Header, body: string(b)}
}

// expect checks a page's status, that it is HTML kept out of caches and
// Referer headers, and that it shows each of want.
func (p pageResp) expect(t *testing.T, status int, want ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d:\n%s", p.status, status, p.body)
	}
	for k, v := range map[string]string{
		"Content-Type":    "text/html; charset=utf-8",
		"Cache-Control":   "no-store",
		"Referrer-Policy": "no-referrer",
	} {
		if got := p.header.Get(k); got != v {
			t.Fatalf("%s %q, want %q", k, got, v)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Fatalf("Content-Security-Policy %q", csp)
	}
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Fatalf("page lacks %q:\n%s", w, p.body)
		}
	}
	if strings.Contains(p.body, "<script") {
		t.Fatalf("page has a script:\n%s", p.body)
	}
}

func TestEmailVerificationEndToEnd(t *testing.T) {
	t.Parallel()
	e, srv := mailEnv(t, func(c *parse.Config) { c.VerifyUserEmails = true })

	// Sign-up answers as without verification: emailVerified is not echoed.
	id, tok := e.signUpHTTP(map[string]any{"username": "ann", "password": "pw", "email": "ann@example.com"})
	m := receive(t, srv)
	if m.to != "<ann@example.com>" || m.subject != "Please verify your e-mail for My App" ||
		!strings.HasPrefix(m.text, "Hi,\n\nYou are being asked to confirm the e-mail address ann@example.com with My App\n\nClick here to confirm it:\n") {
		t.Fatalf("mail %+v", m)
	}
	link, token := m.link(t, e.env, "verify_email")
	me := func() any {
		r := e.do(req{method: "GET", path: "/users/me", headers: session(tok)})
		r.expect(t, http.StatusOK, "")
		return r.obj(t)["emailVerified"]
	}
	if v := me(); v != false {
		t.Fatalf("emailVerified %v before verifying", v)
	}
	e.do(req{method: "PUT", path: "/users/" + id, body: map[string]any{"emailVerified": true}, headers: session(tok)}).
		expectError(t, http.StatusBadRequest, parse.OperationForbidden, "")

	// The link's page needs no keys, only this App's id in its path.
	if r := getPage(t, strings.Replace(link, "/apps/APP/", "/apps/OTHER/", 1)); r.status != http.StatusForbidden || r.body != `{"error":"unauthorized"}` {
		t.Fatalf("another app's link: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"?token=", "?token=" + token[:24], "", "?token=%3Cscript%3E"} {
		getPage(t, e.url+"/apps/APP/verify_email"+bad).expect(t, http.StatusOK, "<h1>My App</h1>", "Invalid verification link!")
	}
	p := getPage(t, link)
	p.expect(t, http.StatusOK, "<h1>My App</h1>", "Email verified!")
	if p.header.Get("X-Parse-Page-Param-Appid") != "APP" || p.header.Get("X-Parse-Page-Param-Appname") != "My App" ||
		p.header.Get("X-Parse-Page-Param-Publicserverurl") != e.url {
		t.Fatalf("page parameters %v", p.header)
	}
	if v := me(); v != true {
		t.Fatalf("emailVerified %v after verifying", v)
	}
	getPage(t, link).expect(t, http.StatusOK, "Invalid verification link!")

	// POST /verificationEmailRequest, with the reference's answers.
	for _, tc := range []struct {
		body   any
		status int
		want   string
	}{
		{map[string]any{}, http.StatusBadRequest, `{"code":204,"error":"you must provide an email"}`},
		{map[string]any{"email": ""}, http.StatusBadRequest, `{"code":204,"error":"you must provide an email"}`},
		{map[string]any{"email": 5}, http.StatusBadRequest, `{"code":125,"error":"you must provide a valid email string"}`},
		{map[string]any{"email": []any{"ann@example.com"}}, http.StatusBadRequest, `{"code":125,"error":"you must provide a valid email string"}`},
		{map[string]any{"email": "nobody@example.com"}, http.StatusOK, `{}`},
		{map[string]any{"email": "ann@example.com"}, http.StatusOK, `{}`}, // verified already
	} {
		e.do(req{method: "POST", path: "/verificationEmailRequest", body: tc.body}).expect(t, tc.status, tc.want)
	}
	srv.None(t, 200*time.Millisecond)

	// A new address is unverified until its new link is followed; asking
	// again voids the first link.
	e.do(req{method: "PUT", path: "/users/" + id, body: map[string]any{"email": "ann@example.org"}, headers: session(tok)}).
		expect(t, http.StatusOK, `{"updatedAt":"<date>"}`)
	first, _ := receive(t, srv).link(t, e.env, "verify_email")
	e.do(req{method: "POST", path: "/verificationEmailRequest", body: map[string]any{"email": "ann@example.org"}}).expect(t, http.StatusOK, `{}`)
	m = receive(t, srv)
	second, secondToken := m.link(t, e.env, "verify_email")
	if m.to != "<ann@example.org>" || me() != false {
		t.Fatalf("mail to %s, emailVerified %v", m.to, me())
	}
	getPage(t, first).expect(t, http.StatusOK, "Invalid verification link!")
	getPage(t, second).expect(t, http.StatusOK, "Email verified!")
	if me() != true {
		t.Fatal("the second link didn't verify")
	}
	e.noSecrets("pw", token, secondToken, "_email_verify_token", "_perishable_token")

	// Pages are not batch routes.
	e.do(req{method: "POST", path: "/batch", body: map[string]any{"requests": []any{
		map[string]any{"method": "GET", "path": "/parse/apps/APP/verify_email?token=" + token},
	}}}).expectError(t, http.StatusBadRequest, parse.InvalidJSON, "cannot route GET /apps/APP/verify_email?token="+token)
}

func TestPreventLoginWithUnverifiedEmailEndToEnd(t *testing.T) {
	t.Parallel()
	e, srv := mailEnv(t, func(c *parse.Config) { c.VerifyUserEmails, c.PreventLoginWithUnverifiedEmail = true, true })
	// The reference's answer: no session for an unverified sign-up.
	e.do(req{method: "POST", path: "/users", body: map[string]any{"username": "bo", "password": "pw", "email": "bo@example.com"}}).
		expect(t, http.StatusCreated, `{"objectId":"<id>","createdAt":"<date>"}`)
	link, _ := receive(t, srv).link(t, e.env, "verify_email")
	login := req{method: "POST", path: "/login", body: map[string]any{"username": "bo", "password": "pw"}}
	e.do(login).expectError(t, http.StatusBadRequest, parse.EmailNotFound, "User email is not verified.")
	getPage(t, link).expect(t, http.StatusOK, "Email verified!")
	r := e.do(login)
	r.expect(t, http.StatusOK, "")
	if o := r.obj(t); o["emailVerified"] != true || !tokenRE.MatchString(o["sessionToken"].(string)) {
		t.Fatalf("login %s", r.body)
	}
}

func TestPasswordResetEndToEnd(t *testing.T) {
	t.Parallel()
	e, srv := mailEnv(t, nil)
	_, oldTok := e.signUpHTTP(map[string]any{"username": "dora", "password": "old-pw", "email": "dora@example.com"})

	// POST /requestPasswordReset, as the conformance scenario pins it.
	for _, tc := range []struct {
		body   any
		status int
		want   string
	}{
		{map[string]any{}, http.StatusBadRequest, `{"code":204,"error":"you must provide an email"}`},
		{map[string]any{"email": nil}, http.StatusBadRequest, `{"code":204,"error":"you must provide an email"}`},
		{map[string]any{"email": 5}, http.StatusBadRequest, `{"code":125,"error":"you must provide a valid email string"}`},
		{map[string]any{"email": "nobody@example.com"}, http.StatusOK, `{}`},
	} {
		e.do(req{method: "POST", path: "/requestPasswordReset", body: tc.body}).expect(t, tc.status, tc.want)
	}
	srv.None(t, 200*time.Millisecond)
	e.do(req{method: "POST", path: "/requestPasswordReset", body: map[string]any{"email": "dora@example.com"}}).expect(t, http.StatusOK, `{}`)
	m := receive(t, srv)
	if m.to != "<dora@example.com>" || m.subject != "Password Reset for My App" ||
		!strings.HasPrefix(m.text, "Hi,\n\nYou requested to reset your password for My App (your username is 'dora').\n\nClick here to reset it:\n") {
		t.Fatalf("mail %+v", m)
	}
	link, token := m.link(t, e.env, "request_password_reset")

	// The link shows the form, which posts the token back to the same URL.
	p := getPage(t, link)
	p.expect(t, http.StatusOK, `<form action="request_password_reset" method="POST">`,
		`<input type="hidden" name="token" value="`+token+`">`, `name="new_password"`)
	if p.header.Get("X-Parse-Page-Param-Token") != token {
		t.Fatalf("page parameters %v", p.header)
	}
	action := e.url + "/apps/APP/request_password_reset"
	postForm(t, action, url.Values{"token": {token}, "new_password": {""}}).
		expect(t, http.StatusOK, "Please enter a new password.", `value="`+token+`"`)
	postForm(t, action, url.Values{"token": {token}, "new_password": {"new-pw"}, "confirm_new_password": {"typo"}}).
		expect(t, http.StatusOK, "The passwords do not match.", `value="`+token+`"`)
	postForm(t, action, url.Values{"new_password": {"new-pw"}}).expect(t, http.StatusOK, "Invalid password reset link!")
	// Nothing above used the link.
	postForm(t, action, url.Values{"token": {token}, "new_password": {"new-pw"}, "confirm_new_password": {"new-pw"}}).
		expect(t, http.StatusOK, "Success!", "Your password has been updated.")

	login := func(pw string) resp {
		return e.do(req{method: "GET", path: "/login?username=dora&password=" + url.QueryEscape(pw)})
	}
	login("old-pw").expectError(t, http.StatusNotFound, parse.ObjectNotFound, "Invalid username/password.")
	if r := login("new-pw"); r.status != http.StatusOK {
		t.Fatalf("login with the new password: %d %s", r.status, r.body)
	}
	e.do(req{method: "GET", path: "/users/me", headers: session(oldTok)}).
		expectError(t, http.StatusBadRequest, parse.InvalidSessionToken, "Invalid session token")

	// The link worked once.
	for _, p := range []pageResp{
		getPage(t, link),
		postForm(t, action, url.Values{"token": {token}, "new_password": {"third-pw"}}),
	} {
		p.expect(t, http.StatusOK, "Invalid password reset link!", "Failed to reset password: username / email / token is invalid")
	}
	if r := login("third-pw"); r.status != http.StatusNotFound {
		t.Fatalf("a used link set the password: %d %s", r.status, r.body)
	}
	e.noSecrets("old-pw", "new-pw", token, "_perishable_token")

	// A form that isn't one is refused, not a 500.
	res, err := http.Post(action, "application/x-www-form-urlencoded", strings.NewReader("token=%zz"))
	if err != nil {
		t.Fatal(err)
	}
	readPage(t, res).expect(t, http.StatusBadRequest, "Invalid password reset link!")
}

func TestPasswordResetExpiredLinkEndToEnd(t *testing.T) {
	t.Parallel()
	e, srv := mailEnv(t, func(c *parse.Config) {
		c.PasswordResetTokenValidity = 50 * time.Millisecond
		c.AppName = `Tom & Jerry's <b>App</b>`
	})
	e.signUpHTTP(map[string]any{"username": "eve", "password": "pw", "email": "eve@example.com"})
	e.do(req{method: "POST", path: "/requestPasswordReset", body: map[string]any{"email": "eve@example.com"}}).expect(t, http.StatusOK, `{}`)
	link, token := receive(t, srv).link(t, e.env, "request_password_reset")
	time.Sleep(100 * time.Millisecond)
	// The app's name is escaped like everything a page shows.
	getPage(t, link).expect(t, http.StatusOK, "<h1>Tom &amp; Jerry&#39;s &lt;b&gt;App&lt;/b&gt;</h1>",
		"Invalid password reset link!", "The password reset link has expired")
	postForm(t, e.url+"/apps/APP/request_password_reset", url.Values{"token": {token}, "new_password": {"new"}}).
		expect(t, http.StatusOK, "The password reset link has expired")
	e.do(req{method: "GET", path: "/login?username=eve&password=pw"}).expect(t, http.StatusOK, "")
}

func TestMailNotConfiguredEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// As the reference: the configuration is checked first.
	for _, path := range []string{"/requestPasswordReset", "/verificationEmailRequest"} {
		for _, body := range []any{map[string]any{"email": "a@example.com"}, map[string]any{"email": 5}, map[string]any{}} {
			e.do(req{method: "POST", path: path, body: body}).expectError(t, http.StatusInternalServerError, parse.InternalServerError,
				"An appName, publicServerURL, and emailAdapter are required for password reset and email verification functionality.")
		}
	}
	// Pages without an app name are not found, as the reference's.
	r := e.do(req{method: "GET", path: "/apps/APP/request_password_reset?token=abc", auth: "none"})
	if r.status != http.StatusNotFound || string(r.body) != "Not found." {
		t.Fatalf("page: %d %s", r.status, r.body)
	}
}
