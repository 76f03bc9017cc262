package parse

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"

	"github.com/parsego/parse/storage"
)

// Thumbnails: a complete image (JPEG, PNG or GIF; the first frame of a
// GIF) without its own gets DerivedThumb200s, resized to cover 200×200 and
// cropped to it, and, when it is larger than 640×960, DerivedThumb960r,
// resized to fit. They are made while the request that completed the
// file waits, so that its answer lists them, but never more at once than
// the App has CPUs. The size in the header is checked before anything is
// decoded, so a small file claiming a huge image (a decompression bomb)
// costs nothing; it simply gets no thumbnails. A JPEG's EXIF orientation
// is applied (exif.go): thumbnails come out upright.

// maxImageSide caps either side of an image the App decodes.
const maxImageSide = 16384

// makeThumbnails adds the missing thumbnails of a complete image to its
// record (sf too). A failure is logged: the file is complete without them.
func (f *Files) makeThumbnails(ctx context.Context, sf *storedFile) {
	d := &sf.doc
	info := d.ImageInfo
	if d.Kind != FileKindImage || !isImageMime(d.MimeType) || info == nil {
		return
	}
	if info.Width > maxImageSide || info.Height > maxImageSide || int64(info.Width)*int64(info.Height) > f.maxPixels {
		return
	}
	_, has200 := d.Derived[DerivedThumb200s]
	_, has960 := d.Derived[DerivedThumb960r]
	need960 := !has960 && (info.Width > 640 || info.Height > 960)
	if has200 && !need960 {
		return
	}
	select {
	case f.thumbs <- struct{}{}:
		defer func() { <-f.thumbs }()
	case <-ctx.Done():
		return
	}
	src, o, err := f.decodeImage(ctx, d.Blob, d.MimeType)
	if err != nil {
		f.app.log.Warn("files: no thumbnails", "file", sf.id, "err", err)
		return
	}
	// Scale in the stored orientation, then turn the small result upright:
	// a centred square crop is the same either way, and info is upright.
	if !has200 {
		f.addThumbnail(ctx, sf, DerivedThumb200s, orient(cover(src, 200, 200), o))
	}
	if need960 {
		w, h := fit(info.Width, info.Height, 640, 960)
		w, h = orientedSize(w, h, o) // back to the stored orientation
		f.addThumbnail(ctx, sf, DerivedThumb960r, orient(resize(src, src.Bounds(), w, h), o))
	}
}

// decodeImage decodes a stored image with the decoder of its type only
// (never through image.Decode's registry), and returns it with its EXIF
// orientation. The decoders have panicked on hostile input before; a
// panic is an error here.
func (f *Files) decodeImage(ctx context.Context, blob, mime string) (img image.Image, orientation int, err error) {
	rc, _, err := f.blobs.GetBlob(ctx, blob)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	defer func() {
		if v := recover(); v != nil {
			img, err = nil, fmt.Errorf("decoding the image panicked: %v", v)
		}
	}()
	r := bufio.NewReaderSize(rc, headSize)
	switch mime {
	case "image/jpeg":
		head, _ := r.Peek(headSize) // less at the end of a small file
		orientation = jpegOrientation(head)
		img, err = jpeg.Decode(r)
	case "image/png":
		img, err = png.Decode(r)
	default:
		img, err = gif.Decode(r)
	}
	return img, orientation, err
}

// addThumbnail encodes a thumbnail in the file's type, stores it and
// records it, unless the key was taken meanwhile.
func (f *Files) addThumbnail(ctx context.Context, sf *storedFile, key string, img image.Image) {
	var buf bytes.Buffer
	if err := encodeImage(&buf, img, sf.doc.MimeType); err != nil {
		f.app.log.Warn("files: thumbnail not encoded", "file", sf.id, "key", key, "err", err)
		return
	}
	blob := lifecycleBlobPrefix + sf.id + "/" + newFilePrefix() + "-" + key
	bw, err := f.writeBlob(ctx, blob, &buf, storage.BlobMeta{ContentType: sf.doc.MimeType}, blobLimits{max: f.maxFile})
	if err != nil {
		f.app.log.Warn("files: thumbnail not stored", "file", sf.id, "key", key, "err", err)
		return
	}
	b := img.Bounds()
	dd := derivedDoc{MimeType: sf.doc.MimeType, Size: bw.size, SHA256: bw.sha256, Blob: blob,
		ImageInfo: &ImageInfo{Width: b.Dx(), Height: b.Dy()}}
	if err := f.setDerived(ctx, sf.id, key, dd, nil); err != nil {
		f.deleteBlobs(ctx, blob)
		return
	}
	if sf.doc.Derived == nil {
		sf.doc.Derived = map[string]derivedDoc{}
	}
	sf.doc.Derived[key] = dd
}

func encodeImage(w io.Writer, img image.Image, mime string) error {
	switch mime {
	case "image/jpeg":
		return jpeg.Encode(w, img, &jpeg.Options{Quality: 85})
	case "image/png":
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
	default:
		return gif.Encode(w, img, nil)
	}
}

// cover resizes the centred part of src with the aspect ratio of w×h to
// exactly w×h.
func cover(src image.Image, w, h int) image.Image {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	cw, ch := sw, sw*h/w
	if ch > sh {
		cw, ch = sh*w/h, sh
	}
	x0, y0 := b.Min.X+(sw-cw)/2, b.Min.Y+(sh-ch)/2
	return resize(src, image.Rect(x0, y0, x0+max(cw, 1), y0+max(ch, 1)), w, h)
}

// fit is the largest size of w×h's aspect ratio within maxW×maxH.
func fit(w, h, maxW, maxH int) (int, int) {
	if w*maxH > h*maxW { // wider than the box
		return maxW, max(1, h*maxW/w)
	}
	return max(1, w*maxH/h), maxH
}

// resize scales the part r of src to w×h. Catmull-Rom gives sharp
// thumbnails but is slow on large images, so a cheap bilinear pass first
// brings a large source down to twice the target.
func resize(src image.Image, r image.Rectangle, w, h int) image.Image {
	if r.Dx() > 4*w && r.Dy() > 4*h {
		mid := image.NewRGBA(image.Rect(0, 0, 2*w, 2*h))
		draw.ApproxBiLinear.Scale(mid, mid.Bounds(), src, r, draw.Src, nil)
		src, r = mid, mid.Bounds()
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, r, draw.Src, nil)
	return dst
}
