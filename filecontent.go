package parse

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/parsego/parse/internal/mimetype"
	"github.com/parsego/parse/storage"
)

// A file's content: streamed into the blob store with its type settled
// (declared, else sniffed, else from the name) and checked against the
// file's kind, and opened again for the callers who may read it.

// FileContentInfo describes content opened with OpenContent.
type FileContentInfo struct {
	MimeType string
	Size     int64
	SHA256   string
	Created  time.Time
}

// ErrFileIncomplete is returned by OpenContent for a placeholder's content.
var ErrFileIncomplete = errors.New("parse: the file has no content yet")

// maxAudioBytes caps audio files, as pnut does (50 MiB).
const maxAudioBytes = 50 << 20

// putContent streams content into a new blob of the file and fills in
// the record's content fields; it returns the blob's key. The checks
// that need the bytes (checksum, size, kind, a decodable image) fail with
// nothing stored.
func (f *Files) putContent(ctx context.Context, sf *storedFile, c FileContent) (string, error) {
	d := &sf.doc
	expect := d.Expect
	if c.SHA256 != "" {
		if !isHexSHA256(c.SHA256) {
			return "", NewError(IncorrectType, "sha256 must be 64 hexadecimal digits.")
		}
		if expect != "" && !strings.EqualFold(expect, c.SHA256) {
			return "", &Error{Code: FileSaveError, Message: "The content does not match the sha256 given.", Err: ErrChecksumMismatch}
		}
		expect = c.SHA256
	}
	br := bufio.NewReaderSize(c.Reader, 512)
	sniff, _ := br.Peek(512) // fewer bytes at the end of a short body
	mime := d.MimeType
	if mime == "" {
		mime = contentMime(c.MimeType, d.Name, sniff)
	}
	if err := checkKind(d.Kind, mime); err != nil {
		return "", err
	}
	max := f.maxFile
	if d.Kind == FileKindAudio {
		max = min(max, maxAudioBytes)
	}
	key := lifecycleBlobPrefix + sf.id + "/" + newFilePrefix()
	bw, err := f.writeBlob(ctx, key, br, storage.BlobMeta{ContentType: mime, Created: sf.created},
		blobLimits{max: max, expect: expect, progress: c.Progress, head: isImageMime(mime)})
	if err != nil {
		return "", err
	}
	var info *ImageInfo
	if isImageMime(mime) {
		info = f.imageInfoOf(ctx, key, bw.head)
		if info == nil && d.Kind == FileKindImage {
			f.deleteBlobs(ctx, key)
			return "", NewError(InvalidImageData, "The content is not a valid %s image.", mime)
		}
	}
	d.MimeType, d.Size, d.SHA256, d.Blob, d.ImageInfo, d.Complete = mime, bw.size, bw.sha256, key, info, true
	return key, nil
}

// contentMime picks a content's type: the declared one, else what the
// bytes say, else what the name's extension says.
func contentMime(declared, name string, sniff []byte) string {
	if m := normalizeMime(declared); m != "" && m != "application/octet-stream" {
		return m
	}
	m := normalizeMime(http.DetectContentType(sniff))
	if m == "application/octet-stream" || m == "text/plain" {
		if byName := mimetype.ByName(name); byName != "" {
			return normalizeMime(byName)
		}
	}
	return m
}

// normalizeMime lower-cases a type, drops its parameters and maps the
// aliases pnut lists to their standard names.
func normalizeMime(m string) string {
	m, _, _ = strings.Cut(m, ";")
	m = strings.ToLower(strings.TrimSpace(m))
	switch m {
	case "image/jpg", "image/pjpeg":
		return "image/jpeg"
	case "audio/mp3":
		return "audio/mpeg"
	case "audio/x-m4a", "audio/m4a":
		return "audio/mp4"
	case "audio/wav", "audio/x-wav", "audio/x-pn-wav":
		return "audio/wave"
	case "audio/x-flac":
		return "audio/flac"
	}
	return m
}

func isImageMime(m string) bool {
	return m == "image/png" || m == "image/jpeg" || m == "image/gif"
}

// kindOf is the kind a content type implies.
func kindOf(mime string) string {
	switch m := normalizeMime(mime); {
	case isImageMime(m):
		return FileKindImage
	case strings.HasPrefix(m, "audio/"):
		return FileKindAudio
	}
	return FileKindOther
}

