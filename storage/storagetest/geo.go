package storagetest

import (
	"errors"
	"strconv"
	"testing"

	"github.com/parsego/parse/storage"
)

// geoClass is the class of the geo fixture.
const geoClass = "Place"

// earthKm is the Earth's mean radius: km / earthKm is a distance in radians.
const earthKm = 6371.0

func geoPt(lat, lng float64) string {
	return `{"__type":"GeoPoint","latitude":` + strconv.FormatFloat(lat, 'g', -1, 64) +
		`,"longitude":` + strconv.FormatFloat(lng, 'g', -1, 64) + `}`
}

// geoFixture: cities with their known distances (great circle, km):
// sf–oak 13.4, sf–la 559, sf–nyc 4129, suva–apia 1151 (across the
// antimeridian), np1–np2 22.2 (across the north pole); a1 and a2 hold
// Polygons ([lat,lng] pairs), g-none, g-null and g-obj no GeoPoint.
var geoFixture = []struct{ id, data string }{
	{"sf", `{"name":"sf","loc":` + geoPt(37.7749, -122.4194) + `}`},
	{"oak", `{"name":"oak","loc":` + geoPt(37.8044, -122.2712) + `}`},
	{"la", `{"name":"la","loc":` + geoPt(34.0522, -118.2437) + `}`},
	{"nyc", `{"name":"nyc","loc":` + geoPt(40.7128, -74.006) + `}`},
	{"lon", `{"name":"lon","loc":` + geoPt(51.5074, -0.1278) + `}`},
	{"syd", `{"name":"syd","loc":` + geoPt(-33.8688, 151.2093) + `}`},
	{"suva", `{"name":"suva","loc":` + geoPt(-18.1248, 178.4501) + `}`},
	{"apia", `{"name":"apia","loc":` + geoPt(-13.8333, -171.75) + `}`},
	{"np1", `{"name":"np1","loc":` + geoPt(89.9, 0) + `}`},
	{"np2", `{"name":"np2","loc":` + geoPt(89.9, 180) + `}`},
	{"sp", `{"name":"sp","loc":` + geoPt(-90, 0) + `}`},
	{"g-none", `{"name":"none"}`},
	{"g-null", `{"name":"null","loc":null}`},
	{"g-obj", `{"name":"obj","loc":{"latitude":"37.7749","longitude":"x"}}`},
	{"a1", `{"name":"a1","area":{"__type":"Polygon","coordinates":[[0,0],[0,10],[10,10],[10,0],[0,0]]}}`},
	{"a2", `{"name":"a2","area":{"__type":"Polygon","coordinates":[[51,-1],[52,-1],[52,1],[51,1],[51,-1]]}}`},
}

var geoCities = []string{"sf", "oak", "la", "nyc", "lon", "syd", "suva", "apia", "np1", "np2", "sp"}

func geoStore(t *testing.T, o opener) storage.Store {
	t.Helper()
	ctx, s := o.fresh(t)
	mustClass(t, ctx, s, geoClass, "name", "String", "loc", "GeoPoint", "area", "Polygon")
	objs := make([]storage.Object, len(geoFixture))
	for i, f := range geoFixture {
		objs[i] = storage.Object{ID: f.id, CreatedAt: at(i), UpdatedAt: at(i), Data: raw(f.data)}
	}
	mustInsert(t, ctx, s, geoClass, objs...)
	return s
}

func gp(lat, lng float64) storage.GeoPoint { return storage.GeoPoint{Lat: lat, Lng: lng} }

func near(lat, lng, km float64) storage.Near {
	return storage.Near{Field: "loc", Point: gp(lat, lng), MaxRadians: km / earthKm}
}

func sphere(lat, lng, km float64) storage.WithinCenterSphere {
	return storage.WithinCenterSphere{Field: "loc", Center: gp(lat, lng), Radians: km / earthKm}
}

