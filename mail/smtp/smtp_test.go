package smtp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/smtptest"
	"github.com/parsego/parse/mail/smtp"
)

// selfSigned returns a server TLS config for 127.0.0.1 and a client one
// that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtptest"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

// received is a recorded message, parsed.
type received struct {
	smtptest.Message
	header mail.Header
	body   string // quoted-printable decoded
}

func parseMessage(t *testing.T, m smtptest.Message) received {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, m.Data)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("body is not quoted-printable: %v\n%s", err, m.Data)
	}
	return received{Message: m, header: msg.Header, body: string(body)}
}

func TestSendMail(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := selfSigned(t)
	longLine := strings.Repeat("é", 60) + " https://example.com/parse/apps/APP/verify_email?token=" + strings.Repeat("x", 25)
	tests := []struct {
		name       string
		server     smtptest.Options
		cfg        smtp.Config
		mail       parse.Mail
		wantUser   string
		wantTLS    bool
		wantTo     string // the To header
		wantSubj   string // the decoded Subject
		wantFrom   string // the From header
		wantSender string // the envelope sender
	}{
		{
			name:   "plain",
			cfg:    smtp.Config{From: "noreply@example.com"},
			mail:   parse.Mail{To: "ann@example.com", Subject: "Password Reset for My App", Text: "Hi,\n\nClick here:\nhttps://example.com/x?token=abc"},
			wantTo: "<ann@example.com>", wantSubj: "Password Reset for My App", wantFrom: "<noreply@example.com>", wantSender: "noreply@example.com",
		},
		{
			name:     "auth plain",
			server:   smtptest.Options{Username: "mailer", Password: "s3cret"},
			cfg:      smtp.Config{From: "My App <noreply@example.com>", Username: "mailer", Password: "s3cret"},
			mail:     parse.Mail{To: "Ann Example <ann@example.com>", Subject: "Hello", Text: "line one\nline two"},
			wantUser: "mailer",
			wantTo:   `"Ann Example" <ann@example.com>`, wantSubj: "Hello", wantFrom: `"My App" <noreply@example.com>`, wantSender: "noreply@example.com",
		},
		{
			name:     "starttls and auth",
			server:   smtptest.Options{Username: "mailer", Password: "s3cret", TLS: serverTLS},
			cfg:      smtp.Config{From: "noreply@example.com", Username: "mailer", Password: "s3cret", TLSConfig: clientTLS},
			mail:     parse.Mail{To: "bob@example.com", Subject: "Secure", Text: "over TLS"},
			wantUser: "mailer", wantTLS: true,
			wantTo: "<bob@example.com>", wantSubj: "Secure", wantFrom: "<noreply@example.com>", wantSender: "noreply@example.com",
		},
		{
			name:   "utf-8 subject and long lines",
			cfg:    smtp.Config{From: "Café <noreply@example.com>"},
			mail:   parse.Mail{To: "zoë@example.com", Subject: "Vérifiez votre e-mail pour Café", Text: longLine + "\r\nnext = line."},
			wantTo: "<zoë@example.com>", wantSubj: "Vérifiez votre e-mail pour Café", wantFrom: "=?utf-8?q?Caf=C3=A9?= <noreply@example.com>", wantSender: "noreply@example.com",
		},
		{
			name:   "header injection in the subject",
			cfg:    smtp.Config{From: "noreply@example.com"},
			mail:   parse.Mail{To: "ann@example.com", Subject: "Hi\r\nBcc: mallory@example.com\r\n\r\nbody", Text: "text"},
			wantTo: "<ann@example.com>", wantSubj: "Hi Bcc: mallory@example.com body", wantFrom: "<noreply@example.com>", wantSender: "noreply@example.com",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, tc.server)
			cfg := tc.cfg
			cfg.Host, cfg.Port = srv.Host, srv.Port
			a, err := smtp.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := a.SendMail(ctx, tc.mail); err != nil {
				t.Fatalf("SendMail: %v", err)
			}
			got := parseMessage(t, srv.Next(t, 5*time.Second))
			addr, _ := mail.ParseAddress(tc.mail.To)
			if got.From != tc.wantSender || len(got.To) != 1 || got.To[0] != addr.Address {
				t.Errorf("envelope %q -> %q, want %q -> [%q]", got.From, got.To, tc.wantSender, addr.Address)
			}
			if got.User != tc.wantUser || got.TLS != tc.wantTLS {
				t.Errorf("user %q tls %v, want %q %v", got.User, got.TLS, tc.wantUser, tc.wantTLS)
			}
			// The message's last line ends with a line break, as SMTP's DATA
			// requires.
			wantText := strings.ReplaceAll(tc.mail.Text, "\r\n", "\n") + "\n"
			if strings.ReplaceAll(got.body, "\r\n", "\n") != wantText {
				t.Errorf("body %q, want %q", got.body, wantText)
			}
			h := got.header
			subj, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
			if err != nil || subj != tc.wantSubj {
				t.Errorf("Subject %q (%q, %v), want %q", h.Get("Subject"), subj, err, tc.wantSubj)
			}
			for k, want := range map[string]string{
				"From":                      tc.wantFrom,
				"To":                        tc.wantTo,
				"Mime-Version":              "1.0",
				"Content-Type":              "text/plain; charset=utf-8",
				"Content-Transfer-Encoding": "quoted-printable",
				"Bcc":                       "",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if d, err := h.Date(); err != nil || time.Since(d) > time.Minute || time.Since(d) < -time.Minute {
				t.Errorf("Date %q: %v", h.Get("Date"), err)
			}
			if id := h.Get("Message-Id"); !regexp.MustCompile(`^<[0-9a-f]{32}@example\.com>$`).MatchString(id) {
				t.Errorf("Message-ID %q", id)
			}
			for _, line := range strings.Split(string(got.Data), "\n") {
				if len(line) > 78 {
					t.Errorf("line of %d characters: %q", len(line), line)
				}
			}
		})
	}
}

