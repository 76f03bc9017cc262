-- Migration 5: a small pending list for the GIN indexes (classDDL in
-- schema.go now creates them WITH (gin_pending_list_limit = 64)).
--
-- A GIN index with fastupdate collects new entries in an unsorted pending
-- list that every search reads in full, until a vacuum or an insert that
-- overflows the list merges it into the index. With the default 4 MB limit
-- and no autovacuum (it can be off, or behind), an equality query on a
-- class of 20k objects read a thousand pages per key and ran 20x slower
-- than it should. At 64 kB, inserts merge the list often enough that a
-- search reads a few pages of it, and still write in batches.

DO $$
DECLARE
	ix text;
BEGIN
	FOR ix IN
		SELECT format('%I.%I', n.nspname, i.relname)
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_namespace n ON n.oid = i.relnamespace
		JOIN pg_am am ON am.oid = i.relam
		WHERE n.nspname = {{ns_literal}} AND am.amname = 'gin'
	LOOP
		EXECUTE format('ALTER INDEX %s SET (gin_pending_list_limit = 64)', ix);
	END LOOP;
END
$$;
