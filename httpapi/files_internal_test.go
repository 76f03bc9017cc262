package httpapi

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestMatchFile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		method, path string
		want         fileRoute
	}{
		{"POST", "/files", fileRoute{kind: fileNoName}},
		{"POST", "/files/", fileRoute{kind: fileNoName}},
		{"POST", "/files/hello.txt", fileRoute{kind: fileUpload, name: "hello.txt"}},
		{"POST", "/Files/hello.txt", fileRoute{kind: fileUpload, name: "hello.txt"}},
		{"POST", "/files/a%20b.txt", fileRoute{kind: fileUpload, name: "a b.txt"}},
		{"POST", "/files/a%2Fb.txt", fileRoute{kind: fileUpload, name: "a/b.txt"}},
		{"POST", "/files/a/b.txt", fileRoute{}},
		{"POST", "/files/bad%zz", fileRoute{}},
		{"GET", "/files/APP/x_hello.txt", fileRoute{kind: fileDownload, appID: "APP", name: "x_hello.txt"}},
		{"HEAD", "/files/APP/x_hello.txt", fileRoute{kind: fileDownload, appID: "APP", name: "x_hello.txt"}},
		{"GET", "/files/APP/dir/x.txt", fileRoute{kind: fileDownload, appID: "APP", name: "dir/x.txt"}},
		{"GET", "/files/APP/metadata/x.txt", fileRoute{kind: fileMetadata, appID: "APP", name: "x.txt"}},
		{"GET", "/files/APP/metadata", fileRoute{kind: fileDownload, appID: "APP", name: "metadata"}},
		{"GET", "/files/APP", fileRoute{}},
		{"GET", "/files", fileRoute{kind: fileList}},
		{"HEAD", "/files", fileRoute{}},
		{"GET", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV", fileRoute{kind: fileGet, name: "01ARZ3NDEKTSV4RRFFQ69G5FAV"}},
		{"GET", "/files/01arz3ndektsv4rrffq69g5fav", fileRoute{}},
		{"GET", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV/content", fileRoute{kind: fileContent, name: "01ARZ3NDEKTSV4RRFFQ69G5FAV"}},
		{"HEAD", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV/content/core_image_200s", fileRoute{kind: fileContent, name: "01ARZ3NDEKTSV4RRFFQ69G5FAV", key: "core_image_200s"}},
		{"GET", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV/x_content", fileRoute{kind: fileDownload, appID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", name: "x_content"}},
		{"GET", "/files/APP/content", fileRoute{kind: fileDownload, appID: "APP", name: "content"}},
		{"PUT", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV", fileRoute{kind: fileUpdate, name: "01ARZ3NDEKTSV4RRFFQ69G5FAV"}},
		{"PATCH", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV", fileRoute{kind: fileUpdate, name: "01ARZ3NDEKTSV4RRFFQ69G5FAV"}},
		{"PUT", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV/content", fileRoute{kind: fileSetContent, name: "01ARZ3NDEKTSV4RRFFQ69G5FAV"}},
		{"PUT", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV/content/thumb", fileRoute{kind: fileSetContent, name: "01ARZ3NDEKTSV4RRFFQ69G5FAV", key: "thumb"}},
		{"PATCH", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV/content", fileRoute{}},
		{"DELETE", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV", fileRoute{kind: fileRemove, name: "01ARZ3NDEKTSV4RRFFQ69G5FAV"}},
		{"DELETE", "/files/0123456789abcdef0123456789abcdef_01ARZ3NDEKTSV4RRFFQ69G5FAV", fileRoute{kind: fileDelete, name: "0123456789abcdef0123456789abcdef_01ARZ3NDEKTSV4RRFFQ69G5FAV"}},
		{"DELETE", "/files/x.txt", fileRoute{kind: fileDelete, name: "x.txt"}},
		{"DELETE", "/files/dir/x.txt", fileRoute{kind: fileDelete, name: "dir/x.txt"}},
		{"DELETE", "/files", fileRoute{}},
		{"PUT", "/files/x.txt", fileRoute{}},
		{"POST", "/filesx/y", fileRoute{}},
		{"POST", "/classes/files", fileRoute{}},
	} {
		if got := matchFile(c.method, c.path); got != c.want {
			t.Errorf("matchFile(%s %q) = %+v, want %+v", c.method, c.path, got, c.want)
		}
	}
}

// decodeBase64Loose agrees with Node's Buffer.from(s, "base64"); the
// expectations were taken from Node.
func TestDecodeBase64Loose(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []byte
	}{
		{"", nil},
		{"aGVsbG8=", []byte("hello")},
		{"aGVsbG8", []byte("hello")},
		{"aGVs bG8=\n", []byte("hello")},
		{"a$G-V_sb G8=xx", []byte{0x68, 0x6f, 0x95, 0xfe, 0xc6, 0xc6}},
		{"aGk=aGk=", []byte("hi")},
		{"a", nil},
		{"aG", []byte("h")},
	} {
		if got := decodeBase64Loose(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("decodeBase64Loose(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	raw := make([]byte, 1000)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if got := decodeBase64Loose(enc.EncodeToString(raw)); !bytes.Equal(got, raw) {
			t.Errorf("%v: round trip failed", enc)
		}
	}
}