func testGeo(t *testing.T, o opener) {
	t.Run("Conditions", func(t *testing.T) {
		s := geoStore(t, o)
		bay := []storage.GeoPoint{gp(38.2, -122.8), gp(38.2, -121.5), gp(37.0, -121.5), gp(37.0, -122.8)}
		runCondCases(t, s, geoClass, []condCase{
			{"NearWithin20km", near(37.7749, -122.4194, 20), []string{"sf", "oak"}},
			{"NearWithin600km", near(37.7749, -122.4194, 600), []string{"sf", "oak", "la"}},
			{"NearWithin500km", near(37.7749, -122.4194, 500), []string{"sf", "oak"}},
			{"NearUnbounded", storage.Near{Field: "loc", Point: gp(37.7749, -122.4194)}, geoCities},
			{"NearNothingClose", near(0, 0, 637), nil},
			{"NearAntimeridian", near(-18.1248, 178.4501, 1200), []string{"suva", "apia"}},
			{"NearAntimeridianWest", near(-13.8333, -171.75, 1200), []string{"suva", "apia"}},
			{"NearAntimeridianSmall", near(-18.1248, 178.4501, 1100), []string{"suva"}},
			{"NearNorthPole", near(90, 0, 20), []string{"np1", "np2"}},
			{"NearNorthPoleTooSmall", near(90, 0, 5), nil},
			{"NearAcrossThePole", near(89.9, 0, 30), []string{"np1", "np2"}},
			{"NearSouthPole", near(-89.99, 123, 5), []string{"sp"}},
			{"NearWholeSphere", near(0, 0, 25000), geoCities},
			{"NearOnAnotherField", storage.Near{Field: "name", Point: gp(0, 0)}, nil},
			{"NearOnMissingField", storage.Near{Field: "nowhere", Point: gp(0, 0)}, nil},
			{"NearOnColumn", storage.Near{Field: "createdAt", Point: gp(0, 0)}, nil},
			{"NotNear", storage.Nor{near(37.7749, -122.4194, 600)},
				[]string{"nyc", "lon", "syd", "suva", "apia", "np1", "np2", "sp", "g-none", "g-null", "g-obj", "a1", "a2"}},
			{"NearAndName", storage.And{near(37.7749, -122.4194, 600), eq("name", "la")}, []string{"la"}},
			{"CenterSphere", sphere(37.7749, -122.4194, 600), []string{"sf", "oak", "la"}},
			{"CenterSphereAntimeridian", sphere(-16, -179.9, 1000), []string{"suva", "apia"}},
			{"CenterSphereZero", sphere(37.7749, -122.4194, 0), []string{"sf"}},
			{"Box", storage.WithinBox{Field: "loc", SouthWest: gp(33, -123), NorthEast: gp(38, -121)}, []string{"sf", "oak"}},
			{"BoxCornersSwapped", storage.WithinBox{Field: "loc", SouthWest: gp(38, -121), NorthEast: gp(33, -123)}, []string{"sf", "oak"}},
			{"BoxEdgesInclusive", storage.WithinBox{Field: "loc", SouthWest: gp(37.7749, -122.4194), NorthEast: gp(37.7749, -122.4194)}, []string{"sf"}},
			{"BoxBigger", storage.WithinBox{Field: "loc", SouthWest: gp(30, -125), NorthEast: gp(45, -70)}, []string{"sf", "oak", "la", "nyc"}},
			{"BoxEmpty", storage.WithinBox{Field: "loc", SouthWest: gp(0, 0), NorthEast: gp(1, 1)}, nil},
			{"Polygon", storage.WithinPolygon{Field: "loc", Points: bay}, []string{"sf", "oak"}},
			{"PolygonTriangle", storage.WithinPolygon{Field: "loc", Points: []storage.GeoPoint{gp(30, -125), gp(45, -125), gp(30, -70)}}, []string{"sf", "oak", "la"}},
			{"PolygonEdgeInclusive", storage.WithinPolygon{Field: "loc", Points: []storage.GeoPoint{gp(37, -123), gp(37.7749, -123), gp(37.7749, -122), gp(37, -122)}}, []string{"sf"}},
			{"PolygonNothing", storage.WithinPolygon{Field: "loc", Points: []storage.GeoPoint{gp(0, 0), gp(1, 0), gp(1, 1)}}, nil},
			{"IntersectsInside", storage.IntersectsPoint{Field: "area", Point: gp(5, 5)}, []string{"a1"}},
			{"IntersectsLondon", storage.IntersectsPoint{Field: "area", Point: gp(51.5074, -0.1278)}, []string{"a2"}},
			{"IntersectsEdge", storage.IntersectsPoint{Field: "area", Point: gp(0, 5)}, []string{"a1"}},
			{"IntersectsOutside", storage.IntersectsPoint{Field: "area", Point: gp(5, 15)}, nil},
			{"IntersectsOnGeoPointField", storage.IntersectsPoint{Field: "loc", Point: gp(37.7749, -122.4194)}, nil},
		})
	})

	t.Run("NearOrder", func(t *testing.T) {
		ctx, s := t.Context(), geoStore(t, o)
		sorted := func(lat, lng, km float64) storage.Near {
			n := near(lat, lng, km)
			n.Sort = true
			return n
		}
		all := storage.Near{Field: "loc", Point: gp(37.7749, -122.4194), Sort: true}
		wantIDs(t, "near SF", mustFind(t, ctx, s, geoClass, storage.Query{Where: all}),
			"sf", "oak", "la", "nyc", "np2", "np1", "apia", "lon", "suva", "syd", "sp")
		wantIDs(t, "near SF limit 3", mustFind(t, ctx, s, geoClass, storage.Query{Where: all, Limit: 3}), "sf", "oak", "la")
		wantIDs(t, "near SF skip 2 limit 2", mustFind(t, ctx, s, geoClass, storage.Query{Where: all, Skip: 2, Limit: 2}), "la", "nyc")
		wantIDs(t, "near Suva within 4000km", mustFind(t, ctx, s, geoClass, storage.Query{Where: sorted(-18.1248, 178.4501, 4000)}),
			"suva", "apia", "syd")
		wantIDs(t, "near in And", mustFind(t, ctx, s, geoClass, storage.Query{Where: storage.And{ne("name", "oak"), sorted(37.7749, -122.4194, 5000)}}),
			"sf", "la", "nyc")
		wantIDs(t, "explicit order wins", mustFind(t, ctx, s, geoClass, storage.Query{Where: sorted(37.7749, -122.4194, 5000), Order: []storage.Sort{desc("name")}}),
			"sf", "oak", "nyc", "la")
		wantIDSet(t, "near unsorted", mustFind(t, ctx, s, geoClass, storage.Query{Where: near(37.7749, -122.4194, 5000)}),
			"sf", "oak", "la", "nyc")
		if n := mustCount(t, ctx, s, geoClass, storage.Query{Where: all, Limit: 2}); n != int64(len(geoCities)) {
			t.Errorf("Count(near SF) = %d, want %d", n, len(geoCities))
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		ctx, s := t.Context(), geoStore(t, o)
		for _, c := range []struct {
			name  string
			where storage.Cond
		}{
			{"LatitudeOutOfRange", storage.Near{Field: "loc", Point: gp(91, 0)}},
			{"NegativeDistance", storage.WithinCenterSphere{Field: "loc", Center: gp(0, 0), Radians: -1}},
			{"PolygonTwoPoints", storage.WithinPolygon{Field: "loc", Points: []storage.GeoPoint{gp(0, 0), gp(1, 1)}}},
			{"BoxLongitudeOutOfRange", storage.WithinBox{Field: "loc", SouthWest: gp(0, -181), NorthEast: gp(1, 1)}},
		} {
			_, err := s.Find(ctx, geoClass, storage.Query{Where: c.where})
			if !errors.Is(err, storage.ErrInvalidQuery) {
				t.Errorf("%s: Find error = %v, want ErrInvalidQuery", c.name, err)
			}
		}
	})
}
