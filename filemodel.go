package parse

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/parsego/parse/storage"
)

// The file model: every file the App stores, whether uploaded the Parse
// way (POST /files/<name>) or through the lifecycle API (placeholders,
// content set later, derived files), is a record of the internal class
// _File, kept through the ordinary storage.Store methods so that any
// store holds it. Its contents are blobs of the BlobStore.

// classFile is the internal class of file records. It is not a Parse
// class: the schema cache hides it, and its name is no valid class name
// for the objects and schema APIs.
const classFile = "_File"

// The kinds of file.
const (
	FileKindImage = "image"
	FileKindAudio = "audio"
	FileKindOther = "other"
)

// FileTypeParse is the type of the files uploaded through Parse's
// POST /files/<name>.
const FileTypeParse = "org.parseplatform.file"

// The derived files the App makes for complete images (thumbnails.go).
const (
	DerivedThumb200s = "core_image_200s" // resized and cropped to 200×200
	DerivedThumb960r = "core_image_960r" // resized to fit 640×960
)

// FileRecord is a file of the file model as a caller sees it: URLs are
// computed when it is read, and the file token is there only for its owner
// and the master key. Its JSON form is the lifecycle API's wire format.
type FileRecord struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Type     string `json:"type"`
	MimeType string `json:"mime_type,omitempty"`
	// Size and SHA256 (hex) describe the content, once complete.
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256,omitempty"`
	IsPublic bool   `json:"is_public"`
	Complete bool   `json:"complete"`
	// Owner is the objectId of the user who created the file, "" for a
	// file created with the master key or by the public.
	Owner       string                 `json:"owner,omitempty"`
	CreatedAt   time.Time              `json:"created_at"`
	Annotations map[string]any         `json:"annotations,omitempty"`
	ImageInfo   *ImageInfo             `json:"image_info,omitempty"`
	Derived     map[string]DerivedFile `json:"derived_files,omitempty"`
	// URL serves the content; a private file's carries its file token
	// when the caller may see it.
	URL       string `json:"url,omitempty"`
	FileToken string `json:"file_token,omitempty"`
	// Deleted is set on the record Files.Remove returns.
	Deleted bool `json:"deleted,omitempty"`
}

// ImageInfo is the size of an image in pixels.
type ImageInfo struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// DerivedFile is a file derived from another (a thumbnail, another
// format), stored beside it under a key.
type DerivedFile struct {
	MimeType  string     `json:"mime_type"`
	Size      int64      `json:"size"`
	SHA256    string     `json:"sha256"`
	ImageInfo *ImageInfo `json:"image_info,omitempty"`
	URL       string     `json:"url,omitempty"`
}

// fileDoc is a file record as stored: the Data of a _File object. The
// blob keys and the token never leave the server.
type fileDoc struct {
	Name        string                `json:"name"`
	Kind        string                `json:"kind"`
	Type        string                `json:"type"`
	MimeType    string                `json:"mime_type,omitempty"`
	Size        int64                 `json:"size"`
	SHA256      string                `json:"sha256,omitempty"`
	IsPublic    bool                  `json:"is_public"`
	Complete    bool                  `json:"complete"`
	Owner       string                `json:"owner,omitempty"`
	Annotations map[string]any        `json:"annotations,omitempty"`
	ImageInfo   *ImageInfo            `json:"image_info,omitempty"`
	Derived     map[string]derivedDoc `json:"derived,omitempty"`
	Blob        string                `json:"blob,omitempty"`
	Token       string                `json:"file_token"`
	// Expect is the SHA-256 a placeholder's content must have.
	Expect string `json:"expect_sha256,omitempty"`
	// Parse is set for files uploaded the Parse way, whose URL is Parse's
	// download URL of the blob.
	Parse bool `json:"parse,omitempty"`
}

