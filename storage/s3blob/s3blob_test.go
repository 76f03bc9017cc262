package s3blob_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parsego/parse"
	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/blobtest"
	"github.com/parsego/parse/storage/s3blob"
)

// newServer starts an in-process S3 server with one bucket and returns a
// client of it.
func newServer(t *testing.T) (*s3.Client, string) {
	t.Helper()
	backend := s3mem.New()
	const bucket = "parsego-test"
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "key", SecretAccessKey: "secret"}, nil
		}),
		// Third-party S3s need no checksums beyond what S3 requires.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return client, bucket
}

func TestBlobs(t *testing.T) {
	client, bucket := newServer(t)
	t.Run("OnePart", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) parse.BlobStore {
			return s3blob.New(client, bucket, s3blob.Options{Prefix: "one/"})
		})
	})
	// Parts of 1 MiB make the suite's larger blobs multipart uploads.
	t.Run("Multipart", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) parse.BlobStore {
			s := s3blob.New(client, bucket, s3blob.Options{Prefix: "multi/"})
			s.SetPartSize(1 << 20)
			return s
		})
	})
}

// A presigned URL serves the blob with the type asked for.
func TestSignedBlobURL(t *testing.T) {
	client, bucket := newServer(t)
	s := s3blob.New(client, bucket, s3blob.Options{Prefix: "signed/"})
	var _ parse.BlobURLSigner = s
	ctx := t.Context()
	if _, err := s.PutBlob(ctx, "~f/ID/x y.png", strings.NewReader("pixels"), storage.BlobMeta{ContentType: "application/octet-stream"}); err != nil {
		t.Fatal(err)
	}
	u, err := s.SignedBlobURL(ctx, "~f/ID/x y.png", "image/png", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "X-Amz-Signature=") || !strings.Contains(u, "X-Amz-Expires=60") {
		t.Fatalf("not a presigned URL: %s", u)
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != "pixels" || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s: %d %q %v", u, res.StatusCode, b, res.Header)
	}
}
