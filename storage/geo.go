package storage

// Geo conditions. Positions are in degrees (latitude in [-90, 90], longitude
// in [-180, 180]) and a stored GeoPoint is a field holding
// {"__type":"GeoPoint","latitude":lat,"longitude":lng}; a field holding
// anything else (missing, null, another type) matches no geo condition.
// Distances are great-circle distances on a sphere, in radians (the angle at
// the centre: multiply by the sphere's radius for a length, e.g. 6371.0 km or
// 3958.8 miles for the Earth).

// GeoPoint is a position in degrees.
type GeoPoint struct {
	Lat float64
	Lng float64
}

// Near holds when the field is a GeoPoint within MaxRadians of Point (edge
// included); MaxRadians 0 means any distance. It is Parse's $nearSphere.
//
// With Sort, a Near found at the top of a Query's Where (itself or inside
// top-level Ands) orders the results by increasing distance from Point
// (ties in insertion order) when the Query has no Order of its own: an explicit
// Order wins. A Near under Or, Nor or with Sort false orders nothing.
type Near struct {
	Field      string
	Point      GeoPoint
	MaxRadians float64
	Sort       bool
}

// WithinBox holds when the field is a GeoPoint inside the latitude/longitude
// rectangle spanned by the two corners, edges included. The box is planar in
// degrees and does not wrap: the corners may come in either order (the
// rectangle is the same), and a box never crosses the antimeridian (to cover
// one, use an Or of two boxes). It is Parse's $within + $box.
type WithinBox struct {
	Field     string
	SouthWest GeoPoint
	NorthEast GeoPoint
}

// WithinPolygon holds when the field is a GeoPoint inside the polygon whose
// vertices are Points (at least 3; the ring is closed implicitly), edges
// included. Containment is planar in (longitude, latitude) degrees, as
// PostgreSQL's point <@ polygon: edges are straight lines on the map, not
// great circles, and a polygon does not wrap around the antimeridian. It is
// Parse's $geoWithin + $polygon.
type WithinPolygon struct {
	Field  string
	Points []GeoPoint
}

// WithinCenterSphere holds when the field is a GeoPoint whose spherical
// distance from Center is at most Radians (edge included). It never sorts.
// It is Parse's $geoWithin + $centerSphere.
type WithinCenterSphere struct {
	Field   string
	Center  GeoPoint
	Radians float64
}

// IntersectsPoint holds when the field is a Polygon
// ({"__type":"Polygon","coordinates":[[lat,lng],...]}) containing Point,
// edges included, with WithinPolygon's planar rule. It is Parse's
// $geoIntersects + $point.
type IntersectsPoint struct {
	Field string
	Point GeoPoint
}

func (Near) cond()               {}
func (WithinBox) cond()          {}
func (WithinPolygon) cond()      {}
func (WithinCenterSphere) cond() {}
func (IntersectsPoint) cond()    {}

// SortingNear returns the Near with Sort that orders q's results, if any: the
// first one found in q.Where and its top-level Ands, when q.Order is empty.
func SortingNear(q Query) (Near, bool) {
	if len(q.Order) > 0 {
		return Near{}, false
	}
	return sortingNear(q.Where)
}

func sortingNear(c Cond) (Near, bool) {
	switch c := c.(type) {
	case Near:
		return c, c.Sort
	case And:
		for _, x := range c {
			if n, ok := sortingNear(x); ok {
				return n, true
			}
		}
	}
	return Near{}, false
}
