package storage

import (
	"errors"
	"time"
)

// The vocabulary of blob stores, which hold the contents of files. The
// interface itself is the App's (parse.BlobStore: PutBlob, GetBlob,
// DeleteBlob); it lives where it is consumed. Its types live here so that
// adapters implement it without importing the root package:
// storage/postgres (files in the database, shared by every instance) and
// storage/fsblob (files in a local directory).

// BlobMeta describes a stored blob.
type BlobMeta struct {
	// ContentType is the blob's media type ("image/png").
	ContentType string
	// Size is the length of the contents in bytes. PutBlob ignores it and
	// counts the bytes it stores.
	Size int64
	// Created is when the blob was stored; PutBlob sets it to the current
	// time when it is zero.
	Created time.Time
}

// ErrBlobNotFound is returned (wrapped or not) by a blob store's GetBlob
// and DeleteBlob when no blob has the name.
var ErrBlobNotFound = errors.New("storage: blob not found")