// checkKind refuses content whose type contradicts the file's kind.
func checkKind(kind, mime string) error {
	switch {
	case kind == FileKindImage && !isImageMime(mime):
		return NewError(IncorrectType, "A file of kind image must be a JPEG, PNG or GIF, not %s.", mime)
	case kind == FileKindAudio && !strings.HasPrefix(mime, "audio/"):
		return NewError(IncorrectType, "A file of kind audio must have an audio type, not %s.", mime)
	}
	return nil
}

// imageInfo reads an image's upright size (see exif.go) from its first
// bytes (nil when they are not an image's header).
func imageInfo(head []byte) *ImageInfo {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(head))
	if err != nil {
		return nil
	}
	return uprightInfo(cfg, format, head)
}

func uprightInfo(cfg image.Config, format string, head []byte) *ImageInfo {
	w, h := cfg.Width, cfg.Height
	if format == "jpeg" {
		w, h = orientedSize(w, h, jpegOrientation(head))
	}
	return &ImageInfo{Width: w, Height: h}
}

// imageInfoOf reads an image's size from its head, or from the blob when
// the header lies beyond the head.
func (f *Files) imageInfoOf(ctx context.Context, key string, head []byte) *ImageInfo {
	if info := imageInfo(head); info != nil || len(head) < headSize {
		return info
	}
	rc, _, err := f.blobs.GetBlob(ctx, key)
	if err != nil {
		return nil
	}
	defer rc.Close()
	cfg, format, err := image.DecodeConfig(bufio.NewReader(rc))
	if err != nil {
		return nil
	}
	return uprightInfo(cfg, format, head)
}

// OpenContent opens a file's content, or with a key the content of one
// of its derived files, for a caller who may read the file: anyone for a
// public file, else its owner, the master key, or the holder of its file
// token. ErrFileIncomplete (wrapped in a 101) for a placeholder's own
// content; 101 for a derived file of a placeholder. The reader may
// implement io.Seeker (see BlobStore.GetBlob); the caller closes it.
func (f *Files) OpenContent(ctx context.Context, id, key, token string) (io.ReadCloser, FileContentInfo, error) {
	blob, info, err := f.content(ctx, id, key, token)
	if err != nil {
		return nil, FileContentInfo{}, err
	}
	rc, meta, err := f.blobs.GetBlob(ctx, blob)
	if errors.Is(err, storage.ErrBlobNotFound) {
		return nil, FileContentInfo{}, errFileNotFound()
	}
	if err != nil {
		return nil, FileContentInfo{}, f.app.storeError(err)
	}
	info.Size = meta.Size
	return rc, info, nil
}

// SignedContentURL returns a temporary URL of the blob store serving what
// OpenContent would open, to the same callers, or "" when the App hands
// out none (FilesConfig.SignedURLTTL unset, or a BlobStore that is no
// BlobURLSigner).
func (f *Files) SignedContentURL(ctx context.Context, id, key, token string) (string, error) {
	signer, ok := f.blobs.(BlobURLSigner)
	if !ok || f.signedTTL <= 0 {
		return "", nil
	}
	blob, info, err := f.content(ctx, id, key, token)
	if err != nil {
		return "", err
	}
	u, err := signer.SignedBlobURL(ctx, blob, info.MimeType, f.signedTTL)
	if err != nil {
		return "", f.app.storeError(err)
	}
	return u, nil
}

// content resolves the blob of a file's content (see OpenContent).
func (f *Files) content(ctx context.Context, id, key, token string) (string, FileContentInfo, error) {
	sf, err := f.loadFile(ctx, id, token)
	if err != nil {
		return "", FileContentInfo{}, err
	}
	d := &sf.doc
	if f.blobs == nil {
		return "", FileContentInfo{}, errFileNotFound() // stored where this App does not look
	}
	if !d.Complete {
		if key == "" {
			return "", FileContentInfo{}, &Error{Code: ObjectNotFound, Message: "The file has no content yet.", Err: ErrFileIncomplete}
		}
		return "", FileContentInfo{}, errFileNotFound()
	}
	info := FileContentInfo{MimeType: d.MimeType, Size: d.Size, SHA256: d.SHA256, Created: sf.created}
	if key == "" {
		return d.Blob, info, nil
	}
	dd, ok := d.Derived[key]
	if !ok {
		return "", FileContentInfo{}, errFileNotFound()
	}
	info.MimeType, info.Size, info.SHA256 = dd.MimeType, dd.Size, dd.SHA256
	return dd.Blob, info, nil
}
