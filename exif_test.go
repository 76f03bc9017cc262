package parse

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/parsego/parse/internal/pgtest"
	"github.com/parsego/parse/storage/fsblob"
)

// withOrientation inserts an EXIF segment holding orientation o after a
// JPEG's SOI marker, in the byte order bo.
func withOrientation(jpg []byte, o uint16, bo binary.ByteOrder) []byte {
	var tiff bytes.Buffer
	if bo == binary.LittleEndian {
		tiff.WriteString("II")
	} else {
		tiff.WriteString("MM")
	}
	binary.Write(&tiff, bo, uint16(42))
	binary.Write(&tiff, bo, uint32(8))                        // IFD0
	binary.Write(&tiff, bo, uint16(2))                        // entries
	binary.Write(&tiff, bo, [6]uint16{0x010F, 2, 0, 1, 0, 0}) // Make, skipped
	binary.Write(&tiff, bo, [4]uint16{0x0112, 3, 0, 1})       // Orientation, SHORT, count 1
	binary.Write(&tiff, bo, [2]uint16{o, 0})                  // its value
	binary.Write(&tiff, bo, uint32(0))                        // no IFD1
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func TestJPEGOrientation(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	plain := buf.Bytes()
	for _, tc := range []struct {
		name string
		b    []byte
		want int
	}{
		{"no EXIF", plain, 1},
		{"big-endian 6", withOrientation(plain, 6, binary.BigEndian), 6},
		{"little-endian 8", withOrientation(plain, 8, binary.LittleEndian), 8},
		{"out of range", withOrientation(plain, 9, binary.BigEndian), 1},
		{"not a JPEG", []byte("\x89PNG\r\n\x1a\n"), 1},
		{"truncated", withOrientation(plain, 6, binary.BigEndian)[:20], 1},
		{"empty", nil, 1},
	} {
		if got := jpegOrientation(tc.b); got != tc.want {
			t.Errorf("%s: orientation %d, want %d", tc.name, got, tc.want)
		}
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(withOrientation(plain, 6, binary.BigEndian))); err != nil || cfg.Width != 8 {
		t.Fatalf("the test's EXIF JPEG does not decode: %v", err)
	}
}

// orient turns a 3×2 image with a marked top-left pixel upright: where
// the mark lands, and the size, for every orientation.
func TestOrient(t *testing.T) {
	t.Parallel()
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	src.Set(0, 0, color.RGBA{255, 0, 0, 255})
	for o, want := range map[int]struct{ x, y, w, h int }{
		1: {0, 0, 3, 2}, 2: {2, 0, 3, 2}, 3: {2, 1, 3, 2}, 4: {0, 1, 3, 2},
		5: {0, 0, 2, 3}, 6: {1, 0, 2, 3}, 7: {1, 2, 2, 3}, 8: {0, 2, 2, 3},
	} {
		got := orient(src, o)
		b := got.Bounds()
		if b.Dx() != want.w || b.Dy() != want.h {
			t.Errorf("orientation %d: %dx%d, want %dx%d", o, b.Dx(), b.Dy(), want.w, want.h)
			continue
		}
		if r, _, _, _ := got.At(want.x, want.y).RGBA(); r != 0xFFFF {
			t.Errorf("orientation %d: the mark is not at (%d,%d)", o, want.x, want.y)
		}
	}
}

// A photo taken sideways (stored 1200×800, orientation 6) is 800×1200
// upright, and so are its thumbnails: what was its left is their top.
func TestThumbnailsUpright(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blobs, err := fsblob.New(t.TempDir(), fsblob.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(ctx, Config{AppID: "APP", MasterKey: "MASTER", ServerURL: "http://example.test/parse",
		Store: pgtest.NewStore(t), Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	raw := image.NewRGBA(image.Rect(0, 0, 1200, 800))
	for y := range 800 {
		for x := range 1200 {
			c := color.RGBA{0, 0, 255, 255}
			if x < 600 {
				c = color.RGBA{255, 0, 0, 255}
			}
			raw.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, raw, nil)
	f, err := app.Files.Create(ctx, FileSpec{Name: "photo.jpg", Kind: FileKindImage, Type: "com.example.photo"},
		FileContent{Reader: bytes.NewReader(withOrientation(buf.Bytes(), 6, binary.BigEndian))})
	if err != nil {
		t.Fatal(err)
	}
	if *f.ImageInfo != (ImageInfo{Width: 800, Height: 1200}) || *f.Derived[DerivedThumb960r].ImageInfo != (ImageInfo{Width: 640, Height: 960}) {
		t.Fatalf("sizes: %+v, 960r %+v", f.ImageInfo, f.Derived[DerivedThumb960r].ImageInfo)
	}
	for key, size := range map[string]image.Point{DerivedThumb200s: {200, 200}, DerivedThumb960r: {640, 960}} {
		rc, _, err := app.Files.OpenContent(ctx, f.ID, key, "")
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(rc)
		rc.Close()
		if err != nil || img.Bounds().Size() != size {
			t.Fatalf("%s: %v, %v", key, img.Bounds(), err)
		}
		top, bottom := img.At(size.X/2, 5), img.At(size.X/2, size.Y-5)
		if r, _, b, _ := top.RGBA(); r < 0xC000 || b > 0x4000 {
			t.Errorf("%s: top %v, want red", key, top)
		}
		if r, _, b, _ := bottom.RGBA(); b < 0xC000 || r > 0x4000 {
			t.Errorf("%s: bottom %v, want blue", key, bottom)
		}
	}
}
