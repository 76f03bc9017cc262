package parse_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/parsego/parse"
	"github.com/parsego/parse/storage/fsblob"
)

// The lifecycle through the Go API: a placeholder, content from a reader
// with progress, a derived file, an update, the content, a delete.
func TestFilesGoLifecycle(t *testing.T) {
	t.Parallel()
	app, blobs := newFilesApp(t, nil)
	ctx := context.Background()
	f, err := app.Files.CreatePlaceholder(ctx, parse.FileSpec{Name: "song", Kind: parse.FileKindAudio, Type: "com.example.song",
		SHA256: sum([]byte("ID3 pretend mp3"))})
	if err != nil {
		t.Fatal(err)
	}
	if f.Complete || f.Owner != "" || f.FileToken == "" || !parse.IsFileID(f.ID) {
		t.Fatalf("placeholder %+v", f)
	}
	if err := app.Files.AddDerived(ctx, f.ID, "preview", parse.FileContent{Reader: bytes.NewReader([]byte("ID3 short")), MimeType: "audio/mpeg"}); err != nil {
		t.Fatal(err)
	}
	// A checksum other than the placeholder's fails and stores nothing.
	stored := blobs.count()
	err = app.Files.SetContent(ctx, f.ID, parse.FileContent{Reader: bytes.NewReader([]byte("ID3 other bytes")), MimeType: "audio/mpeg"})
	if !errors.Is(err, parse.ErrChecksumMismatch) || parse.ErrorCode(err) != parse.FileSaveError || blobs.count() != stored {
		t.Fatalf("mismatch: %v, %d blobs stored", err, blobs.count()-stored)
	}
	var progress []int64
	content := []byte("ID3 pretend mp3")
	err = app.Files.SetContent(ctx, f.ID, parse.FileContent{Reader: io.MultiReader(bytes.NewReader(content[:4]), bytes.NewReader(content[4:])),
		MimeType: "audio/mp3", Progress: func(n int64) { progress = append(progress, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != int64(len(content)) {
		t.Fatalf("progress %v", progress)
	}
	got, err := app.Files.Get(ctx, f.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Complete || got.MimeType != "audio/mpeg" || got.Size != int64(len(content)) || got.SHA256 != sum(content) ||
		got.Derived["preview"].Size != 9 || got.URL != "http://example.test/parse/files/"+f.ID+"/content?file_token="+f.FileToken {
		t.Fatalf("complete file %+v", got)
	}
	name, public := "renamed", true
	up, err := app.Files.Update(ctx, f.ID, parse.FileUpdate{Name: &name, IsPublic: &public, Annotations: map[string]any{"n": 1.0}})
	if err != nil || up.Name != "renamed" || !up.IsPublic || up.Annotations["n"] != 1.0 || up.URL != "http://example.test/parse/files/"+f.ID+"/content" {
		t.Fatalf("Update: %+v, %v", up, err)
	}
	rc, info, err := app.Files.OpenContent(ctx, f.ID, "preview", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "ID3 short" || info.MimeType != "audio/mpeg" {
		t.Fatalf("derived content %q %+v", b, info)
	}
	del, err := app.Files.Remove(ctx, f.ID)
	if err != nil || !del.Deleted {
		t.Fatalf("Remove: %+v, %v", del, err)
	}
	if _, err := app.Files.Get(ctx, f.ID, ""); parse.ErrorCode(err) != parse.ObjectNotFound {
		t.Fatalf("Get after Remove: %v", err)
	}
}

// A user's private file: others see nothing; the token opens it, with
// no rights beyond reading.
func TestFilesGoPrivate(t *testing.T) {
	t.Parallel()
	app, _ := newFilesApp(t, func(c *parse.Config) { c.Files.Upload = &parse.FileUpload{EnableForAuthenticatedUser: true} })
	ctx := context.Background()
	owner := parse.WithAuth(ctx, parse.Auth{User: &parse.Object{ID: "owner00001"}})
	other := parse.WithAuth(ctx, parse.Auth{User: &parse.Object{ID: "other00001"}})
	public := parse.WithAuth(ctx, parse.Auth{})
	img := gifBytes(t, 20, 10)
	f, err := app.Files.Create(owner, parse.FileSpec{Name: "a.gif", Kind: parse.FileKindImage, Type: "com.example.pic"},
		parse.FileContent{Reader: bytes.NewReader(img)})
	if err != nil {
		t.Fatal(err)
	}
	if f.Owner != "owner00001" || f.MimeType != "image/gif" || f.ImageInfo == nil || *f.ImageInfo != (parse.ImageInfo{Width: 20, Height: 10}) {
		t.Fatalf("file %+v", f)
	}
	if d := f.Derived[parse.DerivedThumb200s]; d.MimeType != "image/gif" || *d.ImageInfo != (parse.ImageInfo{Width: 200, Height: 200}) {
		t.Fatalf("200s %+v", d)
	}
	for name, c := range map[string]context.Context{"other": other, "public": public} {
		if _, err := app.Files.Get(c, f.ID, ""); parse.ErrorCode(err) != parse.ObjectNotFound {
			t.Errorf("%s Get: %v", name, err)
		}
		if _, _, err := app.Files.OpenContent(c, f.ID, "", "forged"); parse.ErrorCode(err) != parse.ObjectNotFound {
			t.Errorf("%s with a forged token: %v", name, err)
		}
		rc, _, err := app.Files.OpenContent(c, f.ID, "", f.FileToken)
		if err != nil {
			t.Fatalf("%s with the token: %v", name, err)
		}
		rc.Close()
		if _, err := app.Files.Remove(c, f.ID); parse.ErrorCode(err) != parse.ObjectNotFound {
			t.Errorf("%s Remove: %v", name, err)
		}
	}
	if mine, err := app.Files.Mine(other, "", 0); err != nil || len(mine) != 0 {
		t.Fatalf("other's files: %v %v", mine, err)
	}
	if mine, err := app.Files.Mine(owner, "com.example.pic", 0); err != nil || len(mine) != 1 || mine[0].FileToken != f.FileToken {
		t.Fatalf("owner's files: %v %v", mine, err)
	}
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func gifBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, color.Black})
	img.SetColorIndex(1, 1, 1)
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Racing writers of one placeholder: one content wins, one derived file
// per key, and the losers' blobs are gone.
func TestFilesGoConcurrentContent(t *testing.T) {
	t.Parallel()
	app, blobs := newFilesApp(t, nil)
	ctx := context.Background()
	f, err := app.Files.CreatePlaceholder(ctx, parse.FileSpec{Name: "race", Kind: parse.FileKindOther, Type: "com.example.race"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	errs := make(chan error, 2*n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			errs <- app.Files.AddDerived(ctx, f.ID, "alt", parse.FileContent{Reader: bytes.NewReader([]byte{byte(i)})})
		}()
	}
	close(start)
	won := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			won++
		case parse.ErrorCode(err) != parse.DuplicateValue && parse.ErrorCode(err) != parse.FileSaveError:
			t.Fatalf("AddDerived: %v", err)
		}
	}
	start = make(chan struct{})
	for i := range n {
		go func() {
			<-start
			errs <- app.Files.SetContent(ctx, f.ID, parse.FileContent{Reader: bytes.NewReader([]byte{'a' + byte(i)})})
		}()
	}
	close(start)
	completed := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			completed++
		case parse.ErrorCode(err) != parse.FileSaveError:
			t.Fatalf("SetContent: %v", err)
		}
	}
	if won != 1 || completed != 1 {
		t.Fatalf("%d derived files and %d contents won, want 1 and 1", won, completed)
	}
	got, err := app.Files.Get(ctx, f.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := app.Files.OpenContent(ctx, f.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if len(got.Derived) != 1 || got.SHA256 != sum(b) {
		t.Fatalf("file %+v holds %q", got, b)
	}
	// Every losing blob was deleted: removing the file leaves none.
	if _, err := app.Files.Remove(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if live := blobs.live(); live != 0 {
		t.Fatalf("%d blobs left", live)
	}
}

// Audio is capped at 50 MiB whatever MaxFileBytes allows; the refused
// upload leaves nothing behind.
func TestFilesGoAudioLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs, err := fsblob.New(dir, fsblob.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := newFilesApp(t, func(c *parse.Config) { c.Blobs = fs; c.Files.MaxFileBytes = 64 << 20 })
	ctx := context.Background()
	spec := parse.FileSpec{Name: "long.mp3", Kind: parse.FileKindAudio, Type: "com.example.song"}
	audio := func(n int64) io.Reader {
		return io.MultiReader(bytes.NewReader([]byte("ID3")), io.LimitReader(zeros{}, n-3))
	}
	_, err = app.Files.Create(ctx, spec, parse.FileContent{Reader: audio(50<<20 + 1)})
	if !errors.Is(err, parse.ErrFileTooLarge) || parse.ErrorCode(err) != parse.FileSaveError {
		t.Fatalf("50 MiB + 1 of audio: %v", err)
	}
	var left []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, path)
		}
		return err
	})
	if len(left) != 0 {
		t.Fatalf("files left in the blob directory: %v", left)
	}
	f, err := app.Files.Create(ctx, spec, parse.FileContent{Reader: audio(50 << 20)})
	if err != nil || f.Size != 50<<20 || f.MimeType != "audio/mpeg" {
		t.Fatalf("50 MiB of audio: %+v, %v", f, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A Parse upload of an image gets its thumbnails too, made after the
// answer; Close waits for them.
func TestFilesParseUploadThumbnails(t *testing.T) {
	t.Parallel()
	app, blobs := newFilesApp(t, nil)
	ctx := parse.WithAuth(context.Background(), parse.Auth{User: &parse.Object{ID: "uploader01"}})
	img := gifBytes(t, 700, 1000)
	if _, err := app.Files.Upload(ctx, "tall.gif", "image/gif", bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	app.Close()
	mine, err := app.Files.Mine(ctx, parse.FileTypeParse, 0)
	if err != nil || len(mine) != 1 {
		t.Fatalf("Mine: %v %v", mine, err)
	}
	f := mine[0]
	if *f.ImageInfo != (parse.ImageInfo{Width: 700, Height: 1000}) || len(f.Derived) != 2 ||
		*f.Derived[parse.DerivedThumb960r].ImageInfo != (parse.ImageInfo{Width: 640, Height: 914}) {
		t.Fatalf("file %+v", f)
	}
	// Parse's delete takes the thumbnails with the file.
	if err := app.Files.Delete(parse.WithAuth(ctx, parse.Auth{Master: true}), f.Name); err != nil {
		t.Fatal(err)
	}
	if live := blobs.live(); live != 0 {
		t.Fatalf("%d blobs left", live)
	}
}
