package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"github.com/parsego/parse"
)

// The pages the verification and password reset mails link to, as the
// reference's PagesRouter serves them under /apps/{appId}/:
//
//   - GET verify_email?token= verifies the address and shows "Email
//     verified!", or an invalid-link page;
//   - GET request_password_reset?token= shows the form to choose a new
//     password (hidden token), or an invalid-link page;
//   - POST request_password_reset (form: token, new_password,
//     confirm_new_password) sets the password and shows "Success!"; an
//     empty or mismatched password shows the form again with the error, a
//     token that no longer works the invalid-link page.
//
// Every page is answered in place with 200, as 9.x does for its default
// pages, rather than by a redirect to a static page: there are no static
// pages to serve. The reference's x-parse-page-param-* headers carry the
// page's parameters for programmatic clients. The pages need no keys; the
// app id in the path must be this App's (else 403 unauthorized), and the
// App must have an AppName and a PublicServerURL (else 404 "Not found.",
// as the reference).

// maxPageFormBytes caps a reset form: a token and two passwords.
const maxPageFormBytes = 64 << 10

// page is what one page shows.
type page struct {
	AppName string
	Title   string
	Heading string
	Message string
	Error   string
	// Form shows the new-password form posting Token.
	Form  bool
	Token string
}

// pageTemplate is every page: html/template escapes what it inserts. The
// form posts to the URL it was served from (request_password_reset).
const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:30em;margin:3em auto;padding:0 1em;line-height:1.5}.error{color:#b00020}input{width:100%;padding:.4em;box-sizing:border-box}button{margin-top:1em;padding:.5em 1em}</style>
</head>
<body>
<h1>{{.AppName}}</h1>
<h2>{{.Heading}}</h2>
{{- if .Message}}
<p>{{.Message}}</p>
{{- end}}
{{- if .Error}}
<p class="error">{{.Error}}</p>
{{- end}}
{{- if .Form}}
<form action="request_password_reset" method="POST">
<input type="hidden" name="token" value="{{.Token}}">
<p><label for="new_password">New password</label><br>
<input type="password" name="new_password" id="new_password" autocomplete="new-password" required></p>
<p><label for="confirm_new_password">Confirm new password</label><br>
<input type="password" name="confirm_new_password" id="confirm_new_password" autocomplete="new-password" required></p>
<button type="submit">Change password</button>
</form>
{{- end}}
</body>
</html>
`

// servePage answers the routes of the pages.
func (h *handler) servePage(w http.ResponseWriter, r *http.Request, rt route) {
	if rt.id != h.cfg.AppID {
		h.writeError(w, r, parse.ErrUnauthorized)
		return
	}
	if h.cfg.AppName == "" || h.cfg.PublicServerURL == "" {
		h.writeText(w, http.StatusNotFound, "Not found.")
		return
	}
	ctx := r.Context()
	users := h.app.Users
	switch rt.kind {
	case routeVerifyEmailPage:
		err := users.VerifyEmail(ctx, r.URL.Query().Get("token"))
		if err != nil {
			h.pageError(w, r, err, h.invalidVerificationLink())
			return
		}
		h.writePage(w, http.StatusOK, page{Title: "Email Verification", Heading: "Email verified!",
			Message: "Your email address has been verified."})

	case routeResetPasswordPage:
		token := r.URL.Query().Get("token")
		if err := users.CheckPasswordResetToken(ctx, token); err != nil {
			h.pageError(w, r, err, h.invalidResetLink(err))
			return
		}
		h.writePage(w, http.StatusOK, h.resetForm(token, ""))

	case routeResetPassword:
		r.Body = http.MaxBytesReader(w, r.Body, maxPageFormBytes)
		if err := r.ParseForm(); err != nil {
			h.writePage(w, http.StatusBadRequest, h.invalidResetLink(nil))
			return
		}
		token, pw := r.PostForm.Get("token"), r.PostForm.Get("new_password")
		if token == "" {
			h.writePage(w, http.StatusOK, h.invalidResetLink(nil))
			return
		}
		if pw == "" {
			h.writePage(w, http.StatusOK, h.resetForm(token, "Please enter a new password."))
			return
		}
		if confirm, ok := r.PostForm["confirm_new_password"]; ok && confirm[0] != pw {
			h.writePage(w, http.StatusOK, h.resetForm(token, "The passwords do not match."))
			return
		}
		if err := users.ResetPassword(ctx, token, pw); err != nil {
			h.pageError(w, r, err, h.invalidResetLink(err))
			return
		}
		h.writePage(w, http.StatusOK, page{Title: "Password Reset", Heading: "Success!",
			Message: "Your password has been updated."})
	}
}

// pageError answers a page whose action failed: a link that doesn't work
// (code -1) with the invalid-link page, an unexpected error with a 500 page.
func (h *handler) pageError(w http.ResponseWriter, r *http.Request, err error, invalid page) {
	if parse.ErrorCode(err) == parse.OtherCause {
		h.writePage(w, http.StatusOK, invalid)
		return
	}
	h.logError(r, err)
	h.writePage(w, http.StatusInternalServerError, page{Title: "Error", Heading: "Something went wrong",
		Message: "Please try again later."})
}

func (h *handler) invalidVerificationLink() page {
	return page{Title: "Email Verification", Heading: "Invalid verification link!",
		Message: "The link is not valid: it may have expired or been used already."}
}

// invalidResetLink is the page of a reset link that doesn't work; err,
// when it says why, is shown.
func (h *handler) invalidResetLink(err error) page {
	p := page{Title: "Password Reset", Heading: "Invalid password reset link!"}
	if pe, ok := errors.AsType[*parse.Error](err); ok {
		p.Error = pe.Message
	}
	return p
}

func (h *handler) resetForm(token, errMsg string) page {
	return page{Title: "Password Reset", Heading: "Reset your password", Form: true, Token: token, Error: errMsg}
}

// writePage renders a page. The headers keep it out of caches, frames and
// Referer headers (a reset page's URL carries its token) and forbid any
// script.
func (h *handler) writePage(w http.ResponseWriter, status int, p page) {
	p.AppName = h.cfg.AppName
	var buf bytes.Buffer
	if err := h.pages.Execute(&buf, p); err != nil {
		h.app.Logger().Error("httpapi: page", "err", err)
		h.writeText(w, http.StatusInternalServerError, "Internal server error.")
		return
	}
	hd := w.Header()
	hd["Content-Type"] = h.ctHTML
	hd["Content-Security-Policy"] = []string{"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"}
	hd["X-Content-Type-Options"] = h.nosniff
	hd["Referrer-Policy"] = []string{"no-referrer"}
	hd["Cache-Control"] = []string{"no-store"}
	params := [...]struct{ name, value string }{
		{"appid", h.cfg.AppID},
		{"appname", h.cfg.AppName},
		{"publicserverurl", h.cfg.PublicServerURL},
		{"token", p.Token},
		{"error", p.Error},
	}
	for _, kv := range params {
		if kv.value != "" {
			hd.Set("X-Parse-Page-Param-"+kv.name, stripControl(kv.value))
		}
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// stripControl removes control characters from a header value, as the
// reference does with its page parameters.
func stripControl(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
