package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// LoadSchema returns every class in _SCHEMA.
func (s *Store) LoadSchema(ctx context.Context) ([]storage.Class, error) {
	defer s.lock()()
	rows, err := s.r.QueryContext(ctx, `SELECT "className", "schema" FROM "_SCHEMA" ORDER BY "className"`)
	if err != nil {
		return nil, s.wrap("load schema", err)
	}
	defer rows.Close()
	var out []storage.Class
	for rows.Next() {
		var name, raw string
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, s.wrap("load schema", err)
		}
		d, err := sqlkit.DecodeSchema(name, []byte(raw))
		if err != nil {
			return nil, err
		}
		out = append(out, d.Class(name))
	}
	return out, s.wrap("load schema", rows.Err())
}

// readSchema returns a class's schema, nil when the class does not exist.
func (s *Store) readSchema(ctx context.Context, q querier, class string) (*sqlkit.SchemaDoc, error) {
	var raw string
	err := q.QueryRowContext(ctx, `SELECT "schema" FROM "_SCHEMA" WHERE "className" = ?`, class).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.wrap("read schema", err)
	}
	return sqlkit.DecodeSchema(class, []byte(raw))
}

// CreateClass creates the class's _SCHEMA row, table, indexes and join
// tables in one transaction.
func (s *Store) CreateClass(ctx context.Context, c storage.Class) (storage.Class, error) {
	defer s.lock()()
	if err := checkClass(c.Name); err != nil {
		return storage.Class{}, err
	}
	if err := checkFields(c.Fields); err != nil {
		return storage.Class{}, err
	}
	doc := sqlkit.DocFromClass(c)
	d, err := s.changeSchema(ctx, c.Name, func(cur *sqlkit.SchemaDoc) (*schemaChange, error) {
		if cur != nil {
			return nil, fmt.Errorf("sqlite: create class %s: %w", c.Name, storage.ErrClassExists)
		}
		ch := &schemaChange{doc: doc, ddl: classDDL(c.Name)}
		for _, u := range doc.Unique {
			stmt, err := uniqueDDL(c.Name, u)
			if err != nil {
				return nil, err
			}
			if stmt != "" {
				ch.ddl = append(ch.ddl, stmt)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(doc.Indexes)) {
			stmt, err := indexDDL(c.Name, name, doc.Indexes[name], doc.Fields)
			if err != nil {
				return nil, err
			}
			ch.ddl = append(ch.ddl, stmt)
		}
		ch.ddl = append(ch.ddl, relationDDL(c.Name, doc.Fields)...)
		return ch, nil
	})
	if err != nil {
		return storage.Class{}, err
	}
	return d.Class(c.Name), nil
}

// AddFields adds the missing fields, creating the class when needed. Schema
// changes are serialized by the writer, so the first writer of a field
// wins and the others read its definition.
func (s *Store) AddFields(ctx context.Context, class string, fields map[string]storage.Field) (storage.Class, error) {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return storage.Class{}, err
	}
	if err := checkFields(fields); err != nil {
		return storage.Class{}, err
	}
	// Fast path, on a reader: nothing to add.
	if cur, err := s.readSchema(ctx, s.r, class); err != nil {
		return storage.Class{}, err
	} else if cur != nil && cur.HasFields(fields) {
		return cur.Class(class), nil
	}
	d, err := s.changeSchema(ctx, class, func(cur *sqlkit.SchemaDoc) (*schemaChange, error) {
		if cur == nil {
			doc := &sqlkit.SchemaDoc{Fields: maps.Clone(fields)}
			if doc.Fields == nil {
				doc.Fields = map[string]storage.Field{}
			}
			return &schemaChange{doc: doc, ddl: append(classDDL(class), relationDDL(class, fields)...)}, nil
		}
		if cur.HasFields(fields) {
			return nil, nil
		}
		ch := &schemaChange{doc: cur.Clone(), ddl: classDDL(class)}
		added := map[string]storage.Field{}
		for name, f := range fields {
			if _, ok := cur.Fields[name]; !ok {
				ch.doc.Fields[name] = f
				added[name] = f
			}
		}
		ch.ddl = append(ch.ddl, relationDDL(class, added)...)
		return ch, nil
	})
	if err != nil {
		return storage.Class{}, err
	}
	return d.Class(class), nil
}

