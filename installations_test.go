package parse_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/parsego/parse"
)

// installationsIn returns "<installationId>|<deviceToken>" of every
// installation, sorted.
func installationsIn(t *testing.T, app *parse.App) []string {
	t.Helper()
	objs, err := app.Query(parse.ClassInstallation).Find(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		iid, _ := o.Fields["installationId"].(string)
		tok, _ := o.Fields["deviceToken"].(string)
		out = append(out, iid+"|"+tok)
	}
	slices.Sort(out)
	return out
}

func TestInstallationDedupe(t *testing.T) {
	t.Parallel()
	type save struct {
		header string // the client's X-Parse-Installation-Id
		fields map[string]any
		code   int  // expected error code, 0 for none
		create bool // expected: a new installation
	}
	tests := []struct {
		name  string
		saves []save
		want  []string
	}{
		{"installationId is lowercased and identifies the device", []save{
			{fields: map[string]any{"deviceType": "android", "installationId": "ABC"}, create: true},
			{fields: map[string]any{"deviceType": "android", "installationId": "abc", "badge": 2}},
		}, []string{"abc|"}},
		{"the client's installation id header identifies the device", []save{
			{header: "dev1", fields: map[string]any{"deviceType": "ios", "deviceToken": "t1"}, create: true},
			{header: "dev1", fields: map[string]any{"deviceType": "ios", "installationId": "dev1"}, create: true},
		}, []string{"dev1|", "|t1"}},
		{"a token without installationId is found by the token", []save{
			{fields: map[string]any{"deviceType": "ios", "deviceToken": "t2"}, create: true},
			{fields: map[string]any{"deviceType": "ios", "deviceToken": "t2", "badge": 1}},
		}, []string{"|t2"}},
		{"a 64-character token is lowercased", []save{
			{fields: map[string]any{"deviceType": "ios", "deviceToken": "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"}, create: true},
		}, []string{"|abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"}},
		{"the same device known by token and by id merges into the token's row", []save{
			{fields: map[string]any{"deviceType": "ios", "deviceToken": "t3"}, create: true},
			{fields: map[string]any{"deviceType": "ios", "installationId": "i3"}, create: true},
			{fields: map[string]any{"deviceType": "ios", "installationId": "i3", "deviceToken": "t3"}},
		}, []string{"i3|t3"}},
		{"a token moving to another installation leaves the old one", []save{
			{fields: map[string]any{"deviceType": "ios", "installationId": "i4", "deviceToken": "t4"}, create: true},
			{fields: map[string]any{"deviceType": "ios", "installationId": "i5", "deviceToken": "t4"}, create: true},
		}, []string{"i5|t4"}},
		{"a token on several installations needs an installationId", []save{
			{fields: map[string]any{"deviceType": "ios", "installationId": "i6", "deviceToken": "t6", "appIdentifier": "a"}, create: true},
			{fields: map[string]any{"deviceType": "ios", "installationId": "i6b", "deviceToken": "t6", "appIdentifier": "b"}, create: true},
			{fields: map[string]any{"deviceType": "ios", "deviceToken": "t6"}, code: parse.InvalidInstallationID},
		}, []string{"i6b|t6", "i6|t6"}},
		{"refusals", []save{
			{fields: map[string]any{"deviceType": "ios"}, code: parse.MissingRequiredField},
			{fields: map[string]any{"installationId": "i7"}, code: parse.MissingRequiredField},
			{fields: map[string]any{"deviceType": "ios", "installationId": "i7", "channels": []any{"ok", "1bad"}}, code: parse.InvalidChannelName},
			{fields: map[string]any{"deviceType": "ios", "installationId": "i7", "channels": []any{"", "Giants_2"}, "timeZone": "Mars/Base"}, code: parse.IncorrectType},
			{fields: map[string]any{"deviceType": "ios", "installationId": "i7", "channels": []any{"", "Giants_2"}, "timeZone": "America/New_York"}, create: true},
		}, []string{"i7|"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := newApp(t)
			for i, s := range tt.saves {
				ctx := parse.WithAuth(context.Background(), parse.Auth{InstallationID: s.header})
				o, created, err := app.Installations.Save(ctx, s.fields)
				wantCode(t, err, s.code)
				if err == nil && (created != s.create || o.ID == "") {
					t.Fatalf("save %d: created %v, want %v", i, created, s.create)
				}
			}
			if got := installationsIn(t, app); !slices.Equal(got, tt.want) {
				t.Fatalf("installations %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInstallationUpdateRules(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	client := parse.WithAuth(ctx, parse.Auth{})
	a, _, err := app.Installations.Save(client, map[string]any{"deviceType": "ios", "deviceToken": "ta"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := app.Installations.Save(client, map[string]any{"deviceType": "ios", "installationId": "ib", "deviceToken": "tb"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id     string
		fields map[string]any
		code   int
	}{
		{a.ID, map[string]any{"deviceType": "android"}, parse.ChangedImmutableField},
		{a.ID, map[string]any{"deviceToken": "other"}, parse.ChangedImmutableField},
		{b.ID, map[string]any{"installationId": "changed"}, parse.ChangedImmutableField},
		{"nosuchid00", map[string]any{"deviceType": "ios"}, parse.ObjectNotFound},
		{a.ID, map[string]any{"channels": parse.AddUnique("x", "y")}, 0},
	} {
		if _, err := app.Objects.Update(client, parse.ClassInstallation, tt.id, tt.fields); parse.ErrorCode(err) != tt.code {
			t.Errorf("update %s %v: %v, want code %d", tt.id, tt.fields, err, tt.code)
		}
	}
	// b takes a's token: they are the same device, and the row that held
	// the token (a) survives, updated, as the reference merges them.
	o, err := app.Objects.Update(client, parse.ClassInstallation, b.ID, map[string]any{"installationId": "ib", "deviceToken": "ta"})
	if err != nil {
		t.Fatal(err)
	}
	if got := installationsIn(t, app); o.ID != a.ID || !slices.Equal(got, []string{"ib|ta"}) {
		t.Fatalf("updated %s (a is %s), installations %q", o.ID, a.ID, got)
	}
	wantCode(t, app.Objects.Delete(client, parse.ClassInstallation, a.ID), parse.OperationForbidden)
	if err := app.Objects.Delete(ctx, parse.ClassInstallation, a.ID); err != nil {
		t.Fatal(err)
	}
}

func TestInstallationConcurrentFirstSaves(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	ctx := parse.WithAuth(context.Background(), parse.Auth{})
	// The class exists first: its creation is another race, the schema's.
	if _, _, err := app.Installations.Save(ctx, map[string]any{"deviceType": "ios", "installationId": "other"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	created := make(chan bool, 8)
	for i := range 8 {
		wg.Go(func() {
			_, c, err := app.Installations.Save(ctx, map[string]any{"deviceType": "android", "installationId": "same", "badge": float64(i)})
			if err != nil {
				t.Error(err)
			}
			created <- c
		})
	}
	wg.Wait()
	close(created)
	n := 0
	for c := range created {
		if c {
			n++
		}
	}
	if got := installationsIn(t, app); n != 1 || !slices.Equal(got, []string{"other|", "same|"}) {
		t.Fatalf("%d creates, installations %q", n, got)
	}
}
