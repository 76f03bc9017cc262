// Package smtp sends a parse.App's mails (email verification and password
// reset links) through an SMTP server, with the standard library's
// net/smtp: a parse.MailAdapter.
//
// Each mail is one connection: dial (with the context's deadline),
// EHLO, STARTTLS when the server offers it (or TLS from the start with
// Config.ImplicitTLS), AUTH PLAIN when a username is configured, then one
// message, plain text in UTF-8, quoted-printable.
//
//	mailer, err := smtp.New(smtp.Config{
//		Host: "smtp.example.com", Port: 587,
//		Username: "apikey", Password: secret,
//		From: "My App <noreply@example.com>",
//	})
//	app, err := parse.New(ctx, parse.Config{..., AppName: "My App", MailAdapter: mailer})
package smtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/parsego/parse"
)

// Config configures an Adapter. Host and From are required.
type Config struct {
	// Host and Port name the SMTP server; Port defaults to 587 (465 with
	// ImplicitTLS).
	Host string
	Port int
	// Username and Password, when Username is set, authenticate with AUTH
	// PLAIN. net/smtp sends them only over TLS or to localhost.
	Username string
	Password string
	// From is the sender, an RFC 5322 address: "noreply@example.com" or
	// "My App <noreply@example.com>".
	From string
	// ImplicitTLS connects with TLS from the start (SMTPS, port 465)
	// instead of upgrading with STARTTLS.
	ImplicitTLS bool
	// TLSConfig, when set, is used for TLS (custom roots, client
	// certificates); its ServerName defaults to Host.
	TLSConfig *tls.Config
	// LocalName is the name sent with EHLO (default "localhost").
	LocalName string
	// DialTimeout bounds connecting (default 10 s). The whole exchange is
	// bounded by the context given to SendMail.
	DialTimeout time.Duration
}

// Adapter sends mails through one SMTP server. It is safe for concurrent
// use.
type Adapter struct {
	cfg  Config
	from *mail.Address
	addr string
}

// New checks cfg and returns an Adapter.
func New(cfg Config) (*Adapter, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: Config.Host is required")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: Config.From %q: %w", cfg.From, err)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.ImplicitTLS {
			cfg.Port = 465
		}
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	return &Adapter{cfg: cfg, from: from, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))}, nil
}

// SendMail sends one message. It stops when ctx is done.
func (a *Adapter) SendMail(ctx context.Context, m parse.Mail) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("smtp: recipient %q: %w", m.To, err)
	}
	msg := buildMessage(a.from, to, m.Subject, m.Text, time.Now())

	conn, err := a.dial(ctx)
	if err != nil {
		return fmt.Errorf("smtp: dial %s: %w", a.addr, err)
	}
	// The context bounds the exchange: when it is done (deadline or
	// cancellation), any read or write blocked on the server fails.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	err = a.exchange(conn, to.Address, msg)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return err
}

func (a *Adapter) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: a.cfg.DialTimeout}
	if !a.cfg.ImplicitTLS {
		return d.DialContext(ctx, "tcp", a.addr)
	}
	td := &tls.Dialer{NetDialer: d, Config: a.tlsConfig()}
	return td.DialContext(ctx, "tcp", a.addr)
}

func (a *Adapter) tlsConfig() *tls.Config {
	c := &tls.Config{}
	if a.cfg.TLSConfig != nil {
		c = a.cfg.TLSConfig.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = a.cfg.Host
	}
	return c
}

// exchange speaks SMTP on conn to deliver msg to rcpt.
func (a *Adapter) exchange(conn net.Conn, rcpt string, msg []byte) error {
	c, err := smtp.NewClient(conn, a.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(a.cfg.LocalName); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if !a.cfg.ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(a.tlsConfig()); err != nil {
				return fmt.Errorf("smtp: STARTTLS: %w", err)
			}
		}
	}
	if a.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("smtp: the server offers no AUTH, but a username is configured")
		}
		if err := c.Auth(smtp.PlainAuth("", a.cfg.Username, a.cfg.Password, a.cfg.Host)); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(a.from.Address); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		return fmt.Errorf("smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("smtp: QUIT: %w", err)
	}
	return nil
}

// buildMessage writes an RFC 5322 message: the headers, then the text as
// quoted-printable UTF-8 with CRLF line ends. Header values can't break
// out of their header: addresses are formatted by net/mail and the
// subject is RFC 2047-encoded when it isn't plain printable ASCII.
func buildMessage(from, to *mail.Address, subject, text string, now time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	header("Date", now.Format(time.RFC1123Z))
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeSubject(subject))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(text, "\r\n", "\n"))) // writes to a bytes.Buffer can't fail
	qp.Close()
	return b.Bytes()
}

// encodeSubject folds a subject onto one line and encodes it when it
// holds anything but printable ASCII.
func encodeSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

// messageID is a unique Message-ID in the sender's domain.
func messageID(from string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		domain = from[i+1:]
	}
	var r [16]byte
	rand.Read(r[:])
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}
