package parse_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/internal/teststore"
)

// schemaJSON renders a schema as the API shows it, keys sorted.
func schemaJSON(t *testing.T, s *parse.ClassSchema) map[string]any {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// wantError checks an error's code and message.
func wantError(t *testing.T, what string, err error, code int, msg string) {
	t.Helper()
	var pe *parse.Error
	if !errors.As(err, &pe) {
		t.Errorf("%s: error %v, want code %d %q", what, err, code, msg)
		return
	}
	if pe.Code != code || pe.Message != msg {
		t.Errorf("%s: error %d %q, want %d %q", what, pe.Code, pe.Message, code, msg)
	}
}

func TestSystemClassesEnsured(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := teststore.New(t)
	open := func() *parse.App {
		app, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: store})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		return app
	}
	app := open()
	all, err := app.Schemas.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range all {
		names = append(names, s.ClassName)
	}
	if !slices.Equal(names, []string{"_Role", "_User"}) {
		t.Fatalf("a new App lists %v, want [_Role _User]", names)
	}
	role := schemaJSON(t, all[0])
	if got := jsonOf(role["fields"]); got != `{"ACL":{"type":"ACL"},"createdAt":{"type":"Date"},"name":{"type":"String"},`+
		`"objectId":{"type":"String"},"roles":{"targetClass":"_Role","type":"Relation"},"updatedAt":{"type":"Date"},`+
		`"users":{"targetClass":"_User","type":"Relation"}}` {
		t.Errorf("_Role fields %s", got)
	}
	// A second App on the same store finds them and leaves them as they
	// are.
	if _, err := app.Schemas.Update(ctx, parse.ClassRole, parse.SchemaUpdate{Fields: map[string]parse.Field{"rank": {Type: "Number"}}}); err != nil {
		t.Fatal(err)
	}
	again, err := open().Schemas.All(ctx)
	if err != nil || len(again) != 2 || again[0].Fields["rank"].Type != "Number" {
		t.Fatalf("second App lists %d classes (%v): %s", len(again), err, jsonOf(again))
	}
}

func TestSchemasVolatileClasses(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	for _, class := range []string{"_Hooks", "_PushStatus", "_JobStatus", "_JobSchedule", "_GlobalConfig", "_GraphQLConfig", "_Audience", "_Idempotency"} {
		s, err := app.Schemas.Get(ctx, class)
		if err != nil {
			t.Errorf("Get %s: %v", class, err)
			continue
		}
		if string(s.ClassLevelPermissions) != "{}" || s.Fields["objectId"].Type != "String" || len(s.Fields) < 5 {
			t.Errorf("Get %s = %s", class, jsonOf(s))
		}
		_, err = app.Schemas.Create(ctx, parse.ClassSchema{ClassName: class})
		wantError(t, "Create "+class, err, parse.InvalidClassName, "Class "+class+" already exists.")
	}
	s, _ := app.Schemas.Get(ctx, "_GlobalConfig")
	if jsonOf(s.Fields["params"]) != `{"type":"Object"}` || jsonOf(s.Fields["masterKeyOnly"]) != `{"type":"Object"}` {
		t.Errorf("_GlobalConfig fields %s", jsonOf(s.Fields))
	}
	_, err := app.Schemas.Get(ctx, "_Session")
	wantError(t, "Get _Session before any session", err, parse.InvalidClassName, "Class _Session does not exist.")
}

