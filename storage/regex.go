package storage

import (
	"strings"
	"unicode"
)

// StripExtendedRegex removes what a Regex's x option ignores: unescaped
// whitespace and # comments outside character classes.
func StripExtendedRegex(p string) string {
	var b strings.Builder
	inClass := false
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs):
			b.WriteRune(r)
			i++
			b.WriteRune(rs[i])
			continue
		case inClass:
			if r == ']' {
				inClass = false
			}
		case r == '[':
			inClass = true
			b.WriteRune(r)
			// A ] right after [ or [^ is a literal.
			if i+1 < len(rs) && rs[i+1] == '^' {
				i++
				b.WriteRune(rs[i])
			}
			if i+1 < len(rs) && rs[i+1] == ']' {
				i++
				b.WriteRune(rs[i])
			}
			continue
		case unicode.IsSpace(r):
			continue
		case r == '#':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
