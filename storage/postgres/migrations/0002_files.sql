-- Migration 2: file contents, for the Store's blob methods (blobs.go).
--
-- A file's metadata and its first chunk (up to chunk_size bytes) are one
-- row of "_Files", so a small file is written and read in one statement;
-- the rest of a larger one is in "_FileChunks", one row per chunk_size
-- bytes, so that neither an upload nor a download holds a whole file in
-- memory. generation changes with every write of a name: a reader that
-- finds no chunk of its generation knows the file was replaced or deleted
-- under it and fails instead of mixing contents.
--
-- The data columns are stored uncompressed (EXTERNAL): most uploads
-- (images, video, archives) are compressed already, and pglz would spend
-- CPU on every write for nothing.

CREATE TABLE {{ns}}."_Files" (
	"name" text PRIMARY KEY,
	"content_type" text NOT NULL,
	"size" bigint NOT NULL,
	"created_at" timestamptz NOT NULL,
	"chunk_size" integer NOT NULL,
	"generation" bigint NOT NULL,
	"data" bytea NOT NULL
);
ALTER TABLE {{ns}}."_Files" ALTER COLUMN "data" SET STORAGE EXTERNAL;

CREATE TABLE {{ns}}."_FileChunks" (
	"name" text NOT NULL REFERENCES {{ns}}."_Files" ("name") ON DELETE CASCADE,
	"seq" integer NOT NULL,
	"generation" bigint NOT NULL,
	"data" bytea NOT NULL,
	PRIMARY KEY ("name", "seq")
);
ALTER TABLE {{ns}}."_FileChunks" ALTER COLUMN "data" SET STORAGE EXTERNAL;
