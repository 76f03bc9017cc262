package mimetype

import "testing"

// The expectations are the reference's answers (mime 4.1.0, mime-types 3.0.2).
func TestByName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, want string }{
		{"hello.txt", "text/plain"},
		{"PIC.PNG", "image/png"},
		{"a.b.jpg", "image/jpeg"},
		{"x.bin", "application/octet-stream"},
		{"data.json", "application/json"},
		{"foo.zzz", ""},
		{"noext", ""},
		{"txt", "text/plain"}, // a bare extension
		{"dir/txt", ""},       // but not after a path
		{"dir/a.mp4", "video/mp4"},
		{"dot.", ""},
		{"", ""},
	} {
		if got := ByName(c.name); got != c.want {
			t.Errorf("ByName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestExtension(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ typ, want string }{
		{"image/png", "png"},
		{"image/jpeg", "jpg"},
		{"text/plain", "txt"},
		{"text/plain; charset=utf-8", "txt"},
		{" IMAGE/PNG ", "png"},
		{"application/octet-stream", "bin"},
		{"application/x-www-form-urlencoded", ""},
		{"", ""},
	} {
		if got := Extension(c.typ); got != c.want {
			t.Errorf("Extension(%q) = %q, want %q", c.typ, got, c.want)
		}
	}
}

func TestWithCharset(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ typ, want string }{
		{"text/plain", "text/plain; charset=utf-8"},
		{"text/html", "text/html; charset=utf-8"},
		{"application/json", "application/json; charset=utf-8"},
		{"application/javascript", "application/javascript; charset=utf-8"},
		{"image/png", "image/png"},
		{"application/xml", "application/xml"},
		{"application/octet-stream", "application/octet-stream"},
		{"text/plain; charset=latin1", "text/plain; charset=latin1"},
		{"foo/bar", "foo/bar"},
	} {
		if got := WithCharset(c.typ); got != c.want {
			t.Errorf("WithCharset(%q) = %q, want %q", c.typ, got, c.want)
		}
	}
}
