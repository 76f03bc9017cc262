// Package s3blob keeps file contents in an S3-compatible object store (AWS
// S3, Garage, SeaweedFS, Ceph, R2, ...): a parse.BlobStore that every
// instance of an App sees, without the database holding the bytes.
//
//	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
//	blobs := s3blob.New(client, "my-bucket", s3blob.Options{Prefix: "files/"})
//	app, _ := parse.New(ctx, parse.Config{..., Blobs: blobs})
//
// Each blob is one object. Its key is Prefix and the blob's name with
// every byte outside [A-Za-z0-9_.~-] and a leading dot escaped as %XX, so
// that a name is never read as a path (no "/", no "." or ".." segment).
// The content type is the object's, and the creation time is kept in the
// object's metadata.
//
// Uploads stream: a blob that fits in one part is one PutObject; a larger
// one is a multipart upload, one part in memory at a time, aborted when
// the reader fails, so that nothing is stored and a blob it would have
// replaced stays. Downloads are ranged GETs, pinned to the ETag the
// metadata was read with, so that a reader never mixes two versions.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/parsego/parse/storage"
)

// minPartSize is S3's smallest part of a multipart upload but the last.
const minPartSize = 5 << 20

// Options configures a Store.
type Options struct {
	// Prefix starts every object key ("files/"), so that a bucket can
	// hold other objects, or several apps.
	Prefix string
	// PartSize is the size of the parts of a multipart upload, and so the
	// memory one upload holds (default and minimum 5 MiB).
	PartSize int
}

// Store keeps blobs in a bucket. It is safe for concurrent use.
type Store struct {
	client   *s3.Client
	bucket   string
	prefix   string
	partSize int
}

// New returns a Store on a bucket, which must exist. For object stores
// other than AWS, configure the client with their BaseEndpoint and,
// usually, UsePathStyle.
func New(client *s3.Client, bucket string, opts Options) *Store {
	return &Store{client: client, bucket: bucket, prefix: opts.Prefix, partSize: max(opts.PartSize, minPartSize)}
}

// createdKey is the metadata entry holding the creation time.
const createdKey = "parsego-created"

// PutBlob stores what r yields under name (see parse.BlobStore).
func (s *Store) PutBlob(ctx context.Context, name string, r io.Reader, meta storage.BlobMeta) (int64, error) {
	created := meta.Created
	if created.IsZero() {
		created = time.Now()
	}
	key := s.key(name)
	md := map[string]string{createdKey: created.UTC().Format(time.RFC3339Nano)}
	var ct *string
	if meta.ContentType != "" {
		ct = aws.String(meta.ContentType)
	}
	buf := make([]byte, s.partSize)
	n, err := io.ReadFull(r, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		// The whole blob is one part: one request, atomic by itself.
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
			ContentType: ct, Metadata: md,
		})
		if err != nil {
			return 0, fmt.Errorf("s3blob: put %q: %w", name, err)
		}
		return int64(n), nil
	case err != nil:
		return 0, err
	}
	return s.putMultipart(ctx, name, key, r, buf, ct, md)
}

// putMultipart uploads a blob larger than a part; buf holds the first.
func (s *Store) putMultipart(ctx context.Context, name, key string, r io.Reader, buf []byte, ct *string, md map[string]string) (size int64, err error) {
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, ContentType: ct, Metadata: md,
	})
	if err != nil {
		return 0, fmt.Errorf("s3blob: put %q: %w", name, err)
	}
	defer func() {
		if err != nil {
			// Without a completed upload the object is unchanged; the
			// abort frees the parts sent (with a context of its own: ctx
			// may be why the upload failed).
			abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			s.client.AbortMultipartUpload(abortCtx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: up.UploadId})
		}
	}()
	var parts []types.CompletedPart
	n := len(buf)
	for num := int32(1); ; num++ {
		res, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return 0, fmt.Errorf("s3blob: put %q: %w", name, err)
		}
		parts = append(parts, types.CompletedPart{ETag: res.ETag, PartNumber: aws.Int32(num)})
		size += int64(n)
		var rerr error
		n, rerr = io.ReadFull(r, buf)
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			if n == 0 {
				break
			}
			continue // the last part, shorter
		}
		if rerr != nil {
			return 0, rerr
		}
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return 0, fmt.Errorf("s3blob: put %q: %w", name, err)
	}
	return size, nil
}

