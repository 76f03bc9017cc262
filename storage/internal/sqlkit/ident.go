package sqlkit

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/parsego/parse/storage"
)

// ValidIdent reports whether name matches ^[A-Za-z_][A-Za-z0-9_]*$.
func ValidIdent(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// QuoteLiteral quotes s as an SQL string literal, for the few places that
// cannot take bind parameters (DDL, JSON paths an expression index must
// match); s is always built from validated identifiers.
func QuoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// SplitPath validates a field name or dot path and returns its segments.
func SplitPath(field string) ([]string, error) {
	segs := strings.Split(field, ".")
	for _, seg := range segs {
		if !ValidIdent(seg) {
			return nil, fmt.Errorf("invalid field name %q: %w", field, storage.ErrInvalidQuery)
		}
	}
	return segs, nil
}

// JoinName returns the name of a relation's join table.
func JoinName(field, class string) string { return "_Join:" + field + ":" + class }

// RawOrEmpty returns the JSON document, {} for an empty one.
func RawOrEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return b
}

// CondTables appends the tables other than the class's own that c reads:
// the join tables of its relation conditions and the classes of its
// subqueries, with theirs. Names are not validated: the adapters' builders
// refuse invalid ones.
func CondTables(c storage.Cond, out []string) []string {
	switch c := c.(type) {
	case storage.And:
		for _, x := range c {
			out = CondTables(x, out)
		}
	case storage.Or:
		for _, x := range c {
			out = CondTables(x, out)
		}
	case storage.Nor:
		for _, x := range c {
			out = CondTables(x, out)
		}
	case storage.RelatedTo:
		out = append(out, JoinName(c.Relation.Field, c.Relation.OwningClass))
	case storage.InQuery:
		out = CondTables(c.Where, append(out, c.Class))
	case storage.Select:
		out = CondTables(c.Where, append(out, c.Class))
	case storage.RelationHas:
		out = append(out, JoinName(c.Relation.Field, c.Relation.OwningClass))
		if c.Related != nil {
			out = CondTables(*c.Related, out)
		}
	}
	return out
}
