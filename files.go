package parse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parsego/parse/storage"
)

// BlobStore holds the contents of files under their stored names. The
// Files service streams uploads into it and downloads out of it; it knows
// nothing of Parse. storage/postgres implements it (files in the database,
// shared by every instance: the default when the Store is a postgres
// Store) and so does storage/fsblob (files in a local directory, for a
// single machine). storage/blobtest is the suite an implementation must
// pass.
type BlobStore interface {
	// PutBlob stores what r yields under name and returns its size. It
	// replaces a blob of the same name atomically: a reader sees the old
	// contents or the new, never a mix. When r fails nothing is stored
	// (an older blob stays) and r's error is returned, wrapped or not.
	// meta.Size is ignored; a zero meta.Created means now.
	PutBlob(ctx context.Context, name string, r io.Reader, meta storage.BlobMeta) (int64, error)
	// GetBlob opens a blob for reading. The reader may also implement
	// io.Seeker, which lets byte ranges be served without reading what
	// precedes them. storage.ErrBlobNotFound when there is none.
	GetBlob(ctx context.Context, name string) (io.ReadCloser, storage.BlobMeta, error)
	// DeleteBlob removes a blob; storage.ErrBlobNotFound when there is
	// none.
	DeleteBlob(ctx context.Context, name string) error
}

// BlobURLSigner is implemented by blob stores that can hand out a
// temporary URL of a blob (storage/s3blob can: a presigned GET), so that
// clients fetch content from the store itself. SignedBlobURL's URL serves
// the blob with the given content type until ttl has passed.
type BlobURLSigner interface {
	SignedBlobURL(ctx context.Context, name, contentType string, ttl time.Duration) (string, error)
}

// FilesConfig configures the Files service. The zero value is the
// reference server's default configuration.
type FilesConfig struct {
	// MaxUploadBytes caps the size of an uploaded file (default 20 MiB,
	// the reference's maxUploadSize).
	MaxUploadBytes int64
	// Upload says who may upload without the master key; nil means the
	// reference's default: authenticated users only.
	Upload *FileUpload
	// MaxFileBytes caps the content of a file of the lifecycle API
	// (default 100 MiB); audio is capped at 50 MiB below that.
	MaxFileBytes int64
	// MaxImagePixels caps the width × height of an image the App decodes
	// to make thumbnails (default 50 million); larger images get none.
	MaxImagePixels int64
	// SignedURLTTL, when positive and the BlobStore is a BlobURLSigner,
	// answers the lifecycle's content requests with a redirect to a URL of
	// the blob store valid this long, rather than streaming the content
	// through the App.
	SignedURLTTL time.Duration
}

// FileUpload is the reference's fileUpload option: who may upload files,
// and which extensions, when they don't hold the master key.
type FileUpload struct {
	EnableForPublic            bool // callers without a session
	EnableForAnonymousUser     bool // sessions of anonymous users
	EnableForAuthenticatedUser bool // sessions of other users
	// FileExtensions allows the extensions (and, for names whose
	// extension has no known type, the Content-Type subtypes) matching one
	// of these regular expressions (Go syntax); "*" allows everything.
	// nil is the reference's default: everything except the markup types
	// a browser would run from the server's origin (html, xhtml, svg, xml,
	// xsl, rdf, mathml and their kin).
	FileExtensions []string
}

// defaultFileUpload is the reference 9.x default.
var defaultFileUpload = FileUpload{EnableForAuthenticatedUser: true}

// blockedExtensions is the reference's default fileExtensions pattern,
// ^(?!(...)$), turned around: RE2 has no lookahead, so an extension is
// allowed when it does not match.
var blockedExtensions = regexp.MustCompile(`^(?:[xXsS]?[hH][tT][mM][lL]?(\+[xX][mM][lL])?|[xX][hH][tT]|[sS][vV][gG]([zZ]|\+[xX][mM][lL])?|[xX][mM][lL]|[xX][sS][lL][tT]?(\+[xX][mM][lL])?|[xX][sS][dD]|[rR][nN][gG]|[rR][dD][fF](\+[xX][mM][lL])?|[oO][wW][lL]|[mM][aA][tT][hH][mM][lL](\+[xX][mM][lL])?)$`)

// ErrFileTooLarge is the cause (errors.Is) of the error an upload over
// FilesConfig.MaxUploadBytes fails with.
var ErrFileTooLarge = errors.New("parse: file too large")

// FileInfo describes a stored file.
type FileInfo struct {
	Name        string
	ContentType string
	Size        int64
	Created     time.Time
}

