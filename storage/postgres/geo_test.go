package postgres_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parsego/parse/storage"
)

// haversine is the reference distance in radians, in Go.
func haversine(a, b storage.GeoPoint) float64 {
	rad := math.Pi / 180
	dLat, dLng := (b.Lat-a.Lat)*rad, (b.Lng-a.Lng)*rad
	h := math.Pow(math.Sin(dLat/2), 2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Pow(math.Sin(dLng/2), 2)
	return 2 * math.Asin(math.Min(1, math.Sqrt(h)))
}

// TestGeoRandom checks Near, WithinCenterSphere and the distance order on
// 20k random points against a brute-force computation in Go, with centers
// chosen to stress the bounding-box prefilter (the poles, the
// antimeridian, whole-sphere radii), and checks with EXPLAIN that an
// expression index on the latitude serves the prefilter.
func TestGeoRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20k rows")
	}
	t.Parallel()
	ctx := t.Context()
	s, pool, ns, tr := tracedStore(t)
	const class = "Spots"
	if _, err := s.CreateClass(ctx, storage.Class{Name: class, Fields: map[string]storage.Field{"loc": {Type: "GeoPoint"}}}); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	pts := make(map[string]storage.GeoPoint, n)
	ids := make([]string, 0, n)
	lats := make([]float64, 0, n)
	lngs := make([]float64, 0, n)
	for i := range n {
		// Uniform on the sphere, plus clusters at the poles and on the
		// antimeridian.
		lat := math.Asin(2*rng.Float64()-1) * 180 / math.Pi
		lng := rng.Float64()*360 - 180
		switch i % 10 {
		case 0:
			lat = 90 - rng.Float64()*2
		case 1:
			lat = -90 + rng.Float64()*2
		case 2:
			lng = 180 - rng.Float64()*2
			if i%20 == 2 {
				lng = -lng
			}
		}
		id := "p" + itoa(i)
		pts[id] = storage.GeoPoint{Lat: lat, Lng: lng}
		ids, lats, lngs = append(ids, id), append(lats, lat), append(lngs, lng)
	}
	table := pgx.Identifier{ns, class}.Sanitize()
	_, err := pool.Exec(ctx, `INSERT INTO `+table+` ("objectId", "createdAt", "updatedAt", "data")
		SELECT id, now(), now(), jsonb_build_object('loc', jsonb_build_object('__type', 'GeoPoint', 'latitude', lat, 'longitude', lng))
		FROM unnest($1::text[], $2::float8[], $3::float8[]) AS u(id, lat, lng)`, ids, lats, lngs)
	if err != nil {
		t.Fatal(err)
	}
	// An expression index on the latitude, as an operator would add for a
	// large class: the prefilter's latitude band is sargable on it.
	_, err = pool.Exec(ctx, `CREATE INDEX spots_lat ON `+table+` ((`+pgx.Identifier{ns}.Sanitize()+`.parsego_lat("data"->'loc')))`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE `+table); err != nil {
		t.Fatal(err)
	}

	centers := []storage.GeoPoint{
		{Lat: 0, Lng: 0}, {Lat: 90, Lng: 0}, {Lat: -90, Lng: 45}, {Lat: 89.5, Lng: 179.9}, {Lat: -88, Lng: -179.99},
		{Lat: 10, Lng: 180}, {Lat: -20, Lng: -180}, {Lat: 45, Lng: 179.5}, {Lat: 60, Lng: -170},
	}
	for range 6 {
		centers = append(centers, storage.GeoPoint{Lat: rng.Float64()*180 - 90, Lng: rng.Float64()*360 - 180})
	}
	radii := []float64{0.001, 0.02, 0.1, 0.5, 1.5, 3.0, 3.2}
	for _, c := range centers {
		for _, r := range radii {
			var want []string
			for id, p := range pts {
				d := haversine(c, p)
				if math.Abs(d-r) < 1e-9 {
					continue // too close to the edge to compare two float computations
				}
				if d <= r {
					want = append(want, id)
				}
			}
			for _, cond := range []storage.Cond{
				storage.Near{Field: "loc", Point: c, MaxRadians: r},
				storage.WithinCenterSphere{Field: "loc", Center: c, Radians: r},
			} {
				got, err := s.Find(ctx, class, storage.Query{Where: cond})
				if err != nil {
					t.Fatalf("%+v: %v", cond, err)
				}
				var gotIDs []string
				for _, o := range got {
					if math.Abs(haversine(c, pts[o.ID])-r) >= 1e-9 {
						gotIDs = append(gotIDs, o.ID)
					}
				}
				slices.Sort(gotIDs)
				slices.Sort(want)
				if !slices.Equal(gotIDs, want) {
					t.Errorf("%+v: %d objects, want %d", cond, len(gotIDs), len(want))
				}
			}
		}
	}

	// The distance order, with a limit.
	c := storage.GeoPoint{Lat: -15, Lng: 179}
	got, err := s.Find(ctx, class, storage.Query{Where: storage.Near{Field: "loc", Point: c, MaxRadians: 0.3, Sort: true}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	all := make([]string, 0, len(pts))
	for id, p := range pts {
		if haversine(c, p) <= 0.3 {
			all = append(all, id)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		di, dj := haversine(c, pts[all[i]]), haversine(c, pts[all[j]])
		if di != dj {
			return di < dj
		}
		return all[i] < all[j]
	})
	if len(got) != 50 {
		t.Fatalf("near with limit 50: %d objects", len(got))
	}
	for i, o := range got {
		if math.Abs(haversine(c, pts[o.ID])-haversine(c, pts[all[i]])) > 1e-12 {
			t.Errorf("near order: #%d is %s at %v, want %s at %v", i, o.ID, haversine(c, pts[o.ID]), all[i], haversine(c, pts[all[i]]))
			break
		}
	}

	// The plan: the latitude band uses the index, no sequential scan.
	root, sql, plan := explainLast(t, pool, tr)
	if !root.usesIndex("spots_lat") || root.find("Seq Scan", class) != nil {
		t.Errorf("near does not use the latitude index:\n%s\n%s", sql, plan)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
