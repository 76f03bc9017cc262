package sqlite

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// Geo conditions: coordinates are read from "data" with json_extract,
// distances are computed by parsego_distance and polygons tested by
// parsego_in_polygon and parsego_polygon_has (funcs.go), with the rules
// storage/postgres follows.

// geoField returns the SQL expressions of a GeoPoint field's latitude and
// longitude (NULL when the field is not a GeoPoint with numeric
// coordinates). ok is false for the columns, which are never GeoPoints.
func geoField(field string) (lat, lng string, ok bool, err error) {
	t, err := sqlkit.ResolveField(field)
	if err != nil || t.Column != "" {
		return "", "", false, err
	}
	coord := func(name string) string {
		return "(CASE WHEN " + extract(t.Segs, "__type") + " = 'GeoPoint' AND json_type(\"data\", " + pathLit(t.Segs, name) +
			") IN ('integer', 'real') THEN " + extract(t.Segs, name) + " END)"
	}
	return coord("latitude"), coord("longitude"), true, nil
}

// distance is the spherical distance in radians from c to the field.
func distance(c storage.GeoPoint, lat, lng string) sqlkit.Frag {
	return sqlkit.Frag{SQL: "parsego_distance(?, ?, " + lat + ", " + lng + ")", Args: []any{c.Lat, c.Lng}}
}

// withinDistance holds when the field is a GeoPoint at most r radians from
// c (unbounded: any GeoPoint).
func withinDistance(field string, c storage.GeoPoint, r float64, unbounded bool) (sqlkit.Frag, error) {
	if err := sqlkit.CheckGeoPoint(c); err != nil {
		return sqlkit.Frag{}, err
	}
	if err := sqlkit.CheckRadians(r); err != nil {
		return sqlkit.Frag{}, err
	}
	lat, lng, ok, err := geoField(field)
	if err != nil || !ok {
		return sqlkit.False, err
	}
	if unbounded || r >= math.Pi {
		return sqlkit.Frag{SQL: "(" + lat + " IS NOT NULL AND " + lng + " IS NOT NULL)"}, nil
	}
	d := distance(c, lat, lng)
	return sqlkit.Frag{SQL: d.SQL + " <= ?", Args: append(d.Args, r)}, nil
}

func near(c storage.Near) (sqlkit.Frag, error) {
	return withinDistance(c.Field, c.Point, c.MaxRadians, c.MaxRadians == 0)
}

func withinBox(c storage.WithinBox) (sqlkit.Frag, error) {
	if err := sqlkit.CheckGeoPoint(c.SouthWest); err != nil {
		return sqlkit.Frag{}, err
	}
	if err := sqlkit.CheckGeoPoint(c.NorthEast); err != nil {
		return sqlkit.Frag{}, err
	}
	lat, lng, ok, err := geoField(c.Field)
	if err != nil || !ok {
		return sqlkit.False, err
	}
	sw, ne := c.SouthWest, c.NorthEast
	return sqlkit.Frag{
		SQL:  "(" + lat + " BETWEEN ? AND ? AND " + lng + " BETWEEN ? AND ?)",
		Args: []any{min(sw.Lat, ne.Lat), max(sw.Lat, ne.Lat), min(sw.Lng, ne.Lng), max(sw.Lng, ne.Lng)},
	}, nil
}

func withinPolygon(c storage.WithinPolygon) (sqlkit.Frag, error) {
	if len(c.Points) < 3 {
		return sqlkit.Frag{}, fmt.Errorf("sqlite: polygon of %d points: %w", len(c.Points), storage.ErrInvalidQuery)
	}
	pairs := make([][2]float64, len(c.Points))
	for i, p := range c.Points {
		if err := sqlkit.CheckGeoPoint(p); err != nil {
			return sqlkit.Frag{}, err
		}
		pairs[i] = [2]float64{p.Lng, p.Lat}
	}
	lat, lng, ok, err := geoField(c.Field)
	if err != nil || !ok {
		return sqlkit.False, err
	}
	poly, _ := json.Marshal(pairs)
	return sqlkit.Frag{SQL: "parsego_in_polygon(" + lng + ", " + lat + ", ?)", Args: []any{string(poly)}}, nil
}

func intersectsPoint(c storage.IntersectsPoint) (sqlkit.Frag, error) {
	if err := sqlkit.CheckGeoPoint(c.Point); err != nil {
		return sqlkit.Frag{}, err
	}
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil || t.Column != "" {
		return sqlkit.False, err
	}
	return sqlkit.Frag{SQL: "parsego_polygon_has(" + rawJSON(t.Segs) + ", ?, ?)", Args: []any{c.Point.Lng, c.Point.Lat}}, nil
}

// nearOrder is the ORDER BY of a Find sorted by distance from the Near that
// sorts q (see storage.SortingNear), nearest first, ties in insertion order; ""
// when none sorts it.
func nearOrder(q storage.Query) (sqlkit.Frag, bool) {
	n, ok := storage.SortingNear(q)
	if !ok || sqlkit.CheckGeoPoint(n.Point) != nil {
		return sqlkit.Frag{}, false
	}
	lat, lng, ok, err := geoField(n.Field)
	if err != nil || !ok {
		return sqlkit.Frag{}, false
	}
	d := distance(n.Point, lat, lng)
	return sqlkit.Frag{SQL: " ORDER BY " + d.SQL + ` ASC NULLS LAST, ` + tiebreak(false), Args: d.Args}, true
}
