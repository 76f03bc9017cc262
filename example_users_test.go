package parse_test

import (
	"context"
	"fmt"
	"log"

	"github.com/parsego/parse"
	"github.com/parsego/parse/storage/postgres"
)

// Signing a user up, logging in and out from Go, and acting as that user:
// the session token a login returns is what a client would present.
func ExampleUsers() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, exampleDSN(), postgres.Options{Schema: "parsego_example_users"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: store})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	defer app.Schemas.Delete(ctx, parse.ClassSession, true)
	defer app.Schemas.Delete(ctx, parse.ClassUser, true)

	user, err := app.Users.SignUp(ctx, map[string]any{
		"username": "cooldude6", "password": "p_n7!-e8", "email": "cool@example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = app.Users.SignUp(ctx, map[string]any{"username": "CoolDude6", "password": "x"})
	fmt.Println("taken:", parse.ErrorCode(err) == parse.UsernameTaken)

	login, err := app.Users.LogIn(ctx, parse.Login{Username: "cooldude6", Password: "p_n7!-e8"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(login.ID == user.ID, login.Fields["email"], len(login.SessionToken()))

	// Authenticate resolves a token into the identity the App's calls act as.
	auth, err := app.Authenticate(ctx, parse.Credentials{AppID: "APP", SessionToken: login.SessionToken()})
	if err != nil {
		log.Fatal(err)
	}
	me, err := app.Users.Me(parse.WithAuth(ctx, auth))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(me.Fields["username"])

	if err := app.Users.LogOut(ctx, login.SessionToken()); err != nil {
		log.Fatal(err)
	}
	_, err = app.Users.Become(ctx, login.SessionToken())
	fmt.Println("after logout:", parse.ErrorCode(err) == parse.InvalidSessionToken)
	// Output:
	// taken: true
	// true cool@example.com 34
	// cooldude6
	// after logout: true
}
