package postgres

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
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

// geoField returns the SQL expressions of a GeoPoint field's latitude and
// longitude (NULL when the field is not a GeoPoint), with their arguments.
// ok is false for the columns objectId, createdAt and updatedAt, which are
// never GeoPoints.
func (b *condBuilder) geoField(field string) (lat, lng sqlkit.Frag, ok bool, err error) {
	t, err := sqlkit.ResolveField(field)
	if err != nil || t.Column != "" {
		return sqlkit.Frag{}, sqlkit.Frag{}, false, err
	}
	x, args := targetJSON(t)
	return sqlkit.Frag{SQL: b.s.nsq + ".parsego_lat(" + x + ")", Args: args},
		sqlkit.Frag{SQL: b.s.nsq + ".parsego_lng(" + x + ")", Args: args}, true, nil
}

// between is "x BETWEEN lo AND hi" on a float expression.
func between(x sqlkit.Frag, lo, hi float64) sqlkit.Frag {
	return sqlkit.Frag{SQL: x.SQL + " BETWEEN ?::float8 AND ?::float8", Args: append(append([]any{}, x.Args...), lo, hi)}
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
func (b *condBuilder) withinDistance(field string, c storage.GeoPoint, r float64, unbounded bool) (sqlkit.Frag, error) {
	if err := sqlkit.CheckGeoPoint(c); err != nil {
		return sqlkit.Frag{}, err
	}
	if err := sqlkit.CheckRadians(r); err != nil {
		return sqlkit.Frag{}, err
	}
	lat, lng, ok, err := b.geoField(field)
	if err != nil || !ok {
		return sqlkit.False, err
	}
	if unbounded {
		return sqlkit.Frag{SQL: "(" + lat.SQL + " IS NOT NULL AND " + lng.SQL + " IS NOT NULL)", Args: append(append([]any{}, lat.Args...), lng.Args...)}, nil
	}
	minLat, maxLat, lngs, all := circleBox(c, r)
	if all {
		return sqlkit.Frag{SQL: "(" + lat.SQL + " IS NOT NULL AND " + lng.SQL + " IS NOT NULL)", Args: append(append([]any{}, lat.Args...), lng.Args...)}, nil
	}
	parts := []sqlkit.Frag{between(lat, minLat, maxLat)}
	if lngs != nil {
		var ors []sqlkit.Frag
		for _, rg := range lngs {
			ors = append(ors, between(lng, rg[0], rg[1]))
		}
		parts = append(parts, sqlkit.Join("OR", ors))
	}
	dist := b.distance(c, lat, lng)
	parts = append(parts, sqlkit.Frag{SQL: dist.SQL + " <= ?::float8", Args: append(dist.Args, r)})
	return sqlkit.Join("AND", parts), nil
}

// distance is the spherical distance in radians from c to the field.
func (b *condBuilder) distance(c storage.GeoPoint, lat, lng sqlkit.Frag) sqlkit.Frag {
	args := []any{c.Lat, c.Lng}
	args = append(args, lat.Args...)
	args = append(args, lng.Args...)
	return sqlkit.Frag{SQL: b.s.nsq + ".parsego_distance(?::float8, ?::float8, " + lat.SQL + ", " + lng.SQL + ")", Args: args}
}

func (b *condBuilder) near(c storage.Near) (sqlkit.Frag, error) {
	return b.withinDistance(c.Field, c.Point, c.MaxRadians, c.MaxRadians == 0)
}

func (b *condBuilder) withinCenterSphere(c storage.WithinCenterSphere) (sqlkit.Frag, error) {
	return b.withinDistance(c.Field, c.Center, c.Radians, false)
}

func (b *condBuilder) withinBox(c storage.WithinBox) (sqlkit.Frag, error) {
	if err := sqlkit.CheckGeoPoint(c.SouthWest); err != nil {
		return sqlkit.Frag{}, err
	}
	if err := sqlkit.CheckGeoPoint(c.NorthEast); err != nil {
		return sqlkit.Frag{}, err
	}
	lat, lng, ok, err := b.geoField(c.Field)
	if err != nil || !ok {
		return sqlkit.False, err
	}
	sw, ne := c.SouthWest, c.NorthEast
	return sqlkit.Join("AND", []sqlkit.Frag{
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
		if err := sqlkit.CheckGeoPoint(p); err != nil {
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

func (b *condBuilder) withinPolygon(c storage.WithinPolygon) (sqlkit.Frag, error) {
	poly, err := pgPolygon(c.Points)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	lat, lng, ok, err := b.geoField(c.Field)
	if err != nil || !ok {
		return sqlkit.False, err
	}
	args := append(append([]any{}, lng.Args...), lat.Args...)
	return sqlkit.Frag{SQL: "point(" + lng.SQL + ", " + lat.SQL + ") <@ ?::text::polygon", Args: append(args, poly)}, nil
}

func (b *condBuilder) intersectsPoint(c storage.IntersectsPoint) (sqlkit.Frag, error) {
	if err := sqlkit.CheckGeoPoint(c.Point); err != nil {
		return sqlkit.Frag{}, err
	}
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil || t.Column != "" {
		return sqlkit.False, err
	}
	x, args := targetJSON(t)
	return sqlkit.Frag{
		SQL:  b.s.nsq + ".parsego_polygon(" + x + ") @> point(?::float8, ?::float8)",
		Args: append(args, c.Point.Lng, c.Point.Lat),
	}, nil
}

// nearOrder orders a Find by distance from the Near that sorts q (see
// storage.SortingNear), nearest first, ties in insertion order.
func (s *Store) nearOrder(sel sq.SelectBuilder, q storage.Query) sq.SelectBuilder {
	n, ok := storage.SortingNear(q)
	if !ok {
		return sel
	}
	b := &condBuilder{s: s}
	lat, lng, ok, err := b.geoField(n.Field)
	if err != nil || !ok || sqlkit.CheckGeoPoint(n.Point) != nil {
		return sel
	}
	d := b.distance(n.Point, lat, lng)
	return sel.OrderByClause(d.SQL+` ASC NULLS LAST`, d.Args...).OrderBy(tiebreak(false))
}
