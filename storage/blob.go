package storage

import (
	"errors"
	"io"
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

// ErrBlobChanged fails a read of a blob that was replaced or deleted while
// being read, rather than mixing two versions' contents.
var ErrBlobChanged = errors.New("storage: blob replaced or deleted while being read")

// SeekOffset is the io.Seeker arithmetic of a blob reader at off in a blob
// of size bytes: the new offset, which may lie past the end.
func SeekOffset(off, size, offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += off
	case io.SeekEnd:
		offset += size
	case io.SeekStart:
	default:
		return 0, errors.New("storage: blob seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("storage: blob seek: negative position")
	}
	return offset, nil
}