// GetBlob opens the blob stored under name (see parse.BlobStore). The
// reader is an io.ReadSeekCloser; it runs its requests with ctx.
func (s *Store) GetBlob(ctx context.Context, name string) (io.ReadCloser, storage.BlobMeta, error) {
	key := s.key(name)
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, storage.BlobMeta{}, s.notFound("get", name, err)
	}
	meta := storage.BlobMeta{ContentType: aws.ToString(head.ContentType), Size: aws.ToInt64(head.ContentLength)}
	if c, err := time.Parse(time.RFC3339Nano, head.Metadata[createdKey]); err == nil {
		meta.Created = c
	} else if head.LastModified != nil {
		meta.Created = head.LastModified.UTC()
	}
	return &reader{s: s, ctx: ctx, name: name, key: key, etag: head.ETag, size: meta.Size}, meta, nil
}

// DeleteBlob removes the blob stored under name. S3 deletes are
// idempotent, so a missing blob is found out with a HEAD first.
func (s *Store) DeleteBlob(ctx context.Context, name string) error {
	key := s.key(name)
	if _, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return s.notFound("delete", name, err)
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return fmt.Errorf("s3blob: delete %q: %w", name, err)
	}
	return nil
}

// SignedBlobURL returns a presigned GET of the blob's object, valid for
// ttl (at most 7 days: SigV4's limit), answered with contentType (see
// parse.BlobURLSigner).
func (s *Store) SignedBlobURL(ctx context.Context, name, contentType string, ttl time.Duration) (string, error) {
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(name))}
	if contentType != "" {
		in.ResponseContentType = &contentType
	}
	req, err := s3.NewPresignClient(s.client).PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3blob: sign %q: %w", name, err)
	}
	return req.URL, nil
}

// notFound wraps err, as storage.ErrBlobNotFound when the object is
// missing.
func (s *Store) notFound(op, name string, err error) error {
	if isMissing(err) {
		return fmt.Errorf("s3blob: %s %q: %w", op, name, storage.ErrBlobNotFound)
	}
	return fmt.Errorf("s3blob: %s %q: %w", op, name, err)
}

// isMissing reports an answer about a missing object: HEAD's NotFound
// (which carries no error code in its empty body), GET's NoSuchKey.
func isMissing(err error) bool {
	var nf *types.NotFound
	var nk *types.NoSuchKey
	return errors.As(err, &nf) || errors.As(err, &nk) || httpStatus(err) == http.StatusNotFound
}

// httpStatus is the HTTP status of a failed request, 0 when none came.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// key is the object key of a blob name.
func (s *Store) key(name string) string {
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s.prefix)+len(name)+8)
	b = append(b, s.prefix...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		plain := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '~' || c == '.' && i > 0
		if plain {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

// reader reads an object from its offset with a ranged GET, opened on the
// first Read after a Seek.
type reader struct {
	s    *Store
	ctx  context.Context
	name string
	key  string
	etag *string
	size int64
	off  int64
	body io.ReadCloser
}

func (r *reader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.body == nil {
		res, err := r.s.client.GetObject(r.ctx, &s3.GetObjectInput{
			Bucket: &r.s.bucket, Key: &r.key, IfMatch: r.etag,
			Range: aws.String("bytes=" + strconv.FormatInt(r.off, 10) + "-"),
		})
		if err != nil {
			if isMissing(err) || httpStatus(err) == http.StatusPreconditionFailed {
				return 0, storage.ErrBlobChanged
			}
			return 0, fmt.Errorf("s3blob: read %q: %w", r.name, err)
		}
		r.body = res.Body
	}
	n, err := r.body.Read(p)
	r.off += int64(n)
	if err == io.EOF && r.off < r.size {
		return n, storage.ErrBlobChanged
	}
	return n, err
}

func (r *reader) Seek(offset int64, whence int) (int64, error) {
	offset, err := storage.SeekOffset(r.off, r.size, offset, whence)
	if err != nil {
		return 0, err
	}
	if offset != r.off && r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.off = offset
	return offset, nil
}

func (r *reader) Close() error {
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}
