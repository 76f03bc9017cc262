package parse_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parsego/parse"
)

// TestGeoQueries runs the typed geo query API end to end on PostgreSQL,
// with the JS SDK test's cities (sf–oakland 13 km, sf–san jose 68 km,
// sf–la 559 km, sf–nyc 4129 km).
func TestGeoQueries(t *testing.T) {
	t.Parallel()
	app, ctx := newApp(t), context.Background()
	cities := []struct {
		name     string
		lat, lng float64
	}{
		{"sf", 37.7749, -122.4194}, {"oakland", 37.8044, -122.2712}, {"sanjose", 37.3382, -121.8863},
		{"la", 34.0522, -118.2437}, {"nyc", 40.7128, -74.006},
	}
	for _, c := range cities {
		if _, err := app.Objects.Create(ctx, "City", map[string]any{"name": c.name, "location": parse.GeoPoint{Latitude: c.lat, Longitude: c.lng}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := app.Objects.Create(ctx, "City", map[string]any{"name": "nowhere"}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Objects.Create(ctx, "Zone", map[string]any{"name": "bay",
		"area": parse.Polygon{Coordinates: [][2]float64{{38.2, -122.8}, {38.2, -121.5}, {37.0, -121.5}, {37.0, -122.8}}}}); err != nil {
		t.Fatal(err)
	}
	sf := parse.GeoPoint{Latitude: 37.7749, Longitude: -122.4194}
	names := func(q *parse.Query, sorted bool) []string {
		t.Helper()
		objs, err := q.Find(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range objs {
			s, _ := o.Fields["name"].(string)
			out = append(out, s)
		}
		if !sorted {
			slices.Sort(out)
		}
		return out
	}
	for _, tt := range []struct {
		what   string
		q      *parse.Query
		sorted bool
		want   []string
	}{
		{"near", app.Query("City").Near("location", sf), true, []string{"sf", "oakland", "sanjose", "la", "nyc"}},
		{"near limit 2", app.Query("City").Near("location", sf).Limit(2), true, []string{"sf", "oakland"}},
		{"near, explicit order", app.Query("City").Near("location", sf).Order("-name"), true, []string{"sf", "sanjose", "oakland", "nyc", "la"}},
		{"within 20 km", app.Query("City").WithinKilometers("location", sf, 20, true), true, []string{"sf", "oakland"}},
		{"within 100 km unsorted", app.Query("City").WithinKilometers("location", sf, 100, false), false, []string{"oakland", "sanjose", "sf"}},
		{"within 400 miles", app.Query("City").WithinMiles("location", sf, 400, true), true, []string{"sf", "oakland", "sanjose", "la"}},
		{"within 0.1 radians", app.Query("City").WithinRadians("location", sf, 0.1, true), true, []string{"sf", "oakland", "sanjose", "la"}},
		{"box", app.Query("City").WithinGeoBox("location", parse.GeoPoint{Latitude: 33, Longitude: -123}, parse.GeoPoint{Latitude: 38, Longitude: -121}), false,
			[]string{"oakland", "sanjose", "sf"}},
		{"polygon", app.Query("City").WithinPolygon("location", parse.GeoPoint{Latitude: 38.2, Longitude: -122.8}, parse.GeoPoint{Latitude: 38.2, Longitude: -121.5},
			parse.GeoPoint{Latitude: 37.0, Longitude: -121.5}, parse.GeoPoint{Latitude: 37.0, Longitude: -122.8}), false, []string{"oakland", "sanjose", "sf"}},
		{"polygon contains sf", app.Query("Zone").PolygonContains("area", sf), false, []string{"bay"}},
		{"polygon contains la", app.Query("Zone").PolygonContains("area", parse.GeoPoint{Latitude: 34.0522, Longitude: -118.2437}), false, nil},
	} {
		if got := names(tt.q, tt.sorted); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.what, got, tt.want)
		}
	}
	n, err := app.Query("City").WithinKilometers("location", sf, 100, true).Count(ctx)
	if err != nil || n != 3 {
		t.Errorf("count within 100 km = %d, %v; want 3", n, err)
	}
	_, err = app.Query("City").Near("location", parse.GeoPoint{Latitude: 91}).Find(ctx)
	wantCode(t, err, parse.InvalidJSON)
	_, err = app.Query("City").WithinPolygon("location", sf, sf).Find(ctx)
	wantCode(t, err, parse.InvalidJSON)
}
