package parse

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/parsego/parse/storage"
)

func TestDecodeWhereGeo(t *testing.T) {
	t.Parallel()
	const sf = `{"__type":"GeoPoint","latitude":37.7749,"longitude":-122.4194}`
	p := storage.GeoPoint{Lat: 37.7749, Lng: -122.4194}
	km, mi := 637.1, 395.88 // float64 arithmetic, as the decoder's
	near := func(r float64) storage.Near { return storage.Near{Field: "loc", Point: p, MaxRadians: r, Sort: true} }
	tests := []struct {
		where string
		want  storage.Cond
	}{
		{`{"loc":{"$nearSphere":` + sf + `}}`, near(0)},
		{`{"loc":{"$nearSphere":` + sf + `,"$maxDistance":0.1}}`, near(0.1)},
		{`{"loc":{"$nearSphere":` + sf + `,"$maxDistanceInRadians":0.2}}`, near(0.2)},
		{`{"loc":{"$nearSphere":` + sf + `,"$maxDistanceInKilometers":637.1}}`, near(km / 6371.0)},
		{`{"loc":{"$nearSphere":` + sf + `,"$maxDistanceInMiles":395.88}}`, near(mi / 3958.8)},
		{`{"loc":{"$nearSphere":` + sf + `,"$maxDistance":0.5,"$maxDistanceInRadians":0.2}}`, near(0.2)},
		{`{"loc":{"$nearSphere":` + sf + `,"$maxDistance":0}}`, near(math.SmallestNonzeroFloat64)},
		{`{"loc":{"$nearSphere":[-122.4194,37.7749]}}`, near(0)},
		{`{"loc":{"$within":{"$box":[{"__type":"GeoPoint","latitude":33,"longitude":-123},{"__type":"GeoPoint","latitude":38,"longitude":-121}]}}}`,
			storage.WithinBox{Field: "loc", SouthWest: storage.GeoPoint{Lat: 33, Lng: -123}, NorthEast: storage.GeoPoint{Lat: 38, Lng: -121}}},
		{`{"loc":{"$geoWithin":{"$polygon":[{"__type":"GeoPoint","latitude":1,"longitude":2},{"__type":"GeoPoint","latitude":3,"longitude":4},{"__type":"GeoPoint","latitude":5,"longitude":6}]}}}`,
			storage.WithinPolygon{Field: "loc", Points: []storage.GeoPoint{{Lat: 1, Lng: 2}, {Lat: 3, Lng: 4}, {Lat: 5, Lng: 6}}}},
		{`{"loc":{"$geoWithin":{"$polygon":[[2,1],[4,3],[6,5]]}}}`,
			storage.WithinPolygon{Field: "loc", Points: []storage.GeoPoint{{Lat: 1, Lng: 2}, {Lat: 3, Lng: 4}, {Lat: 5, Lng: 6}}}},
		{`{"loc":{"$geoWithin":{"$polygon":{"__type":"Polygon","coordinates":[[1,2],[3,4],[5,6]]}}}}`,
			storage.WithinPolygon{Field: "loc", Points: []storage.GeoPoint{{Lat: 1, Lng: 2}, {Lat: 3, Lng: 4}, {Lat: 5, Lng: 6}}}},
		{`{"loc":{"$geoWithin":{"$centerSphere":[` + sf + `,0.05]}}}`, storage.WithinCenterSphere{Field: "loc", Center: p, Radians: 0.05}},
		{`{"loc":{"$geoWithin":{"$centerSphere":[[-122.4194,37.7749],0.05]}}}`, storage.WithinCenterSphere{Field: "loc", Center: p, Radians: 0.05}},
		{`{"area":{"$geoIntersects":{"$point":` + sf + `}}}`, storage.IntersectsPoint{Field: "area", Point: p}},
		{`{"loc":` + sf + `}`, storage.Cmp{Field: "loc", Op: storage.Eq, Value: json.RawMessage(`{"__type":"GeoPoint","latitude":37.7749,"longitude":-122.4194}`)}},
	}
	for _, tt := range tests {
		var w map[string]any
		if err := json.Unmarshal([]byte(tt.where), &w); err != nil {
			t.Fatal(err)
		}
		got, err := decodeWhere(w)
		if err != nil {
			t.Errorf("%s: %v", tt.where, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", tt.where, got, tt.want)
		}
	}
}

func TestDecodeWhereGeoErrors(t *testing.T) {
	t.Parallel()
	const pt = `{"__type":"GeoPoint","latitude":1,"longitude":2}`
	tests := []struct {
		where string
		code  int
	}{
		{`{"loc":{"$nearSphere":1}}`, InvalidJSON},
		{`{"loc":{"$nearSphere":{"__type":"GeoPoint","latitude":91,"longitude":0}}}`, InvalidJSON},
		{`{"loc":{"$nearSphere":{"__type":"GeoPoint","latitude":0,"longitude":-181}}}`, InvalidJSON},
		{`{"loc":{"$nearSphere":` + pt + `,"$maxDistance":"far"}}`, InvalidJSON},
		{`{"loc":{"$nearSphere":` + pt + `,"$maxDistanceInMiles":-1}}`, InvalidJSON},
		{`{"loc":{"$maxDistance":1}}`, InvalidQuery},
		{`{"loc":{"$within":{"$box":[` + pt + `]}}}`, InvalidJSON},
		{`{"loc":{"$within":{"$box":[` + pt + `,1]}}}`, InvalidJSON},
		{`{"loc":{"$within":{"$circle":1}}}`, InvalidQuery},
		{`{"loc":{"$geoWithin":{"$polygon":[` + pt + `,` + pt + `]}}}`, InvalidJSON},
		{`{"loc":{"$geoWithin":{"$polygon":[` + pt + `,` + pt + `,"x"]}}}`, InvalidJSON},
		{`{"loc":{"$geoWithin":{"$polygon":5}}}`, InvalidJSON},
		{`{"loc":{"$geoWithin":{"$polygon":{"__type":"Polygon","coordinates":[[1,2],[3,4]]}}}}`, InvalidJSON},
		{`{"loc":{"$geoWithin":{"$centerSphere":[` + pt + `]}}}`, InvalidJSON},
		{`{"loc":{"$geoWithin":{"$centerSphere":[1,0.1]}}}`, InvalidJSON},
		{`{"loc":{"$geoWithin":{"$centerSphere":[` + pt + `,-1]}}}`, InvalidJSON},
		{`{"loc":{"$geoWithin":{"$centerSphere":[` + pt + `,"x"]}}}`, InvalidJSON},
		{`{"loc":{"$geoWithin":{"$box":[]}}}`, InvalidQuery},
		{`{"loc":{"$geoWithin":1}}`, InvalidQuery},
		{`{"area":{"$geoIntersects":{"$point":[1,2,3]}}}`, InvalidJSON},
		{`{"area":{"$geoIntersects":{"$point":{"__type":"GeoPoint","latitude":-95,"longitude":0}}}}`, InvalidJSON},
		{`{"area":{"$geoIntersects":{}}}`, InvalidQuery},
	}
	for _, tt := range tests {
		var w map[string]any
		if err := json.Unmarshal([]byte(tt.where), &w); err != nil {
			t.Fatal(err)
		}
		if _, err := decodeWhere(w); ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want code %d", tt.where, err, tt.code)
		}
	}
}
