package httpapi_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"os"

	"github.com/parsego/parse"
	"github.com/parsego/parse/httpapi"
	"github.com/parsego/parse/storage/postgres"
)

// hostMux is a host program's router: its own routes, with the Parse REST
// API mounted beside them under /parse.
func hostMux(app *parse.App) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the host\n")
	})
	mux.Handle("/parse/", http.StripPrefix("/parse", httpapi.New(app, httpapi.Options{})))
	return mux
}

// The Parse SDKs then talk to http://localhost:8080/parse with application
// id APP and REST key REST. (Not run by go test: it needs a database and
// serves forever; TestExampleHostMux checks hostMux.)
func ExampleNew() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), postgres.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	app, err := parse.New(ctx, parse.Config{
		AppID:     "APP",
		MasterKey: os.Getenv("PARSE_MASTER_KEY"),
		RESTKey:   "REST",
		ServerURL: "http://localhost:8080/parse",
		Store:     store,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	log.Fatal(http.ListenAndServe("localhost:8080", hostMux(app)))
}
