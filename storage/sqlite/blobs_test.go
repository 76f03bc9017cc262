package sqlite_test

import (
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/storage/blobtest"
)

// TestBlobs runs the blob store suite on the Store.
func TestBlobs(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) parse.BlobStore { return open(t) })
}
