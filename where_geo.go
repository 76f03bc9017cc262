package parse

import (
	"math"

	"github.com/parsego/parse/storage"
)

// Geo queries: $nearSphere (with $maxDistance and its variants), $within
// $box, $geoWithin $polygon / $centerSphere and $geoIntersects $point,
// decoded into the storage package's geo conditions.

// Earth radii used to turn $maxDistanceInMiles/InKilometers into radians,
// the values Parse's SDKs use.
const (
	EarthRadiusKilometers = 6371.0
	EarthRadiusMiles      = 3958.8
)

// decodeGeo decodes the geo operator op of the constraint m on field. The
// $maxDistance operators belong to $nearSphere and yield no condition of
// their own (nil, nil) next to it.
func decodeGeo(field, op string, m map[string]any) (storage.Cond, error) {
	switch op {
	case "$nearSphere":
		p, ok, err := geoPointArg(m[op])
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, NewError(InvalidJSON, "bad $nearSphere value; should be a GeoPoint")
		}
		maxRad, err := maxDistance(m)
		if err != nil {
			return nil, err
		}
		return storage.Near{Field: field, Point: p, MaxRadians: maxRad, Sort: true}, nil
	case "$maxDistance", "$maxDistanceInRadians", "$maxDistanceInMiles", "$maxDistanceInKilometers":
		if _, ok := m["$nearSphere"]; !ok {
			return nil, NewError(InvalidQuery, "%s requires $nearSphere", op)
		}
		return nil, nil
	case "$within":
		w, ok := m[op].(map[string]any)
		if !ok || len(w) != 1 || w["$box"] == nil {
			return nil, NewError(InvalidQuery, "bad $within value; use $box")
		}
		box, ok := w["$box"].([]any)
		if !ok || len(box) != 2 {
			return nil, NewError(InvalidJSON, "bad $within value; $box should be an array of 2 GeoPoints")
		}
		var corners [2]storage.GeoPoint
		for i, e := range box {
			p, ok, err := geoPointArg(e)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, NewError(InvalidJSON, "bad $within value; $box should be an array of 2 GeoPoints")
			}
			corners[i] = p
		}
		return storage.WithinBox{Field: field, SouthWest: corners[0], NorthEast: corners[1]}, nil
	case "$geoWithin":
		w, ok := m[op].(map[string]any)
		if !ok || len(w) != 1 {
			return nil, NewError(InvalidQuery, "bad $geoWithin value; use $polygon or $centerSphere")
		}
		if v, ok := w["$polygon"]; ok {
			return decodeWithinPolygon(field, v)
		}
		if v, ok := w["$centerSphere"]; ok {
			return decodeCenterSphere(field, v)
		}
		return nil, NewError(InvalidQuery, "bad $geoWithin value; use $polygon or $centerSphere")
	case "$geoIntersects":
		w, ok := m[op].(map[string]any)
		if !ok || len(w) != 1 || w["$point"] == nil {
			return nil, NewError(InvalidQuery, "bad $geoIntersect value; use $point")
		}
		p, ok, err := geoPointArg(w["$point"])
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, NewError(InvalidJSON, "bad $geoIntersect value; $point should be GeoPoint")
		}
		return storage.IntersectsPoint{Field: field, Point: p}, nil
	}
	return nil, NewError(InvalidQuery, "bad constraint: %s", op)
}

// maxDistance is the bound of a $nearSphere in radians (0: none). With
// several of the $maxDistance operators the smallest bound holds.
func maxDistance(m map[string]any) (float64, error) {
	bound := math.Inf(1)
	for op, radius := range map[string]float64{
		"$maxDistance":             1,
		"$maxDistanceInRadians":    1,
		"$maxDistanceInMiles":      EarthRadiusMiles,
		"$maxDistanceInKilometers": EarthRadiusKilometers,
	} {
		v, present := m[op]
		if !present {
			continue
		}
		d, ok := v.(float64)
		if !ok || math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
			return 0, NewError(InvalidJSON, "bad %s value; should be a non-negative number", op)
		}
		bound = min(bound, d/radius)
	}
	switch {
	case math.IsInf(bound, 1):
		return 0, nil
	case bound == 0:
		// Zero means "no bound" to the store: a zero distance keeps
		// only the point itself.
		return math.SmallestNonzeroFloat64, nil
	}
	return bound, nil
}

func decodeWithinPolygon(field string, v any) (storage.Cond, error) {
	var pts []any
	switch x := v.(type) {
	case map[string]any:
		// A Polygon's coordinates are [latitude, longitude] pairs, as
		// everywhere else in Parse's encoding.
		if x["__type"] != "Polygon" {
			return nil, NewError(InvalidJSON, "bad $geoWithin value; $polygon should be Polygon object or Array of Parse.GeoPoint's")
		}
		coords, ok := x["coordinates"].([]any)
		if !ok || len(coords) < 3 {
			return nil, NewError(InvalidJSON, "bad $geoWithin value; Polygon.coordinates should contain at least 3 lon/lat pairs")
		}
		out := make([]storage.GeoPoint, len(coords))
		for i, c := range coords {
			pair, ok := c.([]any)
			if !ok || len(pair) != 2 {
				return nil, NewError(InvalidJSON, "bad $geoWithin value")
			}
			lat, ok1 := pair[0].(float64)
			lng, ok2 := pair[1].(float64)
			if !ok1 || !ok2 {
				return nil, NewError(InvalidJSON, "bad $geoWithin value")
			}
			if err := (GeoPoint{Latitude: lat, Longitude: lng}).Validate(); err != nil {
				return nil, err
			}
			out[i] = storage.GeoPoint{Lat: lat, Lng: lng}
		}
		return storage.WithinPolygon{Field: field, Points: out}, nil
	case []any:
		if len(x) < 3 {
			return nil, NewError(InvalidJSON, "bad $geoWithin value; $polygon should contain at least 3 GeoPoints")
		}
		pts = x
	default:
		return nil, NewError(InvalidJSON, "bad $geoWithin value; $polygon should be Polygon object or Array of Parse.GeoPoint's")
	}
	out := make([]storage.GeoPoint, len(pts))
	for i, e := range pts {
		p, ok, err := geoPointArg(e)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, NewError(InvalidJSON, "bad $geoWithin value")
		}
		out[i] = p
	}
	return storage.WithinPolygon{Field: field, Points: out}, nil
}