// UpdateClass changes permissions, fields and indexes in one transaction.
// Deleted fields are removed from every object; deleting a Relation field
// drops its join table, and indexes on deleted fields are dropped too.
func (s *Store) UpdateClass(ctx context.Context, class string, u storage.ClassUpdate) (storage.Class, error) {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return storage.Class{}, err
	}
	if err := checkFields(u.AddFields); err != nil {
		return storage.Class{}, err
	}
	if err := checkFields(u.ChangeFields); err != nil {
		return storage.Class{}, err
	}
	for _, f := range u.DeleteFields {
		if !sqlkit.ValidIdent(f) {
			return storage.Class{}, fmt.Errorf("sqlite: invalid field name %q: %w", f, storage.ErrInvalidQuery)
		}
	}
	d, err := s.changeSchema(ctx, class, func(cur *sqlkit.SchemaDoc) (*schemaChange, error) {
		if cur == nil {
			return nil, fmt.Errorf("sqlite: update class %s: %w", class, storage.ErrClassNotFound)
		}
		ch := &schemaChange{doc: cur.Clone()}
		doc := ch.doc
		if u.CLP != nil {
			doc.CLP = u.CLP
		}
		// Deleted fields first, so that a field can be deleted and added
		// back with another type in one update.
		var strip []string
		for _, f := range u.DeleteFields {
			def, ok := doc.Fields[f]
			if !ok {
				continue
			}
			delete(doc.Fields, f)
			if def.Type == "Relation" {
				ch.ddl = append(ch.ddl, "DROP TABLE IF EXISTS "+quoteIdent(sqlkit.JoinName(f, class)))
				continue
			}
			strip = append(strip, sqlkit.QuoteLiteral(jsonPath([]string{f})))
			doc.Unique = slices.DeleteFunc(doc.Unique, func(x sqlkit.UniqueDoc) bool {
				if x.Field == f {
					ch.ddl = append(ch.ddl, "DROP INDEX IF EXISTS "+quoteIdent(uniqueIndexName(class, f)))
					return true
				}
				return false
			})
			for name, keys := range doc.Indexes {
				if sqlkit.IndexUses(keys, f) {
					ch.ddl = append(ch.ddl, "DROP INDEX IF EXISTS "+quoteIdent(indexName(class, name)))
					delete(doc.Indexes, name)
				}
			}
		}
		if len(strip) > 0 {
			ch.ddl = append(ch.ddl, `UPDATE `+quoteIdent(class)+` SET "data" = jsonb_remove("data", `+strings.Join(strip, ", ")+`)`)
		}
		added, err := doc.ApplyFields(u.AddFields, u.ChangeFields)
		if err != nil {
			return nil, fmt.Errorf("sqlite: update class %s: %w", class, err)
		}
		ch.ddl = append(ch.ddl, relationDDL(class, added)...)
		for _, name := range u.DropIndexes {
			if _, ok := doc.Indexes[name]; ok {
				delete(doc.Indexes, name)
				ch.ddl = append(ch.ddl, "DROP INDEX IF EXISTS "+quoteIdent(indexName(class, name)))
			}
		}
		for _, name := range slices.Sorted(maps.Keys(u.AddIndexes)) {
			if _, ok := doc.Indexes[name]; ok {
				return nil, fmt.Errorf("sqlite: update class %s: index %s: %w", class, name, storage.ErrIndexNameExists)
			}
			stmt, err := indexDDL(class, name, u.AddIndexes[name], doc.Fields)
			if err != nil {
				return nil, err
			}
			if doc.Indexes == nil {
				doc.Indexes = map[string]map[string]any{}
			}
			doc.Indexes[name] = u.AddIndexes[name]
			ch.ddl = append(ch.ddl, stmt)
		}
		return ch, nil
	})
	if err != nil {
		return storage.Class{}, err
	}
	return d.Class(class), nil
}

// DeleteClass drops the class's table and join tables and its _SCHEMA row.
func (s *Store) DeleteClass(ctx context.Context, class string, force bool) error {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return err
	}
	var joins []string
	_, err := s.changeSchema(ctx, class, func(cur *sqlkit.SchemaDoc) (*schemaChange, error) {
		if cur == nil {
			return nil, fmt.Errorf("sqlite: delete class %s: %w", class, storage.ErrClassNotFound)
		}
		ch := &schemaChange{}
		ch.check = func(ctx context.Context, q querier) error {
			if !force {
				var nonEmpty bool
				err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(class)+`)`).Scan(&nonEmpty)
				if err != nil && !isNoTable(err) {
					return s.wrap("delete class "+class, err)
				}
				if nonEmpty {
					return fmt.Errorf("sqlite: delete class %s: %w", class, storage.ErrClassNotEmpty)
				}
			}
			var err error
			joins, err = joinTables(ctx, q, class)
			return err
		}
		ch.late = func() []string {
			stmts := []string{"DROP TABLE IF EXISTS " + quoteIdent(class)}
			for _, jt := range joins {
				stmts = append(stmts, "DROP TABLE IF EXISTS "+quoteIdent(jt))
			}
			return stmts
		}
		return ch, nil // ch.doc nil: delete the row
	})
	return err
}

