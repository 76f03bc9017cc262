-- Migration 3: geo queries without PostGIS (geo.go).
--
-- GeoPoints live in "data" as {"__type":"GeoPoint","latitude":..,"longitude":..}
-- and Polygons as {"__type":"Polygon","coordinates":[[lat,lng],...]}.
-- The scalar functions are single-expression SQL functions, IMMUTABLE and
-- not STRICT, so that the planner inlines them into the calling statement.

-- parsego_lat and parsego_lng return a GeoPoint value's coordinates, NULL
-- for anything that is not a GeoPoint with numeric coordinates.
CREATE FUNCTION {{ns}}.parsego_lat(v jsonb) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN v->>'__type' = 'GeoPoint' AND jsonb_typeof(v->'latitude') = 'number'
		THEN (v->'latitude')::float8 END
$$;

CREATE FUNCTION {{ns}}.parsego_lng(v jsonb) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN v->>'__type' = 'GeoPoint' AND jsonb_typeof(v->'longitude') = 'number'
		THEN (v->'longitude')::float8 END
$$;

-- parsego_distance is the great-circle distance in radians between two
-- positions in degrees (haversine; exact to well under a metre on Earth for
-- every pair of points, including near-antipodal ones thanks to the clamp).
CREATE FUNCTION {{ns}}.parsego_distance(lat1 float8, lng1 float8, lat2 float8, lng2 float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT 2 * asin(least(1::float8, sqrt(
		power(sin(radians(lat2 - lat1) / 2), 2) +
		cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lng2 - lng1) / 2), 2))))
$$;

-- parsego_polygon turns a stored Polygon into a PostgreSQL polygon of
-- (longitude, latitude) points, NULL for anything else.
CREATE FUNCTION {{ns}}.parsego_polygon(v jsonb) RETURNS polygon
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN v->>'__type' = 'Polygon' AND jsonb_typeof(v->'coordinates') = 'array'
			AND jsonb_array_length(v->'coordinates') >= 3
			AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v->'coordinates') c
				WHERE jsonb_typeof(c) <> 'array' OR jsonb_typeof(c->0) <> 'number' OR jsonb_typeof(c->1) <> 'number')
		THEN (SELECT ('(' || string_agg('(' || (c->>1) || ',' || (c->>0) || ')', ',' ORDER BY i) || ')')::polygon
			FROM jsonb_array_elements(v->'coordinates') WITH ORDINALITY AS e(c, i))
	END
$$;