// Files stores files: their records (filemodel.go) in the Store, their
// contents in the App's BlobStore. Parse uploads (the values of File
// fields) are stored under unique names; the lifecycle API
// (filelifecycle.go) adds placeholders, derived files and thumbnails.
type Files struct {
	app    *App
	blobs  BlobStore // nil: no file storage configured
	max    int64
	upload FileUpload
	exts   []*regexp.Regexp // compiled FileExtensions; nil: the default
	anyExt bool             // FileExtensions holds "*"

	class     fileClassOnce
	inserts   groupInsert // of the file records
	maxFile   int64
	maxPixels int64
	signedTTL time.Duration
	thumbs    chan struct{} // bounds concurrent image decoding
}

func newFiles(a *App, cfg *Config) (*Files, error) {
	f := &Files{app: a, blobs: cfg.Blobs, max: cfg.Files.MaxUploadBytes, upload: defaultFileUpload,
		maxFile: cfg.Files.MaxFileBytes, maxPixels: cfg.Files.MaxImagePixels, signedTTL: cfg.Files.SignedURLTTL,
		thumbs: make(chan struct{}, runtime.GOMAXPROCS(0)), inserts: groupInsert{class: classFile}}
	if f.blobs == nil {
		f.blobs, _ = cfg.Store.(BlobStore)
	}
	if f.max <= 0 {
		f.max = 20 << 20
	}
	if f.maxFile <= 0 {
		f.maxFile = 100 << 20
	}
	if f.maxPixels <= 0 {
		f.maxPixels = 50e6
	}
	if u := cfg.Files.Upload; u != nil {
		f.upload = *u
	}
	for _, e := range f.upload.FileExtensions {
		if e == "*" {
			f.anyExt = true
			continue
		}
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("parse: Config.Files.Upload.FileExtensions: %w", err)
		}
		f.exts = append(f.exts, re)
	}
	return f, nil
}

// MaxUploadBytes is the largest file Upload accepts.
func (f *Files) MaxUploadBytes() int64 { return f.max }

// Upload stores a file read from r as the reference's files router does:
// the caller must be allowed to upload (FileUpload; the master key always
// is), name must be a valid file name (122 otherwise), and r must not
// yield more than MaxUploadBytes (130, with ErrFileTooLarge as the cause).
// A name without an extension gets the one of contentType; a name with a
// known extension gets its content type, otherwise contentType is kept
// (application/octet-stream when empty). The file is stored as
// <32 random hex digits>_<name>; the File returned carries that name and
// its URL. An error of r that is a *Error is returned as it is. The file
// is also a file of the model (filemodel.go): complete, public, owned by
// the caller, of type FileTypeParse; an image gets its thumbnails in the
// background. The file triggers run around the upload: beforeSaveFile may
// rename the file, change its content type or refuse it.
func (f *Files) Upload(ctx context.Context, name, contentType string, r io.Reader) (File, error) {
	auth := AuthFrom(ctx)
	if err := f.mayUpload(auth); err != nil {
		return File{}, err
	}
	if err := ValidateFileName(name); err != nil {
		return File{}, err
	}
	if !auth.Master {
		if err := f.checkExtension(name, contentType); err != nil {
			return File{}, err
		}
	}
	if f.app.Triggers.exists(ctx, TriggerBeforeSaveFile, ClassFile) {
		req := &TriggerRequest{File: &FileInfo{Name: name, ContentType: contentType}}
		if err := f.app.Triggers.run(ctx, TriggerBeforeSaveFile, ClassFile, req); err != nil {
			return File{}, err
		}
		name, contentType = req.File.Name, req.File.ContentType
		if err := ValidateFileName(name); err != nil {
			return File{}, err
		}
	}
	name, contentType = resolveFileType(name, contentType)
	stored := newFilePrefix() + "_" + name
	now := time.Now().UTC()
	meta := storage.BlobMeta{ContentType: contentType, Created: now}
	kind := kindOf(contentType)
	bw, err := f.writeBlob(ctx, stored, r, meta, blobLimits{max: f.max, head: kind == FileKindImage})
	if err != nil {
		return File{}, err
	}
	sf := &storedFile{id: newFileID(), created: now, doc: fileDoc{
		Name: stored, Kind: kind, Type: FileTypeParse, MimeType: contentType,
		Size: bw.size, SHA256: bw.sha256, IsPublic: true, Complete: true, Owner: auth.UserID(),
		Blob: stored, Token: newFilePrefix(), Parse: true,
	}}
	if sf.doc.Kind == FileKindImage {
		sf.doc.ImageInfo = imageInfo(bw.head) // nil when the header is further in
	}
	if err := f.insertFile(ctx, sf); err != nil {
		f.deleteBlobs(ctx, stored)
		return File{}, err
	}
	if sf.doc.ImageInfo != nil {
		// Parse's answer has no place for thumbnails, so the upload does
		// not wait for them; Close does.
		f.app.wg.Go(func() { f.makeThumbnails(context.WithoutCancel(ctx), sf) })
	}
	if f.app.Triggers.exists(ctx, TriggerAfterSaveFile, ClassFile) {
		info := &FileInfo{Name: stored, ContentType: contentType, Size: bw.size, Created: now}
		f.app.Triggers.runAfter(ctx, TriggerAfterSaveFile, ClassFile, &TriggerRequest{File: info})
	}
	return File{Name: stored, URL: f.app.FileURL(stored)}, nil
}

