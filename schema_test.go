package parse_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage/postgres"
)

func TestSchemasCreateGetDelete(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	created, err := app.Schemas.Create(ctx, parse.ClassSchema{ClassName: "City", Fields: map[string]parse.Field{
		"name":    {Type: "String", Required: true},
		"pop":     {Type: "Number", DefaultValue: json.RawMessage(`5`)},
		"country": {Type: "Pointer", TargetClass: "Country"},
		"sisters": {Type: "Relation", TargetClass: "City"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(created)
	want := `{"className":"City","fields":{"ACL":{"type":"ACL"},"country":{"type":"Pointer","targetClass":"Country"},"createdAt":{"type":"Date"},` +
		`"name":{"type":"String","required":true},"objectId":{"type":"String"},"pop":{"type":"Number","defaultValue":5},` +
		`"sisters":{"type":"Relation","targetClass":"City"},"updatedAt":{"type":"Date"}},"classLevelPermissions":` + `{"find":{"*":true},"count":{"*":true},"get":{"*":true},"create":{"*":true},"update":{"*":true},"delete":{"*":true},"addField":{"*":true},"protectedFields":{"*":[]},"ACL":{"*":{"read":true,"write":true}}}}`
	if string(b) != want {
		t.Fatalf("created schema\n got %s\nwant %s", b, want)
	}

	// Defaults and required fields apply to objects.
	o, err := app.Objects.Create(ctx, "City", map[string]any{"name": "Oslo"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Fields["pop"] != 5.0 {
		t.Fatalf("default not applied: %v", o.Fields)
	}
	_, err = app.Objects.Create(ctx, "City", map[string]any{"pop": 1})
	wantCode(t, err, parse.ValidationError)
	_, err = app.Objects.Update(ctx, "City", o.ID, map[string]any{"name": nil})
	wantCode(t, err, parse.ValidationError)

	errs := []struct {
		name   string
		schema parse.ClassSchema
		code   int
	}{
		{"exists", parse.ClassSchema{ClassName: "City"}, parse.InvalidClassName},
		{"invalid class name", parse.ClassSchema{ClassName: "1City"}, parse.InvalidClassName},
		{"invalid type", parse.ClassSchema{ClassName: "C2", Fields: map[string]parse.Field{"x": {Type: "Integer"}}}, parse.IncorrectType},
		{"pointer without target", parse.ClassSchema{ClassName: "C2", Fields: map[string]parse.Field{"x": {Type: "Pointer"}}}, parse.MissingRequiredField},
		{"invalid field name", parse.ClassSchema{ClassName: "C2", Fields: map[string]parse.Field{"x-y": {Type: "String"}}}, parse.InvalidKeyName},
		{"default of the wrong type", parse.ClassSchema{ClassName: "C2", Fields: map[string]parse.Field{"x": {Type: "Number", DefaultValue: json.RawMessage(`"a"`)}}}, parse.IncorrectType},
		{"two GeoPoints", parse.ClassSchema{ClassName: "C2", Fields: map[string]parse.Field{"a": {Type: "GeoPoint"}, "b": {Type: "GeoPoint"}}}, parse.IncorrectType},
	}
	for _, tt := range errs {
		if _, err := app.Schemas.Create(ctx, tt.schema); parse.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %d", tt.name, err, tt.code)
		}
	}
	if _, err := app.Schemas.Get(ctx, "C2"); parse.ErrorCode(err) != parse.InvalidClassName {
		t.Fatalf("a refused schema was created: %v", err)
	}

	client := parse.WithAuth(ctx, parse.Auth{})
	if _, err := app.Schemas.Get(client, "City"); !errors.Is(err, parse.ErrMasterKeyRequired) {
		t.Fatalf("schema read without the master key: %v", err)
	}
	wantCode(t, app.Schemas.Delete(ctx, "City", false), parse.InvalidSchemaOperation)
	if err := app.Schemas.Delete(ctx, "City", true); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Schemas.Get(ctx, "City"); parse.ErrorCode(err) != parse.InvalidClassName {
		t.Fatalf("deleted class still has a schema: %v", err)
	}
}

// TestSchemaChangesReachOtherInstances: two Apps on one database; a field
// one of them adds is enforced by the other, through LISTEN/NOTIFY.
func TestSchemaChangesReachOtherInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store1, store2 := pgtest.NewStorePair(t)
	newApp := func(s *postgres.Store) *parse.App {
		app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: s})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		return app
	}
	a1, a2 := newApp(store1), newApp(store2)
	if _, err := a2.Objects.Create(ctx, "Shared", map[string]any{"x": 1}); err != nil {
		t.Fatal(err)
	}
	// a1 learns the class; a2 then deletes and recreates it with x a String.
	if _, err := a1.Objects.Create(ctx, "Shared", map[string]any{"x": 2}); err != nil {
		t.Fatal(err)
	}
	if err := a2.Schemas.Delete(ctx, "Shared", true); err != nil {
		t.Fatal(err)
	}
	if _, err := a2.Objects.Create(ctx, "Shared", map[string]any{"x": "now a string"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := a1.Objects.Create(ctx, "Shared", map[string]any{"x": 3})
		if parse.ErrorCode(err) == parse.IncorrectType {
			return // a1 enforces the type a2 set
		}
		if time.Now().After(deadline) {
			t.Fatalf("a1 still accepts a Number for x after a2 made it a String: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
