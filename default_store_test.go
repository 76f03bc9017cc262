package parse_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/parsego/parse"
)

// Without a Store, New opens a private embedded one: objects and files
// work, and nothing survives the App.
func TestNewWithoutStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER"})
	if err != nil {
		t.Fatal(err)
	}
	created, err := app.Objects.Create(ctx, "GameScore", map[string]any{"score": 1337})
	if err != nil {
		t.Fatal(err)
	}
	got, err := app.Objects.Get(ctx, "GameScore", created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fields["score"] != 1337.0 {
		t.Errorf("score = %#v, want 1337", got.Fields["score"])
	}
	f, err := app.Files.Upload(ctx, "hello.txt", "", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := app.Files.Open(ctx, f.Name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(b) != "hello" {
		t.Errorf("file contents %q (%v), want hello", b, err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	other, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Objects.Get(ctx, "GameScore", created.ID); parse.ErrorCode(err) != parse.ObjectNotFound {
		t.Errorf("another App without a Store: Get = %v, want ObjectNotFound", err)
	}
}