func TestSchemasCreateErrors(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	if _, err := app.Schemas.Create(ctx, parse.ClassSchema{ClassName: "Taken"}); err != nil {
		t.Fatal(err)
	}
	f := func(fields ...any) map[string]parse.Field {
		m := map[string]parse.Field{}
		for i := 0; i < len(fields); i += 2 {
			m[fields[i].(string)] = fields[i+1].(parse.Field)
		}
		return m
	}
	str := parse.Field{Type: "String"}
	tests := []struct {
		name   string
		schema parse.ClassSchema
		code   int
		msg    string
	}{
		{"exists", parse.ClassSchema{ClassName: "Taken"}, 103, "Class Taken already exists."},
		{"exists, system", parse.ClassSchema{ClassName: "_User"}, 103, "Class _User already exists."},
		{"invalid name", parse.ClassSchema{ClassName: "1Class"}, 103,
			"Invalid classname: 1Class, classnames can only have alphanumeric characters and _, and must start with an alpha character "},
		{"reserved name", parse.ClassSchema{ClassName: "length"}, 103,
			"Invalid classname: length, classnames can only have alphanumeric characters and _, and must start with an alpha character "},
		{"unknown system class", parse.ClassSchema{ClassName: "_Unknown"}, 103,
			"Invalid classname: _Unknown, classnames can only have alphanumeric characters and _, and must start with an alpha character "},
		{"default field", parse.ClassSchema{ClassName: "C", Fields: f("objectId", str)}, 136, "field objectId cannot be added"},
		{"system default field", parse.ClassSchema{ClassName: "_Session", Fields: f("user", str)}, 136, "field user cannot be added"},
		{"invalid field name", parse.ClassSchema{ClassName: "C", Fields: f("1a", str)}, 105, "invalid field name: 1a"},
		{"className field", parse.ClassSchema{ClassName: "C", Fields: f("className", str)}, 105, "invalid field name: className"},
		{"underscore field", parse.ClassSchema{ClassName: "C", Fields: f("_a", str)}, 105, "invalid field name: _a"},
		{"no type", parse.ClassSchema{ClassName: "C", Fields: f("a", parse.Field{})}, 107, "invalid JSON"},
		{"unknown type", parse.ClassSchema{ClassName: "C", Fields: f("a", parse.Field{Type: "Integer"})}, 111, "invalid field type: Integer"},
		{"ACL type", parse.ClassSchema{ClassName: "C", Fields: f("a", parse.Field{Type: "ACL"})}, 111, "invalid field type: ACL"},
		{"pointer without target", parse.ClassSchema{ClassName: "C", Fields: f("a", parse.Field{Type: "Pointer"})}, 135, "type Pointer needs a class name"},
		{"relation with a bad target", parse.ClassSchema{ClassName: "C", Fields: f("a", parse.Field{Type: "Relation", TargetClass: "_Hooks"})}, 103,
			"Invalid classname: _Hooks, classnames can only have alphanumeric characters and _, and must start with an alpha character "},
		{"default of another type", parse.ClassSchema{ClassName: "C", Fields: f("a", parse.Field{Type: "String", DefaultValue: json.RawMessage(`5`)})}, 111,
			"schema mismatch for C.a default value; expected String but got Number"},
		{"default pointer to another class", parse.ClassSchema{ClassName: "C", Fields: f("a", parse.Field{Type: "Pointer", TargetClass: "X",
			DefaultValue: json.RawMessage(`{"__type":"Pointer","className":"Y","objectId":"abc"}`)})}, 111,
			"schema mismatch for C.a default value; expected Pointer<X> but got Pointer<Y>"},
		{"required relation", parse.ClassSchema{ClassName: "C", Fields: f("a", parse.Field{Type: "Relation", TargetClass: "X", Required: true})}, 111,
			"The 'required' option is not applicable for Relation<X>"},
		{"relation default", parse.ClassSchema{ClassName: "C", Fields: f("a", parse.Field{Type: "Relation", TargetClass: "X",
			DefaultValue: json.RawMessage(`{"__type":"Relation","className":"X"}`)})}, 111, "The 'default value' option is not applicable for Relation<X>"},
		{"two GeoPoints", parse.ClassSchema{ClassName: "C", Fields: f("b", parse.Field{Type: "GeoPoint"}, "a", parse.Field{Type: "GeoPoint"})}, 111,
			"currently, only one GeoPoint field may exist in an object. Adding b when a already exists."},
		{"invalid CLP", parse.ClassSchema{ClassName: "C", ClassLevelPermissions: json.RawMessage(`{"find":{"*":"yes"}}`)}, 107,
			"'yes' is not a valid value for class level permissions acl find:*"},
		{"index on a missing field", parse.ClassSchema{ClassName: "C", Indexes: map[string]map[string]any{"i": {"zz": 1.0}}}, 102,
			"Field zz does not exist, cannot add index."},
		{"index dropped at creation", parse.ClassSchema{ClassName: "C", Indexes: map[string]map[string]any{"i": {"__op": "Delete"}}}, 102,
			"Index i does not exist, cannot delete."},
		{"text index", parse.ClassSchema{ClassName: "C", Fields: f("a", str), Indexes: map[string]map[string]any{"i": {"a": "text"}}}, 102,
			"Index i: a must be 1 (ascending) or -1 (descending)."},
	}
	for _, tt := range tests {
		_, err := app.Schemas.Create(ctx, tt.schema)
		wantError(t, tt.name, err, tt.code, tt.msg)
	}
	if _, err := app.Schemas.Get(ctx, "C"); parse.ErrorCode(err) != parse.InvalidClassName {
		t.Fatalf("a refused schema was created: %v", err)
	}

	// What the reference accepts: a String with a targetClass (kept), a
	// field named like a system class's field on a client class, a default
	// Date, an index on createdAt, a CLP as given with the missing
	// operations shown empty.
	s, err := app.Schemas.Create(ctx, parse.ClassSchema{ClassName: "Ok", Fields: map[string]parse.Field{
		"odd":      {Type: "String", TargetClass: "Foo"},
		"username": str,
		"when":     {Type: "Date", Required: true, DefaultValue: json.RawMessage(`{"__type":"Date","iso":"2011-08-21T18:02:52.249Z"}`)},
	}, ClassLevelPermissions: json.RawMessage(`{"find":{"*":true},"protectedFields":{"*":["username"]}}`),
		Indexes: map[string]map[string]any{"by_date": {"createdAt": -1.0, "when": 1.0}}})
	if err != nil {
		t.Fatal(err)
	}
	m := schemaJSON(t, s)
	if got := jsonOf(m["classLevelPermissions"]); got != `{"addField":{},"count":{},"create":{},"delete":{},"find":{"*":true},"get":{},"protectedFields":{"*":["username"]},"update":{}}` {
		t.Errorf("created CLP %s", got)
	}
	if got := jsonOf(m["indexes"]); got != `{"by_date":{"createdAt":-1,"when":1}}` {
		t.Errorf("created indexes %s (the primary key shows from the next read on)", got)
	}
	if got := jsonOf(m["fields"].(map[string]any)["odd"]); got != `{"targetClass":"Foo","type":"String"}` {
		t.Errorf("odd field %s", got)
	}
	s, err = app.Schemas.Get(ctx, "Ok")
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(s.Indexes); got != `{"_id_":{"_id":1},"by_date":{"createdAt":-1,"when":1}}` {
		t.Errorf("read indexes %s", got)
	}

	// The read-only master key reads but doesn't write; clients do neither.
	ro := parse.WithAuth(ctx, parse.Auth{Master: true, ReadOnly: true})
	if _, err := app.Schemas.Get(ro, "Ok"); err != nil {
		t.Errorf("read with the read-only master key: %v", err)
	}
	_, err = app.Schemas.Create(ro, parse.ClassSchema{ClassName: "Ro"})
	wantError(t, "Create, read-only", err, 119, "Permission denied")
	client := parse.WithAuth(ctx, parse.Auth{})
	if _, err := app.Schemas.Create(client, parse.ClassSchema{ClassName: "Cl"}); !errors.Is(err, parse.ErrMasterKeyRequired) {
		t.Errorf("Create by a client: %v", err)
	}
	if _, err := app.Schemas.All(client); !errors.Is(err, parse.ErrMasterKeyRequired) {
		t.Errorf("All by a client: %v", err)
	}
}

