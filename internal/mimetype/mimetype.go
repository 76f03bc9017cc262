// Package mimetype resolves file names to content types and back as the
// reference Parse Server does, with the tables of the npm packages it uses
// (mime 4 and mime-db), rather than Go's mime package, whose answers depend
// on the host's /etc/mime.types.
//
// table.go is generated: go run gen.go (see its doc comment); NOTICE
// holds the licenses of the packages its data comes from.
package mimetype

import "strings"

// ByName returns the content type of a file name from its extension, ""
// when the extension is unknown, as mime.getType: the extension is what
// follows the last dot of the last path segment, and a name without a dot
// is taken as a bare extension ("txt" is text/plain).
func ByName(name string) string {
	last := name[strings.LastIndexAny(name, `/\`)+1:]
	last = strings.ToLower(last)
	ext := last[strings.LastIndexByte(last, '.')+1:]
	hasPath := len(last) < len(name)
	hasDot := len(ext) < len(last)-1
	if !hasDot && hasPath {
		return ""
	}
	return byExtension[ext]
}

// Extension returns the usual extension of a content type, without the
// dot ("png"), or "" when the type is unknown, as mime.getExtension;
// parameters (";charset=...") are ignored.
func Extension(contentType string) string {
	t, _, _ := strings.Cut(contentType, ";")
	return extensionOf[strings.ToLower(strings.TrimSpace(t))]
}

// WithCharset returns contentType with the charset Express adds when it
// sets a Content-Type header (mime-types' contentType): "; charset=utf-8"
// for text/* and the types mime-db gives a charset, unless one is given.
func WithCharset(contentType string) string {
	if strings.Contains(contentType, "charset") {
		return contentType
	}
	base := strings.TrimLeft(contentType, " \t\r\n")
	if i := strings.IndexAny(base, "; \t\r\n"); i >= 0 {
		base = base[:i]
	}
	base = strings.ToLower(base)
	cs, ok := charsetOf[base]
	if !ok && strings.HasPrefix(base, "text/") {
		cs = "utf-8"
	}
	if cs == "" {
		return contentType
	}
	return contentType + "; charset=" + cs
}
