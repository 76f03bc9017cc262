package sqlkit

import (
	"fmt"
	"math"

	"github.com/parsego/parse/storage"
)

// CheckGeoPoint rejects a point off the globe.
func CheckGeoPoint(p storage.GeoPoint) error {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || p.Lat < -90 || p.Lat > 90 || p.Lng < -180 || p.Lng > 180 {
		return fmt.Errorf("GeoPoint (%v, %v) out of range: %w", p.Lat, p.Lng, storage.ErrInvalidQuery)
	}
	return nil
}

// CheckRadians rejects a distance that is not a finite non-negative angle.
func CheckRadians(r float64) error {
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
		return fmt.Errorf("distance %v radians: %w", r, storage.ErrInvalidQuery)
	}
	return nil
}