// blobWrite is what streaming content into the BlobStore learned of it.
type blobWrite struct {
	size   int64
	sha256 string // hex
	head   []byte // the first headSize bytes, for image headers
}

// blobLimits are what writeBlob checks of the content, and what it keeps.
type blobLimits struct {
	max      int64       // the most bytes
	expect   string      // the SHA-256 (hex) the content must have; "" any
	progress func(int64) // called with the bytes stored so far
	head     bool        // keep the first headSize bytes
}

// headSize is how much of a file's start writeBlob keeps: enough for the
// header of almost any image (a JPEG's can follow large EXIF data).
const headSize = 64 << 10

// writeBlob streams r into the BlobStore under key, computing its size
// and SHA-256 on the way; nothing holds more than a chunk in memory. More
// than lim.max bytes fail with 130 (ErrFileTooLarge); a SHA-256 other than
// a non-empty lim.expect fails with 130 (ErrChecksumMismatch). On any
// failure nothing is stored. An error of r that is a *Error is returned as
// it is.
func (f *Files) writeBlob(ctx context.Context, key string, r io.Reader, meta storage.BlobMeta, lim blobLimits) (blobWrite, error) {
	if f.blobs == nil {
		return blobWrite{}, NewError(FileSaveError, "No file storage is configured.")
	}
	hr := &hashingReader{r: &limitedReader{r: r, max: lim.max}, h: sha256.New(), expect: lim.expect, progress: lim.progress}
	if lim.head {
		hr.head = make([]byte, 0, headSize)
	}
	if _, err := f.blobs.PutBlob(ctx, key, hr, meta); err != nil {
		if pe, ok := errors.AsType[*Error](err); ok {
			return blobWrite{}, pe
		}
		return blobWrite{}, &Error{Code: FileSaveError, Message: "Could not store file: " + key + ".", Err: err}
	}
	return blobWrite{size: hr.n, sha256: hr.sum, head: hr.head}, nil
}

// ErrChecksumMismatch is the cause (errors.Is) of the error content fails
// with when its SHA-256 is not the one the client announced.
var ErrChecksumMismatch = errors.New("parse: sha256 mismatch")

// hashingReader counts, hashes and keeps the start of what it reads; at
// the end it checks the hash, so that a mismatch fails the read and the
// blob store keeps nothing.
type hashingReader struct {
	r        io.Reader
	h        hash.Hash
	n        int64
	head     []byte
	sum      string
	expect   string
	progress func(int64)
}

func (h *hashingReader) Read(p []byte) (int, error) {
	m, err := h.r.Read(p)
	if m > 0 {
		h.h.Write(p[:m])
		h.n += int64(m)
		if room := cap(h.head) - len(h.head); room > 0 {
			h.head = append(h.head, p[:min(m, room)]...)
		}
		if h.progress != nil {
			h.progress(h.n)
		}
	}
	if err == io.EOF {
		h.sum = hex.EncodeToString(h.h.Sum(nil))
		if h.expect != "" && !strings.EqualFold(h.expect, h.sum) {
			return m, &Error{Code: FileSaveError, Message: "The content does not match the sha256 given.", Err: ErrChecksumMismatch}
		}
	}
	return m, err
}

// deleteBlobs removes blobs whose records are gone or were never made;
// a failure leaves an orphan behind, which is logged.
func (f *Files) deleteBlobs(ctx context.Context, keys ...string) {
	if f.blobs == nil {
		return // nothing was stored
	}
	for _, k := range keys {
		if err := f.blobs.DeleteBlob(context.WithoutCancel(ctx), k); err != nil && !errors.Is(err, storage.ErrBlobNotFound) {
			f.app.log.Error("files: could not delete a blob", "blob", k, "err", err)
		}
	}
}

