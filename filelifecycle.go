package parse

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parsego/parse/storage"
)

// The file lifecycle of pnut.io and App.net on the file model: a file is
// created as a placeholder and gets its content (and derived files) later,
// or is created complete in one step; complete images get thumbnails;
// private files are read by their owner, the master key, or whoever
// holds their file token.

// FileSpec describes a file to create.
type FileSpec struct {
	Name string // required: a display name of up to 256 characters
	Kind string // required: FileKindImage, FileKindAudio or FileKindOther
	Type string // required: a reverse-domain identifier ("com.example.photo")
	// IsPublic makes the file readable by anyone with the app's keys.
	IsPublic bool
	// SHA256, when set, is the hex SHA-256 the content must have.
	SHA256 string
	// MimeType is the content's type; when empty it is sniffed from the
	// content and the name's extension.
	MimeType    string
	Annotations map[string]any
}

// FileContent is content to store.
type FileContent struct {
	Reader io.Reader
	// MimeType is the type the request declared ("" or
	// application/octet-stream: none), used when the spec gives none.
	MimeType string
	// SHA256, when set, is the hex SHA-256 the content must have.
	SHA256 string
	// Progress, when set, is called with the bytes stored so far.
	Progress func(written int64)
}

// FileUpdate changes a file's details; nil fields are left as they are.
type FileUpdate struct {
	Name     *string
	IsPublic *bool
	// Annotations, when not nil, replaces the annotations (an empty map
	// removes them).
	Annotations map[string]any
}

// maxDerived caps the derived files of a file.
const maxDerived = 10

// CreatePlaceholder creates an incomplete file: its content comes later
// (SetContent). The caller must be allowed to upload (FilesConfig.Upload).
func (f *Files) CreatePlaceholder(ctx context.Context, spec FileSpec) (*FileRecord, error) {
	sf, err := f.newFile(ctx, spec)
	if err != nil {
		return nil, err
	}
	if err := f.insertFile(ctx, sf); err != nil {
		return nil, err
	}
	return f.record(sf, AuthFrom(ctx)), nil
}

// Create creates a complete file with its content in one step; a complete
// image gets its thumbnails.
func (f *Files) Create(ctx context.Context, spec FileSpec, c FileContent) (*FileRecord, error) {
	sf, err := f.newFile(ctx, spec)
	if err != nil {
		return nil, err
	}
	blob, err := f.putContent(ctx, sf, c)
	if err != nil {
		return nil, err
	}
	if err := f.insertFile(ctx, sf); err != nil {
		f.deleteBlobs(ctx, blob)
		return nil, err
	}
	return f.completed(ctx, sf), nil
}

// newFile checks a spec and the caller's right to upload, and makes the
// record of a placeholder.
func (f *Files) newFile(ctx context.Context, spec FileSpec) (*storedFile, error) {
	auth := AuthFrom(ctx)
	if err := f.mayUpload(auth); err != nil {
		return nil, err
	}
	switch {
	case spec.Type == "":
		return nil, NewError(MissingRequiredField, "type is required.")
	case spec.Kind == "":
		return nil, NewError(MissingRequiredField, "kind is required.")
	case spec.Name == "":
		return nil, NewError(MissingRequiredField, "name is required.")
	case spec.Kind != FileKindImage && spec.Kind != FileKindAudio && spec.Kind != FileKindOther:
		return nil, NewError(IncorrectType, "kind must be image, audio or other.")
	case !validFileType(spec.Type):
		return nil, NewError(IncorrectType, "type must be a reverse-domain identifier (com.example.thing).")
	case !utf8.ValidString(spec.Name) || utf8.RuneCountInString(spec.Name) > 256:
		return nil, NewError(InvalidFileName, "name must be at most 256 characters.")
	case spec.SHA256 != "" && !isHexSHA256(spec.SHA256):
		return nil, NewError(IncorrectType, "sha256 must be 64 hexadecimal digits.")
	}
	now := time.Now().UTC()
	return &storedFile{id: newFileID(), created: now, doc: fileDoc{
		Name: spec.Name, Kind: spec.Kind, Type: spec.Type, MimeType: normalizeMime(spec.MimeType),
		IsPublic: spec.IsPublic, Owner: auth.UserID(), Annotations: spec.Annotations,
		Token: newFilePrefix(), Expect: strings.ToLower(spec.SHA256),
	}}, nil
}

