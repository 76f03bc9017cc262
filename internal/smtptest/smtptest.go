// Package smtptest is a small real SMTP server for tests: it listens on
// 127.0.0.1, speaks EHLO/HELO, optional STARTTLS and AUTH PLAIN, MAIL,
// RCPT, DATA, RSET, NOOP and QUIT, and records every message it accepts.
package smtptest

import (
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	// Data is the message as sent, dot-unstuffed, lines ending in "\n".
	Data []byte
	// User is the username it authenticated as ("" without AUTH).
	User string
	// TLS reports whether it came over TLS (STARTTLS).
	TLS bool
}

// Options configure a Server.
type Options struct {
	// Username and Password, when set, are required (AUTH PLAIN) before
	// MAIL.
	Username, Password string
	// TLS, when set, makes the server offer STARTTLS with it.
	TLS *tls.Config
}

// Server is a running SMTP server.
type Server struct {
	// Host and Port are where it listens.
	Host string
	Port int

	opts Options
	ln   net.Listener
	msgs chan Message
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// Start starts a server, stopped when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	s := &Server{Host: "127.0.0.1", Port: addr.Port, opts: opts, ln: ln,
		msgs: make(chan Message, 100), conns: map[net.Conn]bool{}}
	s.wg.Go(s.accept)
	t.Cleanup(s.close)
	return s
}

// Next waits for the next message, failing t after timeout.
func (s *Server) Next(t testing.TB, timeout time.Duration) Message {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(timeout):
		t.Fatalf("smtptest: no message within %v", timeout)
		return Message{}
	}
}

// None fails t if a message arrives within wait.
func (s *Server) None(t testing.TB, wait time.Duration) {
	t.Helper()
	select {
	case m := <-s.msgs:
		t.Fatalf("smtptest: unexpected message to %v:\n%s", m.To, m.Data)
	case <-time.After(wait):
	}
}

func (s *Server) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c)
		})
	}
}

// session is one connection's state.
type session struct {
	conn   net.Conn
	tp     *textproto.Conn
	tls    bool
	user   string
	helo   bool
	from   string
	to     []string
	inMail bool
}

func (s *Server) serve(c net.Conn) {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	ss := &session{conn: c, tp: textproto.NewConn(c)}
	ss.reply(220, "smtptest ESMTP ready")
	for {
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ss.helo = true
			ext := []string{"smtptest", "8BITMIME", "AUTH PLAIN"}
			if s.opts.TLS != nil && !ss.tls {
				ext = append(ext, "STARTTLS")
			}
			ss.replyLines(250, ext)
		case "HELO":
			ss.helo = true
			ss.reply(250, "smtptest")
		case "STARTTLS":
			if s.opts.TLS == nil || ss.tls {
				ss.reply(502, "no TLS here")
				continue
			}
			ss.reply(220, "go ahead")
			tc := tls.Server(c, s.opts.TLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			*ss = session{conn: tc, tp: textproto.NewConn(tc), tls: true}
		case "AUTH":
			ss.auth(s, arg)
		case "MAIL":
			switch {
			case !ss.helo:
				ss.reply(503, "say hello first")
			case s.opts.Username != "" && ss.user == "":
				ss.reply(530, "authentication required")
			default:
				ss.from, ss.to, ss.inMail = addrArg(arg, "FROM:"), nil, true
				ss.reply(250, "ok")
			}
		case "RCPT":
			if !ss.inMail {
				ss.reply(503, "MAIL first")
				continue
			}
			ss.to = append(ss.to, addrArg(arg, "TO:"))
			ss.reply(250, "ok")
		case "DATA":
			if len(ss.to) == 0 {
				ss.reply(503, "RCPT first")
				continue
			}
			ss.reply(354, "end with <CRLF>.<CRLF>")
			data, err := ss.tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.msgs <- Message{From: ss.from, To: ss.to, Data: data, User: ss.user, TLS: ss.tls}
			ss.from, ss.to, ss.inMail = "", nil, false
			ss.reply(250, "queued")
		case "RSET":
			ss.from, ss.to, ss.inMail = "", nil, false
			ss.reply(250, "ok")
		case "NOOP":
			ss.reply(250, "ok")
		case "QUIT":
			ss.reply(221, "bye")
			return
		default:
			ss.reply(502, "unknown command")
		}
	}
}

// auth handles AUTH PLAIN, with the credentials on the line or after a
// 334 challenge.
func (ss *session) auth(s *Server, arg string) {
	mech, resp, _ := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "PLAIN") {
		ss.reply(504, "PLAIN only")
		return
	}
	if resp == "" {
		ss.reply(334, "")
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		resp = line
	}
	dec, err := base64.StdEncoding.DecodeString(resp)
	parts := strings.Split(string(dec), "\x00")
	if err != nil || len(parts) != 3 || parts[1] != s.opts.Username || parts[2] != s.opts.Password || s.opts.Username == "" {
		ss.reply(535, "authentication failed")
		return
	}
	ss.user = parts[1]
	ss.reply(235, "authenticated")
}

// addrArg reads the address of "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func addrArg(arg, prefix string) string {
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = arg[len(prefix):]
	}
	arg, _, _ = strings.Cut(strings.TrimSpace(arg), " ")
	return strings.TrimSuffix(strings.TrimPrefix(arg, "<"), ">")
}

func (ss *session) reply(code int, msg string) {
	ss.tp.PrintfLine("%d %s", code, msg)
}

func (ss *session) replyLines(code int, lines []string) {
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		ss.tp.PrintfLine("%d%s%s", code, sep, l)
	}
}