// mayUpload applies the fileUpload policy, in the reference's order.
func (f *Files) mayUpload(auth Auth) error {
	if auth.ReadOnly {
		return &Error{Message: "read-only masterKey isn't allowed to create a file."}
	}
	if auth.Master {
		return nil
	}
	anonymous := auth.User != nil && isAnonymousUser(auth.User)
	switch {
	case anonymous && !f.upload.EnableForAnonymousUser:
		return NewError(FileSaveError, "File upload by anonymous user is disabled.")
	case auth.User != nil && !anonymous && !f.upload.EnableForAuthenticatedUser:
		return NewError(FileSaveError, "File upload by authenticated user is disabled.")
	case auth.User == nil && !f.upload.EnableForPublic:
		return NewError(FileSaveError, "File upload by public is disabled.")
	}
	return nil
}

// isAnonymousUser reports whether a user is linked to the anonymous auth
// provider (Parse.AnonymousUtils.isLinked).
func isAnonymousUser(u *Object) bool {
	authData, _ := u.Fields["authData"].(map[string]any)
	return authData["anonymous"] != nil
}

// Open opens a stored file for reading. Anyone may read a file who knows
// its name, as with the reference's default fileDownload option. 101 when
// there is no such file. The reader may implement io.Seeker (see
// BlobStore.GetBlob); the caller closes it.
func (f *Files) Open(ctx context.Context, name string) (io.ReadCloser, FileInfo, error) {
	notFound := NewError(ObjectNotFound, "File not found.")
	if f.blobs == nil || !storableName(name) || isLifecycleBlob(name) {
		return nil, FileInfo{}, notFound
	}
	rc, meta, err := f.blobs.GetBlob(ctx, name)
	switch {
	case errors.Is(err, storage.ErrBlobNotFound):
		return nil, FileInfo{}, notFound
	case err != nil:
		return nil, FileInfo{}, f.app.storeError(err)
	}
	return rc, FileInfo{Name: name, ContentType: meta.ContentType, Size: meta.Size, Created: meta.Created}, nil
}

// Delete removes a stored file and its record. It needs the master key
// (ErrMasterKeyRequired otherwise) and fails with 153 when the file cannot
// be deleted, a missing one included. Objects referring to the file keep
// their File values.
func (f *Files) Delete(ctx context.Context, name string) error {
	auth := AuthFrom(ctx)
	if !auth.Master {
		return ErrMasterKeyRequired
	}
	if auth.ReadOnly {
		return &Error{Message: "read-only masterKey isn't allowed to delete a file."}
	}
	if f.blobs == nil || !storableName(name) || isLifecycleBlob(name) {
		return NewError(FileDeleteError, "File not found.")
	}
	err := f.blobs.DeleteBlob(ctx, name)
	switch {
	case errors.Is(err, storage.ErrBlobNotFound):
		return &Error{Code: FileDeleteError, Message: "File not found.", Err: err}
	case err != nil:
		return &Error{Code: FileDeleteError, Message: "Could not delete file.", Err: err}
	}
	// The record and its thumbnails go with the blob; files stored before
	// records existed have none.
	store := f.app.storeFor(ctx)
	byBlob := storage.Cmp{Field: "blob", Op: storage.Eq, Value: name}
	rows, err := store.Find(ctx, classFile, storage.Query{Where: byBlob, Limit: 1})
	if err == nil {
		_, err = store.DeleteMany(ctx, classFile, byBlob)
	}
	if err != nil {
		return &Error{Code: FileDeleteError, Message: "Could not delete file.", Err: err}
	}
	for _, o := range rows {
		if sf, err := decodeFile(o); err == nil {
			f.deleteBlobs(ctx, sf.derivedBlobs()...)
		}
	}
	return nil
}

// lifecycleBlobPrefix starts the blob keys of lifecycle files. No Parse
// file name starts with "~" (ValidateFileName), so Parse's download and
// delete routes, which take any name, can never reach a private file's
// content.
const lifecycleBlobPrefix = "~f/"

func isLifecycleBlob(name string) bool { return strings.HasPrefix(name, "~") }

// storableName rejects names no blob store can hold (they were never
// stored), so that a request for one is a plain "not found".
func storableName(name string) bool {
	if name == "" || !utf8.ValidString(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return false
		}
	}
	return true
}

// newFilePrefix returns the 32 lowercase hex digits that make a stored
// name unique and unguessable.
func newFilePrefix() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return short)
	return hex.EncodeToString(b[:])
}

// limitedReader fails once more than max bytes were read.
type limitedReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, l.tooLarge()
	}
	if room := l.max - l.n + 1; int64(len(p)) > room {
		p = p[:room] // one byte more than allowed tells an oversized file
	}
	m, err := l.r.Read(p)
	l.n += int64(m)
	if l.n > l.max {
		return m, l.tooLarge()
	}
	return m, err
}

func (l *limitedReader) tooLarge() error {
	return &Error{Code: FileSaveError,
		Message: fmt.Sprintf("File size exceeds maximum allowed: %d bytes.", l.max), Err: ErrFileTooLarge}
}
