-- Migration 1: the schema table and the helper functions the adapter's
-- statements call. {{ns}} is the quoted namespace, {{ns_literal}} the same
-- name as a string literal; every reference is qualified, so nothing here
-- depends on search_path.
--
-- Errors raised with SQLSTATE PGT01 mean "an operator met a value of the
-- wrong type"; the adapter maps them to storage.ErrTypeMismatch.

CREATE TABLE {{ns}}."_SCHEMA" (
	"className" text PRIMARY KEY,
	"schema" jsonb NOT NULL
);

-- parsego_set sets the value at path, creating missing (or null)
-- intermediate objects, unlike jsonb_set which only creates the last key.
CREATE FUNCTION {{ns}}.parsego_set(doc jsonb, path text[], val jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	i int;
	t text;
BEGIN
	FOR i IN 1 .. cardinality(path) - 1 LOOP
		t := jsonb_typeof(doc #> path[1:i]);
		IF t IS NULL OR t = 'null' THEN
			doc := jsonb_set(doc, path[1:i], '{}');
		ELSIF t NOT IN ('object', 'array') THEN
			RAISE EXCEPTION USING ERRCODE = 'PGT01',
				MESSAGE = format('cannot set %s: %s is a %s', array_to_string(path, '.'), array_to_string(path[1:i], '.'), t);
		END IF;
	END LOOP;
	RETURN jsonb_set(doc, path, val);
END
$$;

-- parsego_array returns the array at path: [] when it is missing or null,
-- an error when it is something else.
CREATE FUNCTION {{ns}}.parsego_array(doc jsonb, path text[], op text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	cur jsonb := doc #> path;
	t text := coalesce(jsonb_typeof(cur), 'null');
BEGIN
	IF t = 'null' THEN
		RETURN '[]';
	ELSIF t <> 'array' THEN
		RAISE EXCEPTION USING ERRCODE = 'PGT01',
			MESSAGE = format('%s on %s: the stored value is a %s, not an array', op, array_to_string(path, '.'), t);
	END IF;
	RETURN cur;
END
$$;

-- parsego_increment adds amount to the number at path (missing or null:
-- 0), in float8 arithmetic as JavaScript does.
CREATE FUNCTION {{ns}}.parsego_increment(doc jsonb, path text[], amount jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	cur jsonb := doc #> path;
	t text := coalesce(jsonb_typeof(cur), 'null');
BEGIN
	IF jsonb_typeof(amount) <> 'number' THEN
		RAISE EXCEPTION USING ERRCODE = 'PGT01',
			MESSAGE = format('Increment on %s: the amount is a %s, not a number', array_to_string(path, '.'), jsonb_typeof(amount));
	END IF;
	IF t = 'null' THEN
		cur := '0';
	ELSIF t <> 'number' THEN
		RAISE EXCEPTION USING ERRCODE = 'PGT01',
			MESSAGE = format('Increment on %s: the stored value is a %s, not a number', array_to_string(path, '.'), t);
	END IF;
	RETURN {{ns}}.parsego_set(doc, path, to_jsonb(cur::float8 + amount::float8));
END
$$;

-- parsego_add appends the elements of vals to the array at path.
CREATE FUNCTION {{ns}}.parsego_add(doc jsonb, path text[], vals jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT {{ns}}.parsego_set(doc, path, {{ns}}.parsego_array(doc, path, 'Add') || vals)
$$;

-- parsego_add_unique makes the array at path a set: its elements once
-- each, in the order they first appear, followed by the elements of vals it
-- did not hold yet (each once). Duplicates already stored collapse, as the
-- reference server's AddUnique does.
CREATE FUNCTION {{ns}}.parsego_add_unique(doc jsonb, path text[], vals jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	cur jsonb := (
		SELECT coalesce(jsonb_agg(d.value ORDER BY d.n), '[]'::jsonb)
		FROM (SELECT DISTINCT ON (x.value) x.value, x.n
		      FROM jsonb_array_elements({{ns}}.parsego_array(doc, path, 'AddUnique')) WITH ORDINALITY AS x(value, n)
		      ORDER BY x.value, x.n) d);
	e jsonb;
BEGIN
	FOR e IN SELECT value FROM jsonb_array_elements(vals) LOOP
		IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(cur) x WHERE x.value = e) THEN
			cur := cur || jsonb_build_array(e);
		END IF;
	END LOOP;
	RETURN {{ns}}.parsego_set(doc, path, cur);
END
$$;

-- parsego_remove removes from the array at path every element equal to an
-- element of vals; a missing field becomes [].
CREATE FUNCTION {{ns}}.parsego_remove(doc jsonb, path text[], vals jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT {{ns}}.parsego_set(doc, path, coalesce(
		(SELECT jsonb_agg(x.value ORDER BY x.n)
		 FROM jsonb_array_elements({{ns}}.parsego_array(doc, path, 'Remove')) WITH ORDINALITY AS x(value, n)
		 WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(vals) r WHERE r.value = x.value)),
		'[]'::jsonb))
$$;

-- parsego_array_has_any reports whether arr is an array with an element
-- equal (exactly, not by containment) to one of vals.
CREATE FUNCTION {{ns}}.parsego_array_has_any(arr jsonb, vals jsonb[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN jsonb_typeof(arr) = 'array'
		THEN EXISTS (SELECT 1 FROM jsonb_array_elements(arr) e WHERE e.value = ANY (vals))
		ELSE false END
$$;

-- parsego_array_has_all reports whether arr is an array holding an element
-- equal to each of vals.
CREATE FUNCTION {{ns}}.parsego_array_has_all(arr jsonb, vals jsonb[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN jsonb_typeof(arr) = 'array'
		THEN NOT EXISTS (SELECT 1 FROM unnest(vals) v
			WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(arr) e WHERE e.value = v))
		ELSE false END
$$;

-- parsego_delete_joins deletes the rows of the given owning objects from
-- the join tables of the class's Relation fields, as _SCHEMA lists them. It
-- runs in the statement that deletes the objects, so a delete stays one
-- round trip and never sees a stale list of relation fields.
CREATE FUNCTION {{ns}}.parsego_delete_joins(class text, ids text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	f text;
	n integer := 0;
	c integer;
BEGIN
	IF ids IS NULL OR cardinality(ids) = 0 THEN
		RETURN 0;
	END IF;
	FOR f IN
		SELECT fl.key FROM {{ns}}."_SCHEMA" s, jsonb_each(s."schema" -> 'fields') fl
		WHERE s."className" = class AND fl.value ->> 'type' = 'Relation'
	LOOP
		IF to_regclass(format('%I.%I', {{ns_literal}}, '_Join:' || f || ':' || class)) IS NOT NULL THEN
			EXECUTE format('DELETE FROM %I.%I WHERE "owningId" = ANY ($1)', {{ns_literal}}, '_Join:' || f || ':' || class) USING ids;
			GET DIAGNOSTICS c = ROW_COUNT;
			n := n + c;
		END IF;
	END LOOP;
	RETURN n;
END
$$;
