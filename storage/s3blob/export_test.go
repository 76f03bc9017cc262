package s3blob

// SetPartSize lets tests cut multipart uploads below S3's 5 MiB minimum
// (the in-process server has none), so that the blob suite's sizes cross
// part boundaries.
func (s *Store) SetPartSize(n int) { s.partSize = n }