// validFileType accepts dot-separated words of letters, digits, "_" and
// "-", at least two of them, up to 255 characters.
func validFileType(t string) bool {
	if len(t) > 255 || !strings.Contains(t, ".") {
		return false
	}
	for part := range strings.SplitSeq(t, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return false
		}
	}
	return true
}

// SetContent gives a placeholder its content, which completes it. Only
// its owner or the master key may; a complete file's content never
// changes (130).
func (f *Files) SetContent(ctx context.Context, id string, c FileContent) error {
	sf, err := f.loadForWrite(ctx, id)
	if err != nil {
		return err
	}
	if sf.doc.Complete {
		return errFileComplete()
	}
	blob, err := f.putContent(ctx, sf, c)
	if err != nil {
		return err
	}
	d := &sf.doc
	set := map[string]any{"complete": true, "mime_type": d.MimeType, "size": d.Size, "sha256": d.SHA256, "blob": d.Blob}
	if d.ImageInfo != nil {
		set["image_info"] = d.ImageInfo
	}
	if err := f.updateFile(ctx, id, set, storage.Cmp{Field: "complete", Op: storage.Eq, Value: false}); err != nil {
		f.deleteBlobs(ctx, blob)
		if errors.Is(err, storage.ErrNotFound) {
			return errFileComplete() // completed meanwhile
		}
		return err
	}
	f.completed(ctx, sf)
	return nil
}

func errFileComplete() error {
	return NewError(FileSaveError, "The file is complete: its content can't change.")
}

// completed makes the thumbnails of a complete file and returns it as its
// creator sees it. A client that hangs up meanwhile does not cut them
// short: nothing would make them later.
func (f *Files) completed(ctx context.Context, sf *storedFile) *FileRecord {
	f.makeThumbnails(context.WithoutCancel(ctx), sf)
	return f.record(sf, AuthFrom(ctx))
}

// AddDerived adds a derived file under key to a placeholder. Keys are
// letters, digits and "_" (a letter first, at most 64); those beginning
// "core_" are reserved, except DerivedThumb200s (exactly 200×200) and
// DerivedThumb960r (within 640×960), which must be images of the file's
// type.
func (f *Files) AddDerived(ctx context.Context, id, key string, c FileContent) error {
	if !isName(key) || len(key) > 64 {
		return NewError(InvalidKeyName, "Invalid derived file key: %s.", key)
	}
	core := key == DerivedThumb200s || key == DerivedThumb960r
	if strings.HasPrefix(key, "core_") && !core {
		return NewError(InvalidKeyName, "Derived file keys beginning core_ are reserved.")
	}
	sf, err := f.loadForWrite(ctx, id)
	if err != nil {
		return err
	}
	if sf.doc.Complete {
		return NewError(FileSaveError, "Derived files can only be added to a placeholder.")
	}
	if _, ok := sf.doc.Derived[key]; ok {
		return NewError(DuplicateValue, "The file already has a derived file %s.", key)
	}
	if len(sf.doc.Derived) >= maxDerived {
		return NewError(FileSaveError, "A file has at most %d derived files.", maxDerived)
	}
	dd, err := f.putDerived(ctx, sf, key, c, core)
	if err != nil {
		return err
	}
	if err := f.setDerived(ctx, id, key, dd, storage.Cmp{Field: "complete", Op: storage.Eq, Value: false}); err != nil {
		f.deleteBlobs(ctx, dd.Blob)
		if errors.Is(err, storage.ErrNotFound) {
			return NewError(FileSaveError, "Derived files can only be added to a placeholder.")
		}
		return err
	}
	return nil
}

