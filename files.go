package parse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
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

// FilesConfig configures the Files service. The zero value is the
// reference server's default configuration.
type FilesConfig struct {
	// MaxUploadBytes caps the size of an uploaded file (default 20 MiB,
	// the reference's maxUploadSize).
	MaxUploadBytes int64
	// Upload says who may upload without the master key; nil means the
	// reference's default: authenticated users only.
	Upload *FileUpload
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

// Files stores the contents of Parse files (the values of File fields) in
// the App's BlobStore, under unique names.
type Files struct {
	app    *App
	blobs  BlobStore // nil: no file storage configured
	max    int64
	upload FileUpload
	exts   []*regexp.Regexp // compiled FileExtensions; nil: the default
	anyExt bool             // FileExtensions holds "*"
}

func newFiles(a *App, cfg *Config) (*Files, error) {
	f := &Files{app: a, blobs: cfg.Blobs, max: cfg.Files.MaxUploadBytes, upload: defaultFileUpload}
	if f.blobs == nil {
		f.blobs, _ = cfg.Store.(BlobStore)
	}
	if f.max <= 0 {
		f.max = 20 << 20
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
// its URL. An error of r that is a *Error is returned as it is.
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
	if f.blobs == nil {
		return File{}, NewError(FileSaveError, "No file storage is configured.")
	}
	name, contentType = resolveFileType(name, contentType)
	stored := newFilePrefix() + "_" + name
	lr := &limitedReader{r: r, max: f.max}
	meta := storage.BlobMeta{ContentType: contentType, Created: time.Now().UTC()}
	if _, err := f.blobs.PutBlob(ctx, stored, lr, meta); err != nil {
		if pe, ok := errors.AsType[*Error](err); ok {
			return File{}, pe
		}
		return File{}, &Error{Code: FileSaveError, Message: "Could not store file: " + stored + ".", Err: err}
	}
	return File{Name: stored, URL: f.app.FileURL(stored)}, nil
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
	if f.blobs == nil || !storableName(name) {
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

// Delete removes a stored file. It needs the master key (ErrMasterKeyRequired
// otherwise) and fails with 153 when the file cannot be deleted, a missing
// one included. Objects referring to the file keep their File values.
func (f *Files) Delete(ctx context.Context, name string) error {
	auth := AuthFrom(ctx)
	if !auth.Master {
		return ErrMasterKeyRequired
	}
	if auth.ReadOnly {
		return &Error{Message: "read-only masterKey isn't allowed to delete a file."}
	}
	if f.blobs == nil || !storableName(name) {
		return NewError(FileDeleteError, "File not found.")
	}
	err := f.blobs.DeleteBlob(ctx, name)
	switch {
	case errors.Is(err, storage.ErrBlobNotFound):
		return &Error{Code: FileDeleteError, Message: "File not found.", Err: err}
	case err != nil:
		return &Error{Code: FileDeleteError, Message: "Could not delete file.", Err: err}
	}
	return nil
}

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
