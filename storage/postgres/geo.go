package postgres

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/parsego/parse/storage"
)

// Geo conditions without PostGIS: the coordinates are read from "data" by
// the inlinable SQL functions of migration 0003_geo.sql, distances are
// haversine great-circle distances computed in SQL, and a circle is first
// narrowed to its latitude/longitude bounding box (plain float comparisons,
// cheap next to the trigonometry, and sargable by an expression index on the
// coordinates should one exist).

// geoEps widens bounding boxes (in degrees) so that float rounding in the
// box never excludes a point the exact test would keep.
const geoEps = 1e-9

func checkGeoPoint(p storage.GeoPoint) error {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || p.Lat < -90 || p.Lat > 90 || p.Lng < -180 || p.Lng > 180 {
		return fmt.Errorf("postgres: GeoPoint (%v, %v) out of range: %w", p.Lat, p.Lng, storage.ErrInvalidQuery)
	}
	return nil
}

func checkRadians(r float64) error {
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
		return fmt.Errorf("postgres: distance %v radians: %w", r, storage.ErrInvalidQuery)
	}
	return nil
}

// geoField returns the SQL expressions of a GeoPoint field's latitude and
// longitude (NULL when the field is not a GeoPoint), with their arguments.
// ok is false for the columns objectId, createdAt and updatedAt, which are
// never GeoPoints.
func (b *condBuilder) geoField(field string) (lat, lng frag, ok bool, err error) {
	t, err := resolveField(field)
	if err != nil || t.column != "" {
		return frag{}, frag{}, false, err
	}
	x, args := t.json()
	return frag{sql: b.s.nsq + ".parsego_lat(" + x + ")", args: args},
		frag{sql: b.s.nsq + ".parsego_lng(" + x + ")", args: args}, true, nil
}

// between is "x BETWEEN lo AND hi" on a float expression.
func between(x frag, lo, hi float64) frag {
	return frag{sql: x.sql + " BETWEEN ?::float8 AND ?::float8", args: append(append([]any{}, x.args...), lo, hi)}
}

// circleBox is the latitude/longitude box enclosing the spherical cap of
// radius r radians around c: a latitude band, and longitude ranges (none:
// every longitude, when the cap holds a pole; two when it crosses the
// antimeridian).
func circleBox(c storage.GeoPoint, r float64) (minLat, maxLat float64, lngs [][2]float64, all bool) {
	if r >= math.Pi {
		return -90, 90, nil, true
	}
	rDeg := r * 180 / math.Pi
	minLat, maxLat = c.Lat-rDeg-geoEps, c.Lat+rDeg+geoEps
	if maxLat >= 90 || minLat <= -90 {
		return max(minLat, -90), min(maxLat, 90), nil, false
	}
	ratio := math.Sin(r) / math.Cos(c.Lat*math.Pi/180)
	if ratio >= 1 {
		return minLat, maxLat, nil, false
	}
	dLng := math.Asin(ratio)*180/math.Pi + geoEps
	lo, hi := c.Lng-dLng, c.Lng+dLng
	switch {
	case lo < -180:
		lngs = [][2]float64{{lo + 360, 180}, {-180, hi}}
	case hi > 180:
		lngs = [][2]float64{{lo, 180}, {-180, hi - 360}}
	default:
		lngs = [][2]float64{{lo, hi}}
	}
	return minLat, maxLat, lngs, false
}

// withinDistance holds when the field is a GeoPoint at most r radians from
// c (r 0 with unbounded: any GeoPoint).
func (b *condBuilder) withinDistance(field string, c storage.GeoPoint, r float64, unbounded bool) (frag, error) {
	if err := checkGeoPoint(c); err != nil {
		return frag{}, err
	}
	if err := checkRadians(r); err != nil {
		return frag{}, err
	}
	lat, lng, ok, err := b.geoField(field)
	if err != nil || !ok {
		return fragFalse, err
	}
	if unbounded {
		return frag{sql: "(" + lat.sql + " IS NOT NULL AND " + lng.sql + " IS NOT NULL)", args: append(append([]any{}, lat.args...), lng.args...)}, nil
	}
	minLat, maxLat, lngs, all := circleBox(c, r)
	if all {
		return frag{sql: "(" + lat.sql + " IS NOT NULL AND " + lng.sql + " IS NOT NULL)", args: append(append([]any{}, lat.args...), lng.args...)}, nil
	}
	parts := []frag{between(lat, minLat, maxLat)}
	if lngs != nil {
		var ors []frag
		for _, rg := range lngs {
			ors = append(ors, between(lng, rg[0], rg[1]))
		}
		parts = append(parts, join("OR", ors))
	}
	dist := b.distance(c, lat, lng)
	parts = append(parts, frag{sql: dist.sql + " <= ?::float8", args: append(dist.args, r)})
	return join("AND", parts), nil
}

