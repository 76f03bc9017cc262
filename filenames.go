package parse

import (
	"strings"

	"github.com/parsego/parse/internal/mimetype"
)

// ValidateFileName checks the name of a file to upload as the reference's
// files adapter does: at most 128 characters, a letter, digit or
// underscore first, then letters, digits and @ . space ~ _ -. It reports
// a bad name as 122 (InvalidFileName).
func ValidateFileName(name string) error {
	switch {
	case name == "":
		return NewError(InvalidFileName, "Filename not provided.")
	case len(name) > 128:
		return NewError(InvalidFileName, "Filename too long.")
	case !validFileName(name):
		return NewError(InvalidFileName, "Filename contains invalid characters.")
	}
	return nil
}

// validFileName matches ^[_a-zA-Z0-9][a-zA-Z0-9@. ~_-]*$.
func validFileName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case i > 0 && (c == '@' || c == '.' || c == ' ' || c == '~' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// fileExtension is what follows the last dot of a name, "" without one
// (the reference's Utils.getFileExtension).
func fileExtension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	return name[i+1:]
}

// resolveFileType is the reference's FilesController.createFile naming: a
// name without an extension gains the one of its content type; a name
// with an extension of known type takes that type.
func resolveFileType(name, contentType string) (string, string) {
	if ext := fileExtension(name); ext == "" {
		if e := mimetype.Extension(contentType); contentType != "" && e != "" {
			if !strings.HasSuffix(name, ".") {
				name += "."
			}
			name += e
		}
	} else if t := mimetype.ByName(name); t != "" {
		contentType = t
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return name, contentType
}

// checkExtension applies FileUpload.FileExtensions to a caller without the
// master key, as the reference's createHandler does: the name's extension
// must be allowed and, when that extension has no known type (so the file
// would be served with the declared type), the declared type must be well
// formed and its subtype allowed.
func (f *Files) checkExtension(name, contentType string) error {
	refuse := func(ext string) error {
		return NewError(FileSaveError, "File upload of extension %s is disabled.", ext)
	}
	ext, _, _ := strings.Cut(fileExtension(name), ";")
	ext = removeSpace(ext)
	if ext != "" && !f.extensionAllowed(ext) {
		return refuse(ext)
	}
	recognized := ext != "" && mimetype.ByName(name) != ""
	if recognized || contentType == "" || f.anyExt {
		return nil
	}
	var typ, sub string
	slash := strings.IndexByte(contentType, '/')
	if slash > 0 {
		typ = strings.TrimSpace(contentType[:slash])
		sub, _, _ = strings.Cut(contentType[slash+1:], ";")
		sub = strings.TrimSpace(sub)
	}
	if !isToken(typ) || !isToken(sub) {
		// Browsers sniff a type they cannot parse, so a malformed one is
		// refused; a bare blocked token ("svg") gets the blocklist message.
		bare := typ
		if slash < 0 {
			bare, _, _ = strings.Cut(contentType, ";")
		}
		if bare = removeSpace(bare); bare != "" && !f.extensionAllowed(bare) {
			return refuse(bare)
		}
		return NewError(FileSaveError, "Invalid Content-Type.")
	}
	if sub = removeSpace(sub); !f.extensionAllowed(sub) {
		return refuse(sub)
	}
	return nil
}

func (f *Files) extensionAllowed(ext string) bool {
	if f.anyExt {
		return true
	}
	if f.upload.FileExtensions == nil {
		return !blockedExtensions.MatchString(ext)
	}
	for _, re := range f.exts {
		if re.MatchString(ext) {
			return true
		}
	}
	return false
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func removeSpace(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// encodeURIComponent escapes s as JavaScript's encodeURIComponent, which
// the reference applies to file names in URLs.
func encodeURIComponent(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !uriUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; uriUnreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

func uriUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("-_.!~*'()", c) >= 0
}