// joinTables returns the class's join tables: those of its Relation
// fields, and any other one AddRelation created for it.
func joinTables(ctx context.Context, q querier, class string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT "name" FROM sqlite_schema WHERE "type" = 'table' AND "name" LIKE '\_Join:%' ESCAPE '\'`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: join tables of %s: %w", class, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if parts := strings.SplitN(n, ":", 3); len(parts) == 3 && parts[2] == class {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

// schemaChange is what a schema operation does, in its transaction.
type schemaChange struct {
	doc   *sqlkit.SchemaDoc // the schema afterwards; nil deletes the class
	ddl   []string
	check func(ctx context.Context, q querier) error // runs first, may fail the change
	late  func() []string                            // statements decided by check
}

// changeSchema runs a schema operation atomically on the writer: plan sees
// the current schema (nil when the class does not exist) and returns the
// change, or nil for none. It returns the schema afterwards.
func (s *Store) changeSchema(ctx context.Context, class string, plan func(*sqlkit.SchemaDoc) (*schemaChange, error)) (*sqlkit.SchemaDoc, error) {
	var out *sqlkit.SchemaDoc
	err := s.write(ctx, func(q querier) error {
		cur, err := s.readSchema(ctx, q, class)
		if err != nil {
			return err
		}
		ch, err := plan(cur)
		if err != nil {
			return err
		}
		if ch == nil {
			out = cur
			return nil
		}
		if ch.check != nil {
			if err := ch.check(ctx, q); err != nil {
				return err
			}
		}
		stmts := ch.ddl
		if ch.late != nil {
			stmts = append(stmts, ch.late()...)
		}
		for _, stmt := range stmts {
			if _, err := q.ExecContext(ctx, stmt); err != nil {
				return s.wrap("schema change of "+class, err)
			}
		}
		if ch.doc != nil {
			raw, err := json.Marshal(ch.doc)
			if err != nil {
				return fmt.Errorf("sqlite: schema of %s: %w", class, err)
			}
			_, err = q.ExecContext(ctx, `INSERT INTO "_SCHEMA" ("className", "schema") VALUES (?, ?) `+
				`ON CONFLICT ("className") DO UPDATE SET "schema" = excluded."schema"`, class, string(raw))
			if err != nil {
				return s.wrap("schema change of "+class, err)
			}
		} else if _, err := q.ExecContext(ctx, `DELETE FROM "_SCHEMA" WHERE "className" = ?`, class); err != nil {
			return s.wrap("schema change of "+class, err)
		}
		out = ch.doc
		return nil
	})
	s.types.forget(class)
	if s.tx != nil {
		s.tx.schemaChanged = true
	}
	return out, err
}

// typeCache holds the field types of classes, for the conditions that
// depend on them (condBuilder.scalar). A Store and its transactions share
// it; schema changes evict their class, and a transaction that changed a
// schema clears it when it ends, since others may have cached the schema
// it replaced meanwhile.
type typeCache struct {
	mu sync.Mutex
	m  map[string]map[string]string
}

func (c *typeCache) forget(class string) {
	c.mu.Lock()
	if class == "" {
		clear(c.m)
	} else {
		delete(c.m, class)
	}
	c.mu.Unlock()
}

// fieldTypes returns the type of each field of class (none when it does
// not exist).
func (s *Store) fieldTypes(ctx context.Context, class string) (map[string]string, error) {
	s.types.mu.Lock()
	types, ok := s.types.m[class]
	s.types.mu.Unlock()
	if ok {
		return types, nil
	}
	d, err := s.readSchema(ctx, s.r, class)
	if err != nil {
		return nil, err
	}
	types = map[string]string{}
	if d != nil {
		for name, f := range d.Fields {
			types[name] = f.Type
		}
	}
	s.types.mu.Lock()
	s.types.m[class] = types
	s.types.mu.Unlock()
	return types, nil
}

// checkFields validates the names of fields.
func checkFields(fields map[string]storage.Field) error {
	for name := range fields {
		if !sqlkit.ValidIdent(name) {
			return fmt.Errorf("sqlite: invalid field name %q: %w", name, storage.ErrInvalidQuery)
		}
	}
	return nil
}

// classDDL creates a class's table and the indexes on its timestamps.
func classDDL(class string) []string {
	t := quoteIdent(class)
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (` +
			`"objectId" TEXT NOT NULL PRIMARY KEY, ` +
			`"createdAt" TEXT NOT NULL, ` +
			`"updatedAt" TEXT NOT NULL, ` +
			`"_rperm" TEXT, ` +
			`"_wperm" TEXT, ` +
			`"data" BLOB NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS ` + quoteIdent("tc:"+class) + ` ON ` + t + ` ("createdAt")`,
		`CREATE INDEX IF NOT EXISTS ` + quoteIdent("tu:"+class) + ` ON ` + t + ` ("updatedAt")`,
	}
}

// relationDDL creates the join tables of the Relation fields among fields.
func relationDDL(class string, fields map[string]storage.Field) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if fields[name].Type == "Relation" {
			out = append(out, joinDDL(name, class)...)
		}
	}
	return out
}

// joinDDL creates a relation's join table. Its primary key serves lookups
// by owner; the second index serves lookups by related object.
func joinDDL(field, class string) []string {
	jt := sqlkit.JoinName(field, class)
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + quoteIdent(jt) + ` (` +
			`"owningId" TEXT NOT NULL, "relatedId" TEXT NOT NULL, PRIMARY KEY ("owningId", "relatedId")) WITHOUT ROWID`,
		`CREATE INDEX IF NOT EXISTS ` + quoteIdent("jr:"+field+":"+class) + ` ON ` + quoteIdent(jt) + ` ("relatedId")`,
	}
}

// uniqueIndexName names the index of a Unique constraint, so that a
// violation maps back to the field (duplicateField).
func uniqueIndexName(class, field string) string { return "u:" + class + ":" + field }

func indexName(class, name string) string { return "i:" + class + ":" + name }

// uniqueDDL creates the unique index of a Unique constraint.
func uniqueDDL(class string, u sqlkit.UniqueDoc) (string, error) {
	if !sqlkit.ValidIdent(u.Field) {
		return "", fmt.Errorf("sqlite: invalid unique field %q: %w", u.Field, storage.ErrInvalidQuery)
	}
	var expr string
	switch u.Field {
	case "objectId":
		return "", nil // the primary key
	case "createdAt", "updatedAt":
		expr = quoteIdent(u.Field)
	default:
		expr = extract([]string{u.Field})
		if u.CaseInsensitive {
			expr = "lower(" + expr + ")"
		}
	}
	return `CREATE UNIQUE INDEX IF NOT EXISTS ` + quoteIdent(uniqueIndexName(class, u.Field)) +
		` ON ` + quoteIdent(class) + ` (` + expr + `)`, nil
}

// indexDDL creates a schema index: on json_extract of each key (in key
// order, since a map does not keep Parse's), or on the column for
// objectId, createdAt and updatedAt. A Pointer field is indexed on its
// objectId and a Date field on its iso, which their equalities compare
// (where.go).
func indexDDL(class, name string, keys map[string]any, fields map[string]storage.Field) (string, error) {
	if !sqlkit.ValidIdent(name) {
		return "", fmt.Errorf("sqlite: invalid index name %q: %w", name, storage.ErrInvalidQuery)
	}
	if len(keys) == 0 {
		return "", fmt.Errorf("sqlite: index %s has no keys: %w", name, storage.ErrInvalidQuery)
	}
	var cols []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		var expr string
		switch k {
		case "objectId", "_id":
			expr = `"objectId"`
		case "createdAt", "_created_at":
			expr = `"createdAt"`
		case "updatedAt", "_updated_at":
			expr = `"updatedAt"`
		default:
			segs, err := sqlkit.SplitPath(k)
			if err != nil {
				return "", err
			}
			switch fields[k].Type {
			case "Pointer":
				expr = extract(segs, "objectId")
			case "Date":
				expr = extract(segs, "iso")
			default:
				expr = extract(segs)
			}
		}
		switch dir := keys[k].(type) {
		case float64, int, int64, json.Number:
			if fmt.Sprint(dir) == "-1" {
				expr += " DESC"
			}
		default:
			return "", fmt.Errorf("sqlite: index %s: key %s: type %v: %w", name, k, dir, storage.ErrInvalidQuery)
		}
		cols = append(cols, expr)
	}
	return `CREATE INDEX IF NOT EXISTS ` + quoteIdent(indexName(class, name)) +
		` ON ` + quoteIdent(class) + ` (` + strings.Join(cols, ", ") + `)`, nil
}
