-- Migration 7: the "_seq" column classDDL (schema.go) now creates with
-- every class's table, added to the tables that exist. It numbers rows in
-- insertion order and breaks ties of an ORDER BY (objects.go orderBy), so
-- that objects created in one millisecond sort by createdAt as they were
-- created. Adding an identity column rewrites the table, numbering the
-- existing rows in their physical order, which is the order the tables
-- returned ties in before.

DO $$
DECLARE
	c text;
BEGIN
	FOR c IN SELECT "className" FROM {{ns}}."_SCHEMA" LOOP
		IF to_regclass(format('%I.%I', {{ns_literal}}, c)) IS NULL THEN
			CONTINUE;
		END IF;
		EXECUTE format('ALTER TABLE %I.%I ADD COLUMN IF NOT EXISTS "_seq" bigint GENERATED ALWAYS AS IDENTITY', {{ns_literal}}, c);
	END LOOP;
END
$$;