func decodeCenterSphere(field string, v any) (storage.Cond, error) {
	cs, ok := v.([]any)
	if !ok || len(cs) < 2 {
		return nil, NewError(InvalidJSON, "bad $geoWithin value; $centerSphere should be an array of Parse.GeoPoint and distance")
	}
	p, ok, err := geoPointArg(cs[0])
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, NewError(InvalidJSON, "bad $geoWithin value; $centerSphere geo point invalid")
	}
	d, ok := cs[1].(float64)
	if !ok || math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
		return nil, NewError(InvalidJSON, "bad $geoWithin value; $centerSphere distance invalid")
	}
	return storage.WithinCenterSphere{Field: field, Center: p, Radians: d}, nil
}

// geoPointArg reads a point operand: a GeoPoint ({"__type":"GeoPoint",...}
// or a Go GeoPoint) or, as MongoDB and the reference accept, a
// [longitude, latitude] pair. ok is false for anything else; err reports a
// point out of range.
func geoPointArg(v any) (storage.GeoPoint, bool, error) {
	var g GeoPoint
	switch x := v.(type) {
	case GeoPoint:
		g = x
	case *GeoPoint:
		if x == nil {
			return storage.GeoPoint{}, false, nil
		}
		g = *x
	case map[string]any:
		if x["__type"] != "GeoPoint" {
			return storage.GeoPoint{}, false, nil
		}
		lat, ok1 := x["latitude"].(float64)
		lng, ok2 := x["longitude"].(float64)
		if !ok1 || !ok2 {
			return storage.GeoPoint{}, false, nil
		}
		g = GeoPoint{Latitude: lat, Longitude: lng}
	case []any:
		if len(x) != 2 {
			return storage.GeoPoint{}, false, nil
		}
		lng, ok1 := x[0].(float64)
		lat, ok2 := x[1].(float64)
		if !ok1 || !ok2 {
			return storage.GeoPoint{}, false, nil
		}
		g = GeoPoint{Latitude: lat, Longitude: lng}
	default:
		return storage.GeoPoint{}, false, nil
	}
	if math.IsNaN(g.Latitude) || math.IsNaN(g.Longitude) {
		return storage.GeoPoint{}, false, nil
	}
	if err := g.Validate(); err != nil {
		return storage.GeoPoint{}, false, err
	}
	return storage.GeoPoint{Lat: g.Latitude, Lng: g.Longitude}, true, nil
}

func geoPointJSON(p GeoPoint) map[string]any {
	return map[string]any{"__type": "GeoPoint", "latitude": p.Latitude, "longitude": p.Longitude}
}

// Near requires field to be a GeoPoint and orders the results by distance
// from p, nearest first, unless Order is set ($nearSphere).
func (q *Query) Near(field string, p GeoPoint) *Query {
	return q.Where(map[string]any{field: map[string]any{"$nearSphere": geoPointJSON(p)}})
}

// WithinRadians requires field to be a GeoPoint at most maxDistance radians
// from p; sorted orders the results by distance as Near does.
func (q *Query) WithinRadians(field string, p GeoPoint, maxDistance float64, sorted bool) *Query {
	if !sorted {
		return q.Where(map[string]any{field: map[string]any{"$geoWithin": map[string]any{
			"$centerSphere": []any{geoPointJSON(p), maxDistance}}}})
	}
	return q.Where(map[string]any{field: map[string]any{"$nearSphere": geoPointJSON(p), "$maxDistance": maxDistance}})
}

// WithinKilometers is WithinRadians with a distance in kilometres.
func (q *Query) WithinKilometers(field string, p GeoPoint, km float64, sorted bool) *Query {
	return q.WithinRadians(field, p, km/EarthRadiusKilometers, sorted)
}

// WithinMiles is WithinRadians with a distance in miles.
func (q *Query) WithinMiles(field string, p GeoPoint, miles float64, sorted bool) *Query {
	return q.WithinRadians(field, p, miles/EarthRadiusMiles, sorted)
}

// WithinGeoBox requires field to be a GeoPoint in the box of the two
// corners ($within $box).
func (q *Query) WithinGeoBox(field string, southWest, northEast GeoPoint) *Query {
	return q.Where(map[string]any{field: map[string]any{"$within": map[string]any{
		"$box": []any{geoPointJSON(southWest), geoPointJSON(northEast)}}}})
}

// WithinPolygon requires field to be a GeoPoint inside the polygon of
// points ($geoWithin $polygon).
func (q *Query) WithinPolygon(field string, points ...GeoPoint) *Query {
	pts := make([]any, len(points))
	for i, p := range points {
		pts[i] = geoPointJSON(p)
	}
	return q.Where(map[string]any{field: map[string]any{"$geoWithin": map[string]any{"$polygon": pts}}})
}

// PolygonContains requires the Polygon field to contain p ($geoIntersects
// $point).
func (q *Query) PolygonContains(field string, p GeoPoint) *Query {
	return q.Where(map[string]any{field: map[string]any{"$geoIntersects": map[string]any{"$point": geoPointJSON(p)}}})
}