// putDerived stores a derived file's content; a core key's content must
// be an image of the parent's type and of the key's size.
func (f *Files) putDerived(ctx context.Context, sf *storedFile, key string, c FileContent, core bool) (derivedDoc, error) {
	br := bufio.NewReaderSize(c.Reader, 512)
	sniff, _ := br.Peek(512)
	mime := contentMime(c.MimeType, "", sniff)
	if core {
		parent := sf.doc.MimeType
		if !isImageMime(mime) || parent != "" && mime != parent {
			return derivedDoc{}, NewError(IncorrectType, "%s must be an image of the file's type.", key)
		}
	}
	blob := lifecycleBlobPrefix + sf.id + "/" + newFilePrefix() + "-" + key
	bw, err := f.writeBlob(ctx, blob, br, storage.BlobMeta{ContentType: mime},
		blobLimits{max: f.maxFile, expect: c.SHA256, progress: c.Progress, head: isImageMime(mime)})
	if err != nil {
		return derivedDoc{}, err
	}
	dd := derivedDoc{MimeType: mime, Size: bw.size, SHA256: bw.sha256, Blob: blob}
	if isImageMime(mime) {
		dd.ImageInfo = f.imageInfoOf(ctx, blob, bw.head)
	}
	if core {
		info := dd.ImageInfo
		ok := info != nil && (key == DerivedThumb200s && info.Width == 200 && info.Height == 200 ||
			key == DerivedThumb960r && info.Width <= 640 && info.Height <= 960)
		if !ok {
			f.deleteBlobs(ctx, blob)
			if key == DerivedThumb200s {
				return derivedDoc{}, NewError(InvalidImageData, "%s must be a 200×200 image.", key)
			}
			return derivedDoc{}, NewError(InvalidImageData, "%s must be an image within 640×960.", key)
		}
	}
	return dd, nil
}

// setDerived records a derived file unless the key is taken (ErrNotFound
// then, as when where fails).
func (f *Files) setDerived(ctx context.Context, id, key string, dd derivedDoc, where storage.Cond) error {
	cond := storage.And{storage.Exists{Field: "derived." + key, Exists: false}}
	if where != nil {
		cond = append(cond, where)
	}
	return f.updateFile(ctx, id, map[string]any{"derived." + key: dd}, cond)
}

// updateFile sets fields of a file record when where holds; ErrNotFound
// (unwrapped) when it does not.
func (f *Files) updateFile(ctx context.Context, id string, set map[string]any, where storage.Cond) error {
	u := storage.Update{Where: where, UpdatedAt: time.Now().UTC()}
	for field, v := range set {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		u.Ops = append(u.Ops, storage.Op{Field: field, Kind: storage.OpSet, Value: raw})
	}
	_, err := f.app.storeFor(ctx).Update(ctx, classFile, id, u)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return f.app.storeError(err)
	}
	return err
}

// loadForWrite reads a file the caller may change: its own, or any with
// the master key (119 for another's file it can see, 101 for one it
// can't).
func (f *Files) loadForWrite(ctx context.Context, id string) (*storedFile, error) {
	auth := AuthFrom(ctx)
	if auth.ReadOnly {
		return nil, NewError(OperationForbidden, "read-only masterKey isn't allowed to change a file.")
	}
	sf, err := f.loadFile(ctx, id, "")
	if err != nil {
		return nil, err
	}
	if !auth.Master && !sf.ownedBy(auth) {
		return nil, NewError(OperationForbidden, "Permission denied")
	}
	return sf, nil
}

// Get returns a file the caller may read (see OpenContent); token is a
// file token the caller presents ("" for none).
func (f *Files) Get(ctx context.Context, id, token string) (*FileRecord, error) {
	sf, err := f.loadFile(ctx, id, token)
	if err != nil {
		return nil, err
	}
	return f.record(sf, AuthFrom(ctx)), nil
}

// maxFilesPerRequest caps GetMany.
const maxFilesPerRequest = 200

// GetMany returns the files of ids the caller may read, in the order
// asked; the others are left out.
func (f *Files) GetMany(ctx context.Context, ids []string) ([]*FileRecord, error) {
	if len(ids) > maxFilesPerRequest {
		return nil, NewError(InvalidQuery, "At most %d ids can be asked for at once.", maxFilesPerRequest)
	}
	var valid []any
	for _, id := range ids {
		if IsFileID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return []*FileRecord{}, nil
	}
	auth := AuthFrom(ctx)
	rows, err := f.app.storeFor(ctx).Find(ctx, classFile, storage.Query{
		Where: storage.In{Field: "objectId", Values: valid}, ReadPerm: auth.readPerms()})
	if err != nil {
		return nil, f.app.storeError(err)
	}
	byID := make(map[string]*storedFile, len(rows))
	for _, o := range rows {
		sf, err := decodeFile(o)
		if err != nil {
			return nil, err
		}
		byID[sf.id] = sf
	}
	out := make([]*FileRecord, 0, len(rows))
	for _, id := range valid {
		if sf, ok := byID[id.(string)]; ok {
			out = append(out, f.record(sf, auth))
			delete(byID, sf.id) // an id asked twice is answered once
		}
	}
	return out, nil
}