func TestSendMailErrors(t *testing.T) {
	t.Parallel()
	auth := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "s3cret"})
	noAuth := smtptest.Start(t, smtptest.Options{})

	// A server that accepts connections and never greets.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 10)
	t.Cleanup(func() {
		silent.Close()
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	silentPort := silent.Addr().(*net.TCPAddr).Port

	// A port nobody listens on.
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	ok := parse.Mail{To: "ann@example.com", Subject: "s", Text: "t"}
	tests := []struct {
		name    string
		cfg     smtp.Config
		mail    parse.Mail
		timeout time.Duration
		want    string // in the error
	}{
		{"wrong password", smtp.Config{Port: auth.Port, Username: "mailer", Password: "wrong"}, ok, 5 * time.Second, "AUTH: 535"},
		{"no password where one is required", smtp.Config{Port: auth.Port}, ok, 5 * time.Second, "MAIL FROM: 530"},
		{"bad recipient", smtp.Config{Port: noAuth.Port}, parse.Mail{To: "not an address", Subject: "s", Text: "t"}, 5 * time.Second, `recipient "not an address"`},
		{"connection refused", smtp.Config{Port: closedPort}, ok, 5 * time.Second, "dial"},
		{"silent server: the context's deadline", smtp.Config{Port: silentPort}, ok, 300 * time.Millisecond, "context deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.Host, cfg.From = "127.0.0.1", "noreply@example.com"
			a, err := smtp.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			start := time.Now()
			err = a.SendMail(ctx, tc.mail)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
			if el := time.Since(start); el > tc.timeout+2*time.Second {
				t.Errorf("took %v", el)
			}
		})
	}
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		a, _ := smtp.New(smtp.Config{Host: "127.0.0.1", Port: silentPort, From: "noreply@example.com"})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		err := a.SendMail(ctx, ok)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	})
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  smtp.Config
		want string
	}{
		{smtp.Config{From: "noreply@example.com"}, "Config.Host is required"},
		{smtp.Config{Host: "smtp.example.com"}, "Config.From"},
		{smtp.Config{Host: "smtp.example.com", From: "not an address"}, "Config.From"},
	} {
		if _, err := smtp.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
