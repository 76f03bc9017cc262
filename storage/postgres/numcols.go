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

// numberColumns returns the fields of class that have a number column:
// cached, or read from the catalog (one round trip). Statements in a
// transaction do not use them (see prepare).
func (s *Store) numberColumns(ctx context.Context, class string) (map[string]bool, error) {
	if cols, ok := s.tables.numbers(class); ok {
		return cols, nil
	}
	const sql = `SELECT substr(attname, 2) FROM pg_attribute
		WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped AND attname LIKE '#%'`
	rows, err := s.q.Query(ctx, sql, s.table(class))
	if err != nil {
		return nil, s.wrap("read number columns of "+class, err)
	}
	cols := map[string]bool{}
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			return nil, s.wrap("read number columns of "+class, err)
		}
		cols[f] = true
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read number columns of "+class, err)
	}
	s.tables.setNumbers(class, cols)
	return cols, nil
}

// numberCache is the part of tableCache that holds number columns.
type numberCache struct {
	mu   sync.RWMutex
	cols map[string]map[string]bool // class → fields with a number column
}

func (c *numberCache) numbers(class string) (map[string]bool, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cols, ok := c.cols[class]
	return cols, ok
}

func (c *numberCache) setNumbers(class string, cols map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cols == nil {
		c.cols = map[string]map[string]bool{}
	}
	c.cols[class] = cols
}

// forgetNumbers evicts a class's entry ("" evicts all).
func (c *numberCache) forgetNumbers(class string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if class == "" {
		clear(c.cols)
		return
	}
	delete(c.cols, class)
}