func TestSchemasUpdate(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	if _, err := app.Schemas.Create(ctx, parse.ClassSchema{ClassName: "Up", Fields: map[string]parse.Field{
		"s":     {Type: "String"},
		"n":     {Type: "Number"},
		"loc":   {Type: "GeoPoint"},
		"fans":  {Type: "Relation", TargetClass: "_User"},
		"owner": {Type: "Pointer", TargetClass: "_User"},
	}}); err != nil {
		t.Fatal(err)
	}
	o, err := app.Objects.Create(ctx, "Up", map[string]any{"s": "keep", "n": 1})
	if err != nil {
		t.Fatal(err)
	}

	errs := []struct {
		name string
		u    parse.SchemaUpdate
		code int
		msg  string
	}{
		{"type change", parse.SchemaUpdate{Fields: map[string]parse.Field{"s": {Type: "Number"}}}, 255, "Field s exists, cannot update."},
		{"default field type change", parse.SchemaUpdate{Fields: map[string]parse.Field{"objectId": {Type: "Number"}}}, 255, "Field objectId exists, cannot update."},
		{"delete a missing field", parse.SchemaUpdate{DeleteFields: []string{"zzz"}}, 255, "Field zzz does not exist, cannot delete."},
		{"delete an internal field", parse.SchemaUpdate{DeleteFields: []string{"_rperm"}}, 255, "Field _rperm does not exist, cannot delete."},
		{"delete a default field", parse.SchemaUpdate{DeleteFields: []string{"createdAt"}}, 136, "field createdAt cannot be changed"},
		{"invalid new field", parse.SchemaUpdate{Fields: map[string]parse.Field{"bad-name": {Type: "String"}}}, 105, "invalid field name: bad-name"},
		{"second GeoPoint", parse.SchemaUpdate{Fields: map[string]parse.Field{"loc2": {Type: "GeoPoint"}}}, 111,
			"currently, only one GeoPoint field may exist in an object. Adding loc2 when loc already exists."},
		{"default of another type", parse.SchemaUpdate{Fields: map[string]parse.Field{"s": {Type: "String", DefaultValue: json.RawMessage(`5`)}}}, 111,
			"schema mismatch for Up.s default value; expected String but got Number"},
		{"CLP on a deleted field", parse.SchemaUpdate{DeleteFields: []string{"s"}, ClassLevelPermissions: json.RawMessage(`{"protectedFields":{"*":["s"]}}`)}, 107,
			"Field 's' in protectedFields:* does not exist"},
		{"CLP pointer field of the wrong type", parse.SchemaUpdate{ClassLevelPermissions: json.RawMessage(`{"readUserFields":["s"]}`)}, 107,
			"'s' is not a valid column for class level pointer permissions readUserFields"},
		{"drop _id_ of a class without indexes", parse.SchemaUpdate{DropIndexes: []string{"_id_"}}, 102, "Index _id_ does not exist, cannot delete."},
		{"drop a missing index", parse.SchemaUpdate{DropIndexes: []string{"nope"}}, 102, "Index nope does not exist, cannot delete."},
		{"index on a missing field", parse.SchemaUpdate{Indexes: map[string]map[string]any{"i": {"zz": 1.0}}}, 102, "Field zz does not exist, cannot add index."},
		{"index on a deleted field", parse.SchemaUpdate{DeleteFields: []string{"n"}, Indexes: map[string]map[string]any{"i": {"n": 1.0}}}, 102,
			"Field n does not exist, cannot add index."},
		{"index without keys", parse.SchemaUpdate{Indexes: map[string]map[string]any{"i": {}}}, 102, "Index i has no fields."},
		{"index name", parse.SchemaUpdate{Indexes: map[string]map[string]any{"my-index": {"n": 1.0}}}, 102, "Invalid index name: my-index"},
	}
	for _, tt := range errs {
		_, err := app.Schemas.Update(ctx, "Up", tt.u)
		wantError(t, tt.name, err, tt.code, tt.msg)
	}
	_, err = app.Schemas.Update(ctx, "Nope", parse.SchemaUpdate{})
	wantError(t, "unknown class", err, 103, "Class Nope does not exist.")
	_, err = app.Schemas.Update(parse.WithAuth(ctx, parse.Auth{Master: true, ReadOnly: true}), "Up", parse.SchemaUpdate{})
	wantError(t, "read-only", err, 119, "Permission denied")
	if got, _ := app.Objects.Get(ctx, "Up", o.ID); got.Fields["s"] != "keep" {
		t.Fatalf("a refused update changed the object: %v", got.Fields)
	}

	// One update: add fields, change options, delete fields (their
	// values go), set the CLP, add an index; existing same-type fields
	// are no-ops.
	s, err := app.Schemas.Update(ctx, "Up", parse.SchemaUpdate{
		Fields: map[string]parse.Field{
			"added":    {Type: "Date"},
			"s":        {Type: "String", Required: true, DefaultValue: json.RawMessage(`"d"`)},
			"objectId": {Type: "String"},
			"owner":    {Type: "Pointer", TargetClass: "_User"},
		},
		DeleteFields:          []string{"n", "fans", "loc"},
		ClassLevelPermissions: json.RawMessage(`{"get":{"*":true},"find":{"pointerFields":["owner"]},"ACL":{"*":{"read":true}}}`),
		Indexes:               map[string]map[string]any{"by_s": {"s": 1.0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := schemaJSON(t, s)
	if got := jsonOf(m["fields"]); got != `{"ACL":{"type":"ACL"},"added":{"type":"Date"},"createdAt":{"type":"Date"},"objectId":{"type":"String"},`+
		`"owner":{"targetClass":"_User","type":"Pointer"},"s":{"defaultValue":"d","required":true,"type":"String"},"updatedAt":{"type":"Date"}}` {
		t.Errorf("fields after update %s", got)
	}
	if got := jsonOf(m["classLevelPermissions"]); got != `{"ACL":{"*":{"read":true}},"addField":{},"count":{},"create":{},"delete":{},`+
		`"find":{"pointerFields":["owner"]},"get":{"*":true},"protectedFields":{},"update":{}}` {
		t.Errorf("CLP after update %s", got)
	}
	if got := jsonOf(m["indexes"]); got != `{"_id_":{"_id":1},"by_s":{"s":1}}` {
		t.Errorf("indexes after update %s", got)
	}
	got, err := app.Objects.Get(ctx, "Up", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Fields["n"]; ok || got.Fields["s"] != "keep" {
		t.Errorf("object after the update %v", got.Fields)
	}
	// The new default applies to new objects.
	o2, err := app.Objects.Create(ctx, "Up", map[string]any{})
	if err != nil || o2.Fields["s"] != "d" {
		t.Errorf("default after the update: %v, %v", o2, err)
	}

	// Indexes: added twice (102), dropped, _id_ stays listed; a deleted
	// field can come back with another type; a null CLP restores the
	// defaults.
	_, err = app.Schemas.Update(ctx, "Up", parse.SchemaUpdate{Indexes: map[string]map[string]any{"by_s": {"s": -1.0}}})
	wantError(t, "index added twice", err, 102, "Index by_s exists, cannot update.")
	_, err = app.Schemas.Update(ctx, "Up", parse.SchemaUpdate{DropIndexes: []string{"_id_"}})
	wantError(t, "dropping _id_", err, 102, "Index _id_ cannot be deleted.")
	s, err = app.Schemas.Update(ctx, "Up", parse.SchemaUpdate{
		DropIndexes:           []string{"by_s"},
		Fields:                map[string]parse.Field{"n": {Type: "String"}, "loc2": {Type: "GeoPoint"}},
		ClassLevelPermissions: json.RawMessage(`null`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Indexes != nil || s.Fields["n"].Type != "String" || canonical(t, s.ClassLevelPermissions) != canonical(t, []byte(parseDefaultCLP)) {
		t.Errorf("after dropping the index: %s", jsonOf(s))
	}
	// Replacing a field in one update: deleted and added with a new type.
	s, err = app.Schemas.Update(ctx, "Up", parse.SchemaUpdate{DeleteFields: []string{"n"}, Fields: map[string]parse.Field{"n": {Type: "Boolean"}}})
	if err != nil || s.Fields["n"].Type != "Boolean" {
		t.Errorf("replacing n: %v %v", s, err)
	}

	// The _User schema shows email protected, as the reference's answer
	// to a schema change does.
	s, err = app.Schemas.Update(ctx, "_User", parse.SchemaUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(s.ClassLevelPermissions), `"protectedFields":{"*":["email"]}`) {
		t.Errorf("_User CLP after an update %s", s.ClassLevelPermissions)
	}
	_, err = app.Schemas.Update(ctx, "_User", parse.SchemaUpdate{DeleteFields: []string{"username"}})
	wantError(t, "delete username", err, 136, "field username cannot be changed")
}

const parseDefaultCLP = `{"find":{"*":true},"count":{"*":true},"get":{"*":true},"create":{"*":true},"update":{"*":true},"delete":{"*":true},"addField":{"*":true},"protectedFields":{"*":[]},"ACL":{"*":{"read":true,"write":true}}}`

// canonical re-encodes a JSON document with its keys sorted.
func canonical(t *testing.T, doc []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return jsonOf(v)
}

func TestSchemasCLPValidation(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	if _, err := app.Schemas.Create(ctx, parse.ClassSchema{ClassName: "Guarded", Fields: map[string]parse.Field{
		"owner": {Type: "Pointer", TargetClass: "_User"}, "arr": {Type: "Array"}, "s": {Type: "String"},
		"p2": {Type: "Pointer", TargetClass: "Foo"},
	}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		clp string
		msg string // "" when valid
	}{
		{`{"find":{"*":true,"requiresAuthentication":true,"role:Admin":true,"abc123":true,"pointerFields":["owner","arr"]}}`, ""},
		{`{"readUserFields":["owner"],"writeUserFields":["arr"]}`, ""},
		{`{"protectedFields":{"*":["s"],"authenticated":["s"],"role:X":[],"userField:owner":["arr"],"abc":["s"]}}`, ""},
		{`{"ACL":{"*":{"read":true},"role:X":{"write":false},"currentUser":{"read":true}}}`, ""},
		{`{"find":[]}`, ""},
		{`{"find":{"role:":true}}`, ""},
		{`{"get":{"pointerFields":[]}}`, ""},
		{`"x"`, "0 is not a valid operation for class level permissions"},
		{`{"bogus":{}}`, "bogus is not a valid operation for class level permissions"},
		{`{"find":true}`, "'true' is not a valid value for class level permissions find - must be an object"},
		{`{"find":null}`, "'null' is not a valid value for class level permissions find - must be an object"},
		{`{"find":{"bad-key":true}}`, "'bad-key' is not a valid key for class level permissions"},
		{`{"find":{"":true}}`, "'' is not a valid key for class level permissions"},
		{`{"find":{"*":false}}`, "'false' is not a valid value for class level permissions acl find:*"},
		{`{"find":["x"]}`, "'x' is not a valid value for class level permissions acl find:0"},
		{`{"find":{"pointerFields":"owner"}}`, "'owner' is not a valid value for find[pointerFields] - expected an array."},
		{`{"find":{"pointerFields":["s"]}}`, "'s' is not a valid column for class level pointer permissions [object Object]"},
		{`{"find":{"pointerFields":["p2"]}}`, "'p2' is not a valid column for class level pointer permissions [object Object]"},
		{`{"readUserFields":"owner"}`, "'owner' is not a valid value for class level permissions readUserFields - must be an array"},
		{`{"writeUserFields":["nope"]}`, "'nope' is not a valid column for class level pointer permissions writeUserFields"},
		{`{"protectedFields":{"bad-key":["s"]}}`, "'bad-key' is not a valid key for class level permissions"},
		{`{"protectedFields":{"*":"s"}}`, "'s' is not a valid value for protectedFields[*] - expected an array."},
		{`{"protectedFields":{"*":["objectId"]}}`, "Default field 'objectId' can not be protected"},
		{`{"protectedFields":{"*":["nope"]}}`, "Field 'nope' in protectedFields:* does not exist"},
		{`{"ACL":{"*":true}}`, "'true' is not a valid value for class level permissions acl"},
		{`{"ACL":{"*":{"read":1,"write":"x"}}}`, "'1,x' is not a valid value for class level permissions acl"},
		{`{"ACL":{"*":{"delete":true,"read":true}}}`, "'delete' is not a valid key for class level permissions acl"},
	}
	for _, tt := range tests {
		_, err := app.Schemas.Update(ctx, "Guarded", parse.SchemaUpdate{ClassLevelPermissions: json.RawMessage(tt.clp)})
		if tt.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.clp, err)
			}
			continue
		}
		wantError(t, tt.clp, err, parse.InvalidJSON, tt.msg)
	}

	// With custom objectIds, any non-empty key names a user.
	custom, err := parse.New(ctx, parse.Config{AppID: "APP", MasterKey: "MASTER", Store: teststore.New(t), AllowCustomObjectID: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { custom.Close() })
	if _, err := custom.Schemas.Create(ctx, parse.ClassSchema{ClassName: "C",
		ClassLevelPermissions: json.RawMessage(`{"find":{"a-b_c":true}}`)}); err != nil {
		t.Errorf("custom user id key: %v", err)
	}
}

func TestSchemasDeleteAndPurge(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	for i := range 3 {
		if _, err := app.Objects.Create(ctx, "Doomed", map[string]any{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	wantError(t, "delete a non-empty class", app.Schemas.Delete(ctx, "Doomed", false), 255,
		"Class Doomed is not empty, contains 3 objects, cannot drop schema.")
	wantError(t, "delete an invalid class", app.Schemas.Delete(ctx, "bad-name", false), 103,
		"Invalid classname: bad-name, classnames can only have alphanumeric characters and _, and must start with an alpha character ")
	ro := parse.WithAuth(ctx, parse.Auth{Master: true, ReadOnly: true})
	wantError(t, "purge, read-only", app.Schemas.Purge(ro, "Doomed"), 119, "Permission denied")
	wantError(t, "delete, read-only", app.Schemas.Delete(ro, "Doomed", false), 119, "Permission denied")
	if err := app.Schemas.Purge(parse.WithAuth(ctx, parse.Auth{}), "Doomed"); !errors.Is(err, parse.ErrMasterKeyRequired) {
		t.Errorf("purge by a client: %v", err)
	}

	for _, class := range []string{"Doomed", "Nope", "bad-name"} {
		if err := app.Schemas.Purge(ctx, class); err != nil {
			t.Errorf("purge %s: %v", class, err)
		}
	}
	if n, err := app.Query("Doomed").Count(ctx); err != nil || n != 0 {
		t.Fatalf("after purge: %d objects, %v", n, err)
	}
	if _, err := app.Schemas.Get(ctx, "Doomed"); err != nil {
		t.Fatalf("purge dropped the schema: %v", err)
	}
	for _, class := range []string{"Doomed", "Doomed", "_Session"} {
		if err := app.Schemas.Delete(ctx, class, false); err != nil {
			t.Errorf("delete %s: %v", class, err)
		}
	}
	_, err := app.Schemas.Get(ctx, "Doomed")
	wantError(t, "get a deleted class", err, 103, "Class Doomed does not exist.")
}
