package main

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/parsego/parse/storage/s3blob"
)

// s3Blobs returns the S3 blob store the -files-s3-* flags describe. The
// credentials come from the AWS SDK's usual environment variables, read
// when a request is signed; an endpoint other than AWS is addressed by
// path (bucket in the path), as S3-compatible stores expect.
func (o *options) s3Blobs(env func(string) string) *s3blob.Store {
	opts := s3.Options{
		Region: o.s3Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			c := aws.Credentials{AccessKeyID: env("AWS_ACCESS_KEY_ID"), SecretAccessKey: env("AWS_SECRET_ACCESS_KEY"),
				SessionToken: env("AWS_SESSION_TOKEN")}
			if c.AccessKeyID == "" || c.SecretAccessKey == "" {
				return c, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
			}
			return c, nil
		}),
	}
	if o.s3Endpoint != "" {
		opts.BaseEndpoint = aws.String(o.s3Endpoint)
		opts.UsePathStyle = true
		// Third-party stores need no checksums beyond what S3 requires.
		opts.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		opts.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	return s3blob.New(s3.New(opts), o.s3Bucket, s3blob.Options{Prefix: o.s3Prefix})
}
