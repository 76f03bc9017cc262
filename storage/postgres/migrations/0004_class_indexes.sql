-- Migration 4: the indexes classDDL (schema.go) now creates with every
-- class's table, added to the tables that exist: btrees on "createdAt" and
-- "updatedAt" (ordering and ranges on them), a GIN on "_rperm" and a
-- partial index of the public objects (together they serve the ACL check
-- "_rperm" IS NULL OR "_rperm" && perms with a BitmapOr).
--
-- The names are the ones classDDL gives (physName: <prefix>:<class>); for a
-- class whose index name would exceed 63 bytes physName hashes it, which is
-- not repeated here: those indexes are created by the next schema change of
-- the class (classDDL runs with IF NOT EXISTS on every AddFields).

DO $$
DECLARE
	c text;
	t text;
	ix record;
BEGIN
	FOR c IN SELECT "className" FROM {{ns}}."_SCHEMA" LOOP
		IF to_regclass(format('%I.%I', {{ns_literal}}, c)) IS NULL THEN
			CONTINUE;
		END IF;
		t := format('%I.%I', {{ns_literal}}, c);
		FOR ix IN SELECT * FROM (VALUES
			('tc', '("createdAt")', ''),
			('tu', '("updatedAt")', ''),
			('r', 'USING gin ("_rperm")', ''),
			('rn', '("objectId")', ' WHERE "_rperm" IS NULL')) AS v(prefix, def, pred)
		LOOP
			IF octet_length(ix.prefix || ':' || c) <= 63 THEN
				EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s %s%s', ix.prefix || ':' || c, t, ix.def, ix.pred);
			END IF;
		END LOOP;
	END LOOP;
END
$$;
