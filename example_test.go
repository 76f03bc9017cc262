package parse_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/parsego/parse"
	"github.com/parsego/parse/storage/postgres"
)

// exampleDSN is where the examples keep their data.
func exampleDSN() string {
	if dsn := os.Getenv("PARSEGO_TEST_DATABASE_URL"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres"
}

// Calling the Objects service directly, as a host program or its unit tests
// do: no HTTP involved, the master key by default.
func ExampleObjects() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, exampleDSN(), postgres.Options{Schema: "parsego_example_objects"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: store})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	defer app.Schemas.Delete(ctx, "GameScore", true)

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