type derivedDoc struct {
	MimeType  string     `json:"mime_type"`
	Size      int64      `json:"size"`
	SHA256    string     `json:"sha256"`
	ImageInfo *ImageInfo `json:"image_info,omitempty"`
	Blob      string     `json:"blob"`
}

// storedFile is a decoded _File object.
type storedFile struct {
	id      string
	created time.Time
	doc     fileDoc
}

// fileClass returns the _File class. Its records are read by id, by blob
// (Parse's delete by name) and by owner (Files.Mine), so it is KeyedOnly:
// blob is unique and owner indexed, and no index over every field slows
// each upload's insert.
func fileClass() storage.Class {
	str, num, boolean, obj := storage.Field{Type: "String"}, storage.Field{Type: "Number"}, storage.Field{Type: "Boolean"}, storage.Field{Type: "Object"}
	return storage.Class{Name: classFile, Fields: map[string]storage.Field{
		"name": str, "kind": str, "type": str, "mime_type": str, "size": num, "sha256": str,
		"is_public": boolean, "complete": boolean, "owner": str, "annotations": obj, "image_info": obj,
		"derived": obj, "blob": str, "file_token": str, "expect_sha256": str, "parse": boolean,
	}, Unique: []storage.Unique{{Field: "blob"}}, Indexes: map[string]map[string]any{"owner_1": {"owner": 1.0}}, KeyedOnly: true}
}

// fileClassOnce creates the _File class on first use, once per App (and
// harmlessly again on another instance that raced it).
type fileClassOnce struct {
	mu    sync.Mutex
	ready bool
}

func (f *Files) ensureFileClass(ctx context.Context) error {
	f.class.mu.Lock()
	defer f.class.mu.Unlock()
	if f.class.ready {
		return nil
	}
	store := f.app.storeFor(ctx)
	_, err := store.CreateClass(ctx, fileClass())
	if err != nil && !errors.Is(err, storage.ErrClassExists) {
		return f.app.storeError(err)
	}
	f.class.ready = true
	return nil
}

// newFileID returns a ULID (time-ordered, 80 random bits from crypto/rand).
func newFileID() string {
	return ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader).String()
}

// IsFileID reports whether s has the form of a file id: a ULID in its
// canonical form (26 characters of Crockford's base32, upper case). An id
// never contains "_", which every Parse file name does (its prefix
// separator): that is how /files/<id> and /files/<name> tell apart.
func IsFileID(s string) bool {
	if len(s) != ulid.EncodedSize {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || c == 'I' || c == 'L' || c == 'O' || c == 'U' {
			return false
		}
	}
	_, err := ulid.ParseStrict(s)
	return err == nil
}

// filePerms are the ACL entries of a file record: anyone reads a public
// file, only its owner a private one (only the master key when it has no
// owner); only the owner writes.
func filePerms(owner string, public bool) (read, write []string) {
	write = []string{}
	if owner != "" {
		write = []string{owner}
	}
	if public {
		return nil, write
	}
	return write, write
}

func (f *Files) insertFile(ctx context.Context, sf *storedFile) error {
	if err := f.ensureFileClass(ctx); err != nil {
		return err
	}
	data, err := json.Marshal(sf.doc)
	if err != nil {
		return err
	}
	read, write := filePerms(sf.doc.Owner, sf.doc.IsPublic)
	obj := storage.Object{ID: sf.id, CreatedAt: sf.created, UpdatedAt: sf.created, ReadPerm: read, WritePerm: write, Data: data}
	if store := f.app.storeFor(ctx); store != f.app.store {
		err = store.Insert(ctx, classFile, obj) // in the caller's transaction
	} else {
		err = f.inserts.insert(ctx, store, obj)
	}
	if err != nil {
		return f.app.storeError(err)
	}
	return nil
}

func decodeFile(o storage.Object) (*storedFile, error) {
	sf := &storedFile{id: o.ID, created: o.CreatedAt.UTC()}
	if err := json.Unmarshal(o.Data, &sf.doc); err != nil {
		return nil, err
	}
	return sf, nil
}

