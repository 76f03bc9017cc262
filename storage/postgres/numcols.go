package postgres

import (
	"context"
	"strings"
	"sync"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// Number columns. A schema index on one Number field is built on a stored
// generated column "#field": the field's value as float8, NULL for anything
// else, with "_rperm" included in the index. An index on the expression
// ("data"->'field') would serve the same queries, but its keys are jsonb,
// which compares slowly, and PostgreSQL's planner never answers a query from
// an expression index alone (it does not see that the expression needs no
// other column): a count over a range had to visit the table for every
// match. On the column, a count or a range with an order on the field runs
// as an index-only scan of float8 keys, several times faster.
//
// Queries use the column where it exists, and compare with the same
// results: the column holds exactly the field's numbers, and orders them
// like jsonb does, except that a JSON null sorts with the missing values.
// The store caches the number columns of each class beside the table cache;
// the schema notifications and the store's own schema changes evict them,
// and a statement that meets a column dropped behind the cache's back
// (42703) evicts and runs again. Statements in a transaction, which that
// error would abort, do without.

// numberColumn returns the name of field's number column, "" when the field
// is not one top-level name or the name would be too long.
func numberColumn(field string) string {
	if strings.Contains(field, ".") || !sqlkit.ValidIdent(field) || len(field)+1 > maxIdentLen {
		return ""
	}
	return "#" + field
}

// numberColumnDDL adds field's number column when it is missing. Adding a
// stored column rewrites the table under an exclusive lock, as building an
// index without CONCURRENTLY holds off writers.
func (s *Store) numberColumnDDL(class, field string) string {
	x := `("data" -> ` + sqlkit.QuoteLiteral(field) + `)`
	return `ALTER TABLE ` + s.table(class) + ` ADD COLUMN IF NOT EXISTS ` + quoteIdent(numberColumn(field)) +
		` float8 GENERATED ALWAYS AS (CASE WHEN jsonb_typeof` + x + ` = 'number' THEN ` + x + `::float8 END) STORED`
}

// numberIndexField returns the field an index on keys keeps in a number
// column: one top-level key whose field is a Number; "" otherwise.
func numberIndexField(keys map[string]any, fields map[string]storage.Field) string {
	if len(keys) != 1 {
		return ""
	}
	for k := range keys {
		if f, ok := fields[k]; ok && f.Type == "Number" && numberColumn(k) != "" {
			return k
		}
	}
	return ""
}

// layout is what statements on a class take from its physical layout:
// the fields with a number column, and the String fields with an index of
// their own (see condBuilder.eqAny).
type layout struct {
	numbers map[string]bool
	strings map[string]strIndex
}

// strIndex is the index that answers equalities on a String field.
type strIndex int

const (
	jsonIndex strIndex = iota + 1 // a schema index on ("data" -> 'f')
	textIndex                     // a case-sensitive unique one on ("data" ->> 'f')
)

// layoutOf returns class's layout: cached, or read from the catalog and
// the class's schema document (one round trip). Statements in a
// transaction do not use it (see prepare).
func (s *Store) layoutOf(ctx context.Context, class string) (layout, error) {
	if l, ok := s.tables.layout(class); ok {
		return l, nil
	}
	sql := `SELECT ARRAY(SELECT substr(attname, 2) FROM pg_attribute
			WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped AND attname LIKE '#%'),
		(SELECT "schema" FROM ` + s.nsq + `."_SCHEMA" WHERE "className" = $2)`
	var cols []string
	var doc []byte
	if err := s.q.QueryRow(ctx, sql, s.table(class), class).Scan(&cols, &doc); err != nil {
		return layout{}, s.wrap("read the layout of "+class, err)
	}
	l := layout{numbers: map[string]bool{}, strings: map[string]strIndex{}}
	for _, f := range cols {
		l.numbers[f] = true
	}
	if doc != nil {
		d, err := sqlkit.DecodeSchema(class, doc)
		if err != nil {
			return layout{}, err
		}
		isString := func(k string) bool { // a top-level String field
			f, ok := d.Fields[k]
			return ok && f.Type == "String" && sqlkit.ValidIdent(k)
		}
		for _, u := range d.Unique {
			if !u.CaseInsensitive && isString(u.Field) {
				l.strings[u.Field] = textIndex
			}
		}
		for _, keys := range d.Indexes {
			for k := range keys {
				if len(keys) == 1 && isString(k) {
					l.strings[k] = jsonIndex
				}
			}
		}
	}
	s.tables.setLayout(class, l)
	return l, nil
}

// layoutCache is the part of tableCache that holds layouts.
type layoutCache struct {
	mu      sync.RWMutex
	layouts map[string]layout
}

func (c *layoutCache) layout(class string) (layout, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	l, ok := c.layouts[class]
	return l, ok
}

func (c *layoutCache) setLayout(class string, l layout) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.layouts == nil {
		c.layouts = map[string]layout{}
	}
	c.layouts[class] = l
}

// forgetLayout evicts a class's entry ("" evicts all).
func (c *layoutCache) forgetLayout(class string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if class == "" {
		clear(c.layouts)
		return
	}
	delete(c.layouts, class)
}