// distance is the spherical distance in radians from c to the field.
func (b *condBuilder) distance(c storage.GeoPoint, lat, lng frag) frag {
	args := []any{c.Lat, c.Lng}
	args = append(args, lat.args...)
	args = append(args, lng.args...)
	return frag{sql: b.s.nsq + ".parsego_distance(?::float8, ?::float8, " + lat.sql + ", " + lng.sql + ")", args: args}
}

func (b *condBuilder) near(c storage.Near) (frag, error) {
	return b.withinDistance(c.Field, c.Point, c.MaxRadians, c.MaxRadians == 0)
}

func (b *condBuilder) withinCenterSphere(c storage.WithinCenterSphere) (frag, error) {
	return b.withinDistance(c.Field, c.Center, c.Radians, false)
}

func (b *condBuilder) withinBox(c storage.WithinBox) (frag, error) {
	if err := checkGeoPoint(c.SouthWest); err != nil {
		return frag{}, err
	}
	if err := checkGeoPoint(c.NorthEast); err != nil {
		return frag{}, err
	}
	lat, lng, ok, err := b.geoField(c.Field)
	if err != nil || !ok {
		return fragFalse, err
	}
	sw, ne := c.SouthWest, c.NorthEast
	return join("AND", []frag{
		between(lat, min(sw.Lat, ne.Lat), max(sw.Lat, ne.Lat)),
		between(lng, min(sw.Lng, ne.Lng), max(sw.Lng, ne.Lng)),
	}), nil
}

// pgPolygon is the text form of a PostgreSQL polygon of (lng, lat) points.
func pgPolygon(pts []storage.GeoPoint) (string, error) {
	if len(pts) < 3 {
		return "", fmt.Errorf("postgres: polygon of %d points: %w", len(pts), storage.ErrInvalidQuery)
	}
	var s strings.Builder
	s.WriteByte('(')
	for i, p := range pts {
		if err := checkGeoPoint(p); err != nil {
			return "", err
		}
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString("(" + strconv.FormatFloat(p.Lng, 'g', -1, 64) + "," + strconv.FormatFloat(p.Lat, 'g', -1, 64) + ")")
	}
	s.WriteByte(')')
	return s.String(), nil
}

func (b *condBuilder) withinPolygon(c storage.WithinPolygon) (frag, error) {
	poly, err := pgPolygon(c.Points)
	if err != nil {
		return frag{}, err
	}
	lat, lng, ok, err := b.geoField(c.Field)
	if err != nil || !ok {
		return fragFalse, err
	}
	args := append(append([]any{}, lng.args...), lat.args...)
	return frag{sql: "point(" + lng.sql + ", " + lat.sql + ") <@ ?::text::polygon", args: append(args, poly)}, nil
}

func (b *condBuilder) intersectsPoint(c storage.IntersectsPoint) (frag, error) {
	if err := checkGeoPoint(c.Point); err != nil {
		return frag{}, err
	}
	t, err := resolveField(c.Field)
	if err != nil || t.column != "" {
		return fragFalse, err
	}
	x, args := t.json()
	return frag{
		sql:  b.s.nsq + ".parsego_polygon(" + x + ") @> point(?::float8, ?::float8)",
		args: append(args, c.Point.Lng, c.Point.Lat),
	}, nil
}

// nearOrder orders a Find by distance from the Near that sorts q (see
// storage.SortingNear), nearest first, ties by objectId.
func (s *Store) nearOrder(sel sq.SelectBuilder, q storage.Query) sq.SelectBuilder {
	n, ok := storage.SortingNear(q)
	if !ok {
		return sel
	}
	b := &condBuilder{s: s}
	lat, lng, ok, err := b.geoField(n.Field)
	if err != nil || !ok || checkGeoPoint(n.Point) != nil {
		return sel
	}
	d := b.distance(n.Point, lat, lng)
	return sel.OrderByClause(d.sql+` ASC NULLS LAST`, d.args...).OrderBy(`"objectId" ASC`)
}