// errFileNotFound answers a file that does not exist or that the caller
// may not see: the two look the same.
func errFileNotFound() error { return NewError(ObjectNotFound, "File not found.") }

// loadFile reads a file record the caller may read: a public file, its
// own, any with the master key, or a private one whose token it presents.
func (f *Files) loadFile(ctx context.Context, id, token string) (*storedFile, error) {
	if !IsFileID(id) {
		return nil, errFileNotFound()
	}
	auth := AuthFrom(ctx)
	perms := auth.readPerms()
	if token != "" {
		perms = nil // checked below, against the stored token
	}
	o, err := f.app.storeFor(ctx).Get(ctx, classFile, id, perms)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errFileNotFound()
	}
	if err != nil {
		return nil, f.app.storeError(err)
	}
	sf, err := decodeFile(o)
	if err != nil {
		return nil, err
	}
	if token != "" && !sf.readableBy(auth) && !tokenEqual(token, sf.doc.Token) {
		return nil, errFileNotFound()
	}
	return sf, nil
}

// readableBy applies the record's read rule outside the store, for reads
// made without the ACL check (with a file token).
func (sf *storedFile) readableBy(auth Auth) bool {
	return sf.doc.IsPublic || auth.Master || sf.ownedBy(auth)
}

// derivedBlobs are the blob keys of the file's derived files.
func (sf *storedFile) derivedBlobs() []string {
	var keys []string
	for _, dd := range sf.doc.Derived {
		keys = append(keys, dd.Blob)
	}
	return keys
}

func (sf *storedFile) ownedBy(auth Auth) bool {
	return sf.doc.Owner != "" && sf.doc.Owner == auth.UserID()
}

// tokenEqual compares file tokens in constant time.
func tokenEqual(presented, stored string) bool {
	return stored != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(stored)) == 1
}

// record renders a stored file for a caller: URLs computed now, the token
// for the owner and the master key only.
func (f *Files) record(sf *storedFile, auth Auth) *FileRecord {
	d := &sf.doc
	r := &FileRecord{
		ID: sf.id, Name: d.Name, Kind: d.Kind, Type: d.Type, MimeType: d.MimeType, Size: d.Size, SHA256: d.SHA256,
		IsPublic: d.IsPublic, Complete: d.Complete, Owner: d.Owner, CreatedAt: sf.created,
		Annotations: d.Annotations, ImageInfo: d.ImageInfo,
	}
	var token string
	if auth.Master || sf.ownedBy(auth) {
		r.FileToken = d.Token
		if !d.IsPublic {
			token = d.Token
		}
	}
	if d.Complete {
		if d.Parse {
			r.URL = f.app.FileURL(d.Blob)
		} else {
			r.URL = f.contentURL(sf.id, "", token)
		}
	}
	if len(d.Derived) > 0 {
		r.Derived = make(map[string]DerivedFile, len(d.Derived))
		for k, dd := range d.Derived {
			df := DerivedFile{MimeType: dd.MimeType, Size: dd.Size, SHA256: dd.SHA256, ImageInfo: dd.ImageInfo}
			if d.Complete {
				df.URL = f.contentURL(sf.id, k, token)
			}
			r.Derived[k] = df
		}
	}
	return r
}

// contentURL is where a file's content (or a derived file's) is served.
func (f *Files) contentURL(id, key, token string) string {
	u := f.app.cfg.PublicServerURL + "/files/" + id + "/content"
	if key != "" {
		u += "/" + key
	}
	if token != "" {
		u += "?file_token=" + url.QueryEscape(token)
	}
	return u
}

// MarshalJSON writes created_at as Parse writes dates (UTC, milliseconds).
func (r *FileRecord) MarshalJSON() ([]byte, error) {
	type plain FileRecord
	return json.Marshal(struct {
		*plain
		CreatedAt string `json:"created_at"`
	}{(*plain)(r), r.CreatedAt.UTC().Format(dateFormat)})
}
