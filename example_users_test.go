package parse_test

import (
	"context"
	"fmt"
	"log"

	"github.com/parsego/parse"
)

// Signing a user up, logging in and out from Go, and acting as that user:
// the session token a login returns is what a client would present.
func ExampleUsers() {
	ctx := context.Background()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER"})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()

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
