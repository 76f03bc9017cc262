package postgres

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"

	"github.com/parsego/parse/storage"
)

// translateRegex turns a Regex condition (RE2 syntax, Parse's $options) into
// an equivalent PostgreSQL ARE.
//
// PostgreSQL's regex flavour differs from RE2 in ways Parse users hit: \b is
// a backspace there (a word boundary is \y), (?s) and (?m) mean other things
// (its "s" is the default, its "m" means newline-sensitive, which changes
// both . and ^/$ and also [^a]), and RE2 syntax such as \z or (?i) inside a
// group is not accepted. Rather than mapping options and hoping, the pattern
// is parsed with Go's regexp/syntax (which also rejects invalid patterns
// before they reach the database) and the tree is written back as an ARE
// that runs in PostgreSQL's default mode, where . and every bracket
// expression can match a newline:
//
//   - every character outside [A-Za-z0-9] is written as a \u or \U escape,
//     so no character is ever a metacharacter;
//   - case folding is spelt out ([kK\u212a]) instead of using ~*;
//   - . without the s option is [^\n]; ^ and $ with the m option are
//     (?:^|(?<=\n)) and (?:$|(?=\n)); \b is \y;
//   - greediness is dropped, as it cannot change whether a string matches.
func translateRegex(pattern, options string) (string, error) {
	flags := syntax.Perl // Go's regexp.Compile: ^ $ at text ends, . excludes \n
	for _, o := range options {
		switch o {
		case 'i':
			flags |= syntax.FoldCase
		case 'm':
			flags &^= syntax.OneLine
		case 's':
			flags |= syntax.DotNL
		case 'x':
		default:
			return "", fmt.Errorf("postgres: regex option %q: %w", o, storage.ErrInvalidQuery)
		}
	}
	if strings.ContainsRune(options, 'x') {
		pattern = storage.StripExtendedRegex(pattern)
	}
	re, err := syntax.Parse(pattern, flags)
	if err != nil {
		return "", fmt.Errorf("postgres: regex %q: %v: %w", pattern, err, storage.ErrInvalidQuery)
	}
	var b strings.Builder
	if err := writeARE(&b, re); err != nil {
		return "", err
	}
	return b.String(), nil
}

// maxRepeat is PostgreSQL's limit on a bound ({m,n}).
const maxRepeat = 255

func writeARE(b *strings.Builder, re *syntax.Regexp) error {
	switch re.Op {
	case syntax.OpNoMatch:
		b.WriteString("(?!)")
	case syntax.OpEmptyMatch:
		b.WriteString("(?:)")
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && unicode.SimpleFold(r) != r {
				b.WriteByte('[')
				for f := r; ; {
					writeRune(b, f)
					if f = unicode.SimpleFold(f); f == r {
						break
					}
				}
				b.WriteByte(']')
			} else {
				writeRune(b, r)
			}
		}
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			b.WriteString("(?!)")
			return nil
		}
		if len(re.Rune) == 2 && re.Rune[0] == 0 && re.Rune[1] == unicode.MaxRune {
			b.WriteByte('.')
			return nil
		}
		b.WriteByte('[')
		for i := 0; i < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo == 0 {
				lo = 1 // PostgreSQL text never holds NUL, nor accepts \u0000
				if hi == 0 {
					continue
				}
			}
			writeRune(b, lo)
			if hi != lo {
				b.WriteByte('-')
				writeRune(b, hi)
			}
		}
		b.WriteByte(']')
	case syntax.OpAnyCharNotNL:
		b.WriteString(`[^\n]`)
	case syntax.OpAnyChar:
		b.WriteByte('.')
	case syntax.OpBeginLine:
		b.WriteString(`(?:^|(?<=\n))`)
	case syntax.OpEndLine:
		b.WriteString(`(?:$|(?=\n))`)
	case syntax.OpBeginText:
		b.WriteByte('^')
	case syntax.OpEndText:
		b.WriteByte('$')
	case syntax.OpWordBoundary:
		b.WriteString(`\y`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\Y`)
	case syntax.OpCapture:
		b.WriteByte('(')
		if err := writeARE(b, re.Sub[0]); err != nil {
			return err
		}
		b.WriteByte(')')
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		b.WriteString("(?:")
		if err := writeARE(b, re.Sub[0]); err != nil {
			return err
		}
		b.WriteByte(')')
		switch re.Op {
		case syntax.OpStar:
			b.WriteByte('*')
		case syntax.OpPlus:
			b.WriteByte('+')
		case syntax.OpQuest:
			b.WriteByte('?')
		default:
			if re.Min > maxRepeat || re.Max > maxRepeat {
				return fmt.Errorf("postgres: regex repetition {%d,%d} above %d: %w", re.Min, re.Max, maxRepeat, storage.ErrInvalidQuery)
			}
			switch {
			case re.Max == -1:
				fmt.Fprintf(b, "{%d,}", re.Min)
			case re.Max == re.Min:
				fmt.Fprintf(b, "{%d}", re.Min)
			default:
				fmt.Fprintf(b, "{%d,%d}", re.Min, re.Max)
			}
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if err := writeARE(b, sub); err != nil {
				return err
			}
		}
	case syntax.OpAlternate:
		b.WriteString("(?:")
		for i, sub := range re.Sub {
			if i > 0 {
				b.WriteByte('|')
			}
			if err := writeARE(b, sub); err != nil {
				return err
			}
		}
		b.WriteByte(')')
	default:
		return fmt.Errorf("postgres: regex operator %v: %w", re.Op, storage.ErrInvalidQuery)
	}
	return nil
}

// writeRune writes r so that it can only mean itself, in or out of a
// bracket expression.
func writeRune(b *strings.Builder, r rune) {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		b.WriteRune(r)
	case r <= 0xFFFF:
		fmt.Fprintf(b, `\u%04x`, r)
	default:
		fmt.Fprintf(b, `\U%08x`, r)
	}
}
