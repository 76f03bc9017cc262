package smtp_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/mail/smtp"
	"github.com/parsego/parse/storage/postgres"
)

// An App that verifies its users' emails and lets them reset forgotten
// passwords, mailing through an SMTP relay. The links in the mails lead to
// the pages httpapi serves under the API's public URL
// (https://api.example.com/parse/apps/APP/...).
func ExampleNew() {
	ctx := context.Background()
	mailer, err := smtp.New(smtp.Config{
		Host:     "smtp.example.com",
		Port:     587, // STARTTLS, then AUTH PLAIN
		Username: "apikey",
		Password: os.Getenv("SMTP_PASSWORD"),
		From:     "My App <noreply@example.com>",
	})
	if err != nil {
		log.Fatal(err)
	}
	store, err := postgres.Open(ctx, "postgres://localhost/app", postgres.Options{})
	if err != nil {
		log.Fatal(err)
	}
	app, err := parse.New(ctx, parse.Config{
		AppID: "APP", MasterKey: os.Getenv("MASTER_KEY"), Store: store,
		ServerURL:        "https://api.example.com/parse",
		AppName:          "My App",
		MailAdapter:      mailer,
		VerifyUserEmails: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	http.Handle("/parse/", http.StripPrefix("/parse", httpapi.New(app, httpapi.Options{})))
	log.Fatal(http.ListenAndServe(":8080", nil))
}
