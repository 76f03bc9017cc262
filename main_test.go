package parse_test

import (
	"os"
	"testing"

	"github.com/parsego/parse/internal/teststore"
)

// TestMain runs the tests on the embedded store, and on PostgreSQL too when
// it is configured (see teststore.Main).
func TestMain(m *testing.M) { os.Exit(teststore.Main(m)) }
