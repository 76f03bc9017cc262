package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/parsego/parse"
	"github.com/parsego/parse/mail/smtp"
)

// mailAdapter returns the mail adapter the options ask for: SMTP, a log
// file, or none.
func (o *options) mailAdapter() (parse.MailAdapter, error) {
	switch {
	case o.smtpAddr != "":
		host, port, err := net.SplitHostPort(o.smtpAddr)
		if err != nil {
			return nil, err
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, err
		}
		return smtp.New(smtp.Config{Host: host, Port: p, Username: o.smtpUser, Password: o.smtpPassword, From: o.mailFrom})
	case o.mailLog != "":
		return &mailLog{path: o.mailLog}, nil
	}
	return nil, nil
}

// mailLog appends each mail to a file as one JSON line, as the reference
// fixture's adapter does, so that a test can read the links.
type mailLog struct {
	path string
	mu   sync.Mutex
}

func (l *mailLog) SendMail(_ context.Context, m parse.Mail) error {
	line, err := json.Marshal(map[string]string{"to": m.To, "subject": m.Subject, "text": m.Text})
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
