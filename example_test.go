package parse_test

import (
	"context"
	"fmt"
	"log"

	"github.com/parsego/parse"
)

// Calling the Objects service directly, as a host program or its unit tests
// do: no HTTP involved, the master key by default. Without a Store, the App
// keeps its data in a private in-memory embedded store.
func ExampleObjects() {
	ctx := context.Background()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER"})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()

	score, err := app.Objects.Create(ctx, "GameScore", map[string]any{"score": 1337, "playerName": "Sean Plott"})
	if err != nil {
		log.Fatal(err)
	}
	updated, err := app.Objects.Update(ctx, "GameScore", score.ID, map[string]any{
		"score": parse.Increment(10),
		"tags":  parse.AddUnique("rookie", "rookie"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.Fields["playerName"], updated.Fields["score"], updated.Fields["tags"])

	// A client without a session reads only what its ACL allows.
	anonymous := parse.WithAuth(ctx, parse.Auth{})
	secret, _ := app.Objects.Create(ctx, "GameScore", map[string]any{"score": 1, "ACL": parse.ACL{}})
	_, err = app.Objects.Get(anonymous, "GameScore", secret.ID)
	fmt.Println(parse.ErrorCode(err) == parse.ObjectNotFound)
	// Output:
	// Sean Plott 1347 [rookie]
	// true
}
