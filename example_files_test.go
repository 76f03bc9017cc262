package parse_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/parsego/parse"
)

// The file lifecycle from Go: a placeholder, its content from a reader
// with progress, then the file as its owner sees it. The contents live in
// the App's store (here the embedded default), as nothing else is
// configured.
func ExampleFiles() {
	ctx := context.Background()
	app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", ServerURL: "https://example.com/parse"})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()

	f, err := app.Files.CreatePlaceholder(ctx, parse.FileSpec{Name: "notes.txt", Kind: parse.FileKindOther, Type: "com.example.notes"})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Files.Remove(ctx, f.ID)
	var stored int64
	err = app.Files.SetContent(ctx, f.ID, parse.FileContent{
		Reader:   strings.NewReader("Remember the milk."),
		Progress: func(n int64) { stored = n },
	})
	if err != nil {
		log.Fatal(err)
	}
	f, err = app.Files.Get(ctx, f.ID, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Complete, f.MimeType, f.Size, stored, f.SHA256[:12])
	fmt.Println(f.URL == "https://example.com/parse/files/"+f.ID+"/content?file_token="+f.FileToken)
	// Output:
	// true text/plain 18 18 3045cf9aed6a
	// true
}