// Mine returns the caller's files, newest first, of the given type when
// typ is not empty; limit 0 means 100, and at most 1000 are returned.
func (f *Files) Mine(ctx context.Context, typ string, limit int) ([]*FileRecord, error) {
	auth := AuthFrom(ctx)
	if auth.User == nil {
		return nil, NewError(InvalidSessionToken, "Invalid session token")
	}
	if limit <= 0 {
		limit = 100
	}
	where := storage.And{storage.Cmp{Field: "owner", Op: storage.Eq, Value: auth.User.ID}}
	if typ != "" {
		where = append(where, storage.Cmp{Field: "type", Op: storage.Eq, Value: typ})
	}
	rows, err := f.app.storeFor(ctx).Find(ctx, classFile, storage.Query{
		Where: where, Order: []storage.Sort{{Field: "createdAt", Desc: true}, {Field: "objectId", Desc: true}},
		Limit: min(limit, 1000)})
	if err != nil {
		return nil, f.app.storeError(err)
	}
	out := make([]*FileRecord, 0, len(rows))
	for _, o := range rows {
		sf, err := decodeFile(o)
		if err != nil {
			return nil, err
		}
		out = append(out, f.record(sf, auth))
	}
	return out, nil
}

// Update changes a file's name, visibility or annotations; only its owner
// or the master key may.
func (f *Files) Update(ctx context.Context, id string, u FileUpdate) (*FileRecord, error) {
	sf, err := f.loadForWrite(ctx, id)
	if err != nil {
		return nil, err
	}
	su := storage.Update{UpdatedAt: time.Now().UTC(), WritePerm: AuthFrom(ctx).readPerms()}
	set := func(field string, v any) {
		raw, _ := json.Marshal(v) // strings, booleans and decoded JSON
		su.Ops = append(su.Ops, storage.Op{Field: field, Kind: storage.OpSet, Value: raw})
	}
	if u.Name != nil {
		if *u.Name == "" || !utf8.ValidString(*u.Name) || utf8.RuneCountInString(*u.Name) > 256 {
			return nil, NewError(InvalidFileName, "name must be 1 to 256 characters.")
		}
		set("name", *u.Name)
		sf.doc.Name = *u.Name
	}
	if u.IsPublic != nil {
		set("is_public", *u.IsPublic)
		sf.doc.IsPublic = *u.IsPublic
		su.SetACL = true
		su.NewReadPerm, su.NewWritePerm = filePerms(sf.doc.Owner, sf.doc.IsPublic)
	}
	if u.Annotations != nil {
		if len(u.Annotations) == 0 {
			su.Ops = append(su.Ops, storage.Op{Field: "annotations", Kind: storage.OpDelete})
			sf.doc.Annotations = nil
		} else {
			set("annotations", u.Annotations)
			sf.doc.Annotations = u.Annotations
		}
	}
	if len(su.Ops) == 0 {
		return f.record(sf, AuthFrom(ctx)), nil
	}
	o, err := f.app.storeFor(ctx).Update(ctx, classFile, id, su)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errFileNotFound() // deleted meanwhile
	}
	if err != nil {
		return nil, f.app.storeError(err)
	}
	stored, err := decodeFile(o)
	if err != nil {
		return nil, err
	}
	return f.record(stored, AuthFrom(ctx)), nil
}

// Remove deletes a file, its content and its derived files; only its
// owner or the master key may. It returns the file as it was, marked
// deleted. Objects referring to the file are left as they are.
func (f *Files) Remove(ctx context.Context, id string) (*FileRecord, error) {
	sf, err := f.loadForWrite(ctx, id)
	if err != nil {
		return nil, err
	}
	err = f.app.storeFor(ctx).Delete(ctx, classFile, id, AuthFrom(ctx).readPerms(), nil)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errFileNotFound() // deleted meanwhile
	}
	if err != nil {
		return nil, f.app.storeError(err)
	}
	blobs := sf.derivedBlobs()
	if sf.doc.Blob != "" {
		blobs = append(blobs, sf.doc.Blob)
	}
	f.deleteBlobs(ctx, blobs...)
	r := f.record(sf, AuthFrom(ctx))
	r.Deleted = true
	return r, nil
}
