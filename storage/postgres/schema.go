package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	sq "github.com/Masterminds/squirrel"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// LoadSchema returns every class in _SCHEMA.
func (s *Store) LoadSchema(ctx context.Context) ([]storage.Class, error) {
	defer s.lock()()
	sql, args, err := psql.Select(`"className"`, `"schema"`).From(s.nsq + `."_SCHEMA"`).OrderBy(`"className"`).ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, s.wrap("load schema", err)
	}
	defer rows.Close()
	var out []storage.Class
	for rows.Next() {
		var name string
		var raw []byte
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, s.wrap("load schema", err)
		}
		d, err := sqlkit.DecodeSchema(name, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, d.Class(name))
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("load schema", err)
	}
	return out, nil
}

// readSchema returns a class's schema, nil when the class does not exist.
func (s *Store) readSchema(ctx context.Context, class string) (*sqlkit.SchemaDoc, error) {
	sql, args, err := psql.Select(`"schema"`).From(s.nsq+`."_SCHEMA"`).Where(`"className" = ?`, class).ToSql()
	if err != nil {
		return nil, err
	}
	var raw []byte
	err = s.q.QueryRow(ctx, sql, args...).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.wrap("read schema", err)
	}
	return sqlkit.DecodeSchema(class, raw)
}

// CreateClass creates the class's _SCHEMA row, table, indexes and join
// tables in one transaction.
func (s *Store) CreateClass(ctx context.Context, c storage.Class) (storage.Class, error) {
	defer s.lock()()
	if err := checkClass(c.Name); err != nil {
		return storage.Class{}, err
	}
	if err := checkFields(c.Name, c.Fields); err != nil {
		return storage.Class{}, err
	}
	doc := sqlkit.DocFromClass(c)
	d, err := s.changeSchema(ctx, c.Name, func(ctx context.Context, q querier, cur *sqlkit.SchemaDoc) (*schemaChange, error) {
		if cur != nil {
			return nil, fmt.Errorf("postgres: create class %s: %w", c.Name, storage.ErrClassExists)
		}
		ch := &schemaChange{doc: doc}
		ch.ddl = append(ch.ddl, s.classDDL(c.Name, doc.KeyedOnly)...)
		ch.created = append(ch.created, c.Name)
		for _, u := range doc.Unique {
			stmt, err := s.uniqueDDL(c.Name, u)
			if err != nil {
				return nil, err
			}
			if stmt != "" {
				ch.ddl = append(ch.ddl, stmt)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(doc.Indexes)) {
			stmts, err := s.indexDDL(c.Name, name, doc.Indexes[name], doc.Fields)
			if err != nil {
				return nil, err
			}
			ch.ddl = append(ch.ddl, stmts...)
		}
		s.addFieldDDL(ch, c.Name, doc.Fields)
		return ch, nil
	})
	if err != nil {
		return storage.Class{}, err
	}
	return d.Class(c.Name), nil
}

// AddFields adds the missing fields, creating the class when needed. The
// class's advisory lock serializes concurrent calls: the first writer of a
// field wins and the others read its definition.
func (s *Store) AddFields(ctx context.Context, class string, fields map[string]storage.Field) (storage.Class, error) {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return storage.Class{}, err
	}
	if err := checkFields(class, fields); err != nil {
		return storage.Class{}, err
	}
	// Fast path, without a lock or a transaction: nothing to add.
	if cur, err := s.readSchema(ctx, class); err != nil {
		return storage.Class{}, err
	} else if cur != nil && cur.HasFields(fields) {
		return cur.Class(class), nil
	}
	d, err := s.changeSchema(ctx, class, func(ctx context.Context, q querier, cur *sqlkit.SchemaDoc) (*schemaChange, error) {
		ch := &schemaChange{}
		if cur == nil {
			ch.doc = &sqlkit.SchemaDoc{Fields: maps.Clone(fields)}
			if ch.doc.Fields == nil {
				ch.doc.Fields = map[string]storage.Field{}
			}
			ch.ddl = append(ch.ddl, s.classDDL(class, false)...)
			ch.created = append(ch.created, class)
			s.addFieldDDL(ch, class, fields)
			return ch, nil
		}
		if cur.HasFields(fields) {
			return nil, nil
		}
		ch.doc = cur.Clone()
		added := map[string]storage.Field{}
		for name, f := range fields {
			if _, ok := cur.Fields[name]; !ok {
				ch.doc.Fields[name] = f
				added[name] = f
			}
		}
		// The table normally exists; IF NOT EXISTS repairs a lost one.
		ch.ddl = append(ch.ddl, s.classDDL(class, cur.KeyedOnly)...)
		s.addFieldDDL(ch, class, added)
		return ch, nil
	})
	if err != nil {
		return storage.Class{}, err
	}
	return d.Class(class), nil
}

// UpdateClass changes permissions, fields and indexes in one transaction.
// Deleted fields are removed from every object; deleting a Relation field
// drops its join table, and indexes on deleted fields are dropped too (as a
// column's indexes go with it).
func (s *Store) UpdateClass(ctx context.Context, class string, u storage.ClassUpdate) (storage.Class, error) {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return storage.Class{}, err
	}
	if err := checkFields(class, u.AddFields); err != nil {
		return storage.Class{}, err
	}
	if err := checkFields(class, u.ChangeFields); err != nil {
		return storage.Class{}, err
	}
	for _, f := range u.DeleteFields {
		if !sqlkit.ValidIdent(f) {
			return storage.Class{}, fmt.Errorf("postgres: invalid field name %q: %w", f, storage.ErrInvalidQuery)
		}
	}
	d, err := s.changeSchema(ctx, class, func(ctx context.Context, q querier, cur *sqlkit.SchemaDoc) (*schemaChange, error) {
		if cur == nil {
			return nil, fmt.Errorf("postgres: update class %s: %w", class, storage.ErrClassNotFound)
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
				jt := sqlkit.JoinName(f, class)
				ch.ddl = append(ch.ddl, "DROP TABLE IF EXISTS "+s.nsq+"."+quoteIdent(jt))
				ch.dropped = append(ch.dropped, jt)
				continue
			}
			strip = append(strip, f)
			if def.Type == "GeoPoint" {
				ch.ddl = append(ch.ddl, "DROP INDEX IF EXISTS "+s.nsq+"."+quoteIdent(physName("geo", class, f)))
			}
			doc.Unique = slices.DeleteFunc(doc.Unique, func(x sqlkit.UniqueDoc) bool {
				if x.Field == f {
					ch.ddl = append(ch.ddl, "DROP INDEX IF EXISTS "+s.nsq+"."+quoteIdent(physName("u", class, f)))
					return true
				}
				return false
			})
			for name, keys := range doc.Indexes {
				if sqlkit.IndexUses(keys, f) {
					ch.ddl = append(ch.ddl, "DROP INDEX IF EXISTS "+s.nsq+"."+quoteIdent(physName("i", class, name)))
					delete(doc.Indexes, name)
				}
			}
			if col := numberColumn(f); col != "" && def.Type == "Number" {
				ch.ddl = append(ch.ddl, "ALTER TABLE "+s.table(class)+" DROP COLUMN IF EXISTS "+quoteIdent(col))
			}
		}
		if len(strip) > 0 {
			ch.dml = append(ch.dml, qsql.Update(s.table(class)).
				Set(`"data"`, sq.Expr(`"data" - ?::text[]`, strip)).
				Where(`jsonb_exists_any("data", ?::text[])`, strip))
		}

		added, err := doc.ApplyFields(u.AddFields, u.ChangeFields)
		if err != nil {
			return nil, fmt.Errorf("postgres: update class %s: %w", class, err)
		}
		s.addFieldDDL(ch, class, added)

		var unnumbered []string // fields whose number index is dropped
		for _, name := range u.DropIndexes {
			keys, ok := doc.Indexes[name]
			if !ok {
				continue
			}
			delete(doc.Indexes, name)
			ch.ddl = append(ch.ddl, "DROP INDEX IF EXISTS "+s.nsq+"."+quoteIdent(physName("i", class, name)))
			if f := numberIndexField(keys, doc.Fields); f != "" {
				unnumbered = append(unnumbered, f)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(u.AddIndexes)) {
			if _, ok := doc.Indexes[name]; ok {
				return nil, fmt.Errorf("postgres: update class %s: index %s: %w", class, name, storage.ErrIndexNameExists)
			}
			stmts, err := s.indexDDL(class, name, u.AddIndexes[name], doc.Fields)
			if err != nil {
				return nil, err
			}
			if doc.Indexes == nil {
				doc.Indexes = map[string]map[string]any{}
			}
			doc.Indexes[name] = u.AddIndexes[name]
			ch.ddl = append(ch.ddl, stmts...)
		}
		// A number column goes with the last index on it.
		for _, f := range unnumbered {
			if !slices.ContainsFunc(slices.Collect(maps.Values(doc.Indexes)), func(keys map[string]any) bool {
				return numberIndexField(keys, doc.Fields) == f
			}) {
				ch.ddl = append(ch.ddl, "ALTER TABLE "+s.table(class)+" DROP COLUMN IF EXISTS "+quoteIdent(numberColumn(f)))
			}
		}
		if len(u.AddIndexes) > 0 && s.tx != nil {
			// Statistics, so that the planner can tell what the new index is
			// worth (outside a transaction VACUUM ANALYZE follows instead).
			ch.ddl = append(ch.ddl, "ANALYZE "+s.table(class))
		}
		return ch, nil
	})
	if err != nil {
		return storage.Class{}, err
	}
	if len(u.AddIndexes) > 0 && s.tx == nil {
		// Statistics, so that the planner can tell what the new index is
		// worth: without them (a table filled since its last analyze, or
		// autovacuum off) it guesses, and can prefer the ACL's indexes or a
		// scan. VACUUM also marks the table's pages all-visible, which an
		// index-only scan needs, and merges the GIN pending lists. It can't
		// run in a transaction, so it runs after the change commits; the
		// change stands if it fails, only slower to query until autovacuum
		// comes by, so its error is not the caller's.
		_, _ = s.q.Exec(ctx, "VACUUM (ANALYZE) "+s.table(class))
	}
	return d.Class(class), nil
}

// DeleteClass drops the class's table and join tables and its _SCHEMA row.
func (s *Store) DeleteClass(ctx context.Context, class string, force bool) error {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return err
	}
	_, err := s.changeSchema(ctx, class, func(ctx context.Context, q querier, cur *sqlkit.SchemaDoc) (*schemaChange, error) {
		if cur == nil {
			return nil, fmt.Errorf("postgres: delete class %s: %w", class, storage.ErrClassNotFound)
		}
		var hasTable, nonEmpty bool
		if err := q.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.table(class)).Scan(&hasTable); err != nil {
			return nil, err
		}
		if hasTable && !force {
			if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+s.table(class)+`)`).Scan(&nonEmpty); err != nil {
				return nil, err
			}
			if nonEmpty {
				return nil, fmt.Errorf("postgres: delete class %s: %w", class, storage.ErrClassNotEmpty)
			}
		}
		// Join tables: those of the Relation fields, and any other one
		// AddRelation created for the class.
		joins := map[string]bool{}
		for name, f := range cur.Fields {
			if f.Type == "Relation" {
				joins[sqlkit.JoinName(name, class)] = true
			}
		}
		rows, err := q.Query(ctx, `SELECT relname::text FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relkind = 'r' AND left(relname, 6) = '_Join:'`, s.ns)
		if err != nil {
			return nil, err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if parts := strings.SplitN(n, ":", 3); len(parts) == 3 && parts[2] == class {
				joins[n] = true
			}
		}
		ch := &schemaChange{}
		drop := []string{s.table(class)}
		ch.dropped = append(ch.dropped, class)
		for _, jt := range slices.Sorted(maps.Keys(joins)) {
			drop = append(drop, s.nsq+"."+quoteIdent(jt))
			ch.dropped = append(ch.dropped, jt)
		}
		ch.ddl = append(ch.ddl, "DROP TABLE IF EXISTS "+strings.Join(drop, ", "))
		return ch, nil // ch.doc nil: delete the row
	})
	return err
}

// schemaChange is what a schema operation does once it holds the lock.
type schemaChange struct {
	doc     *sqlkit.SchemaDoc // the schema afterwards; nil deletes the class
	ddl     []string          // run first, in one round trip
	dml     []sq.Sqlizer      // run after the DDL
	created []string          // tables created
	dropped []string          // tables dropped
}

// changeSchema runs a schema operation in a transaction (a savepoint inside
// Tx) holding the class's advisory lock: plan sees the current schema (nil
// when the class does not exist) and returns the change, or nil for none.
// The change's DDL, the _SCHEMA row and the notification commit together.
// It returns the schema afterwards.
func (s *Store) changeSchema(ctx context.Context, class string, plan func(context.Context, querier, *sqlkit.SchemaDoc) (*schemaChange, error)) (*sqlkit.SchemaDoc, error) {
	tx, err := s.q.Begin(ctx)
	if err != nil {
		return nil, s.wrap("schema change", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	cur, err := s.lockSchema(ctx, tx, class)
	if err != nil {
		return nil, err
	}
	ch, err := plan(ctx, tx, cur)
	if err != nil {
		if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) {
			return nil, s.wrap("schema change of "+class, err)
		}
		return nil, err
	}
	if ch == nil {
		if err := tx.Commit(ctx); err != nil {
			return nil, s.wrap("schema change of "+class, err)
		}
		return cur, nil
	}
	if len(ch.ddl) > 0 {
		// No arguments: one simple-protocol round trip, and no DDL in
		// pgx's statement cache.
		if _, err := tx.Exec(ctx, strings.Join(ch.ddl, ";\n")); err != nil {
			return nil, s.wrap("schema change of "+class, err)
		}
	}
	for _, stmt := range ch.dml {
		sql, args, err := stmt.ToSql()
		if err != nil {
			return nil, err
		}
		sql, err = sq.Dollar.ReplacePlaceholders(sql)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			return nil, s.wrap("schema change of "+class, err)
		}
	}
	var write sq.Sqlizer
	if ch.doc != nil {
		raw, err := json.Marshal(ch.doc)
		if err != nil {
			return nil, fmt.Errorf("postgres: schema of %s: %w", class, err)
		}
		write = qsql.Insert(s.nsq+`."_SCHEMA"`).Columns(`"className"`, `"schema"`).Values(class, raw).
			Suffix(`ON CONFLICT ("className") DO UPDATE SET "schema" = EXCLUDED."schema"`)
	} else {
		write = qsql.Delete(s.nsq+`."_SCHEMA"`).Where(`"className" = ?`, class)
	}
	// One statement writes the row and notifies: the notification is
	// delivered when the transaction commits, not before.
	sql, args, err := psql.Select().Column(sq.Expr("pg_notify(?, ?)", s.channel, class)).
		PrefixExpr(sq.Expr("WITH w AS (?)", write)).ToSql()
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return nil, s.wrap("schema change of "+class, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, s.wrap("schema change of "+class, err)
	}
	s.tables.forgetLayout(class)
	if s.tx != nil {
		s.tx.schemaChanged[class] = true
	}
	for _, t := range ch.created {
		s.markTable(t, true)
	}
	for _, t := range ch.dropped {
		s.markTable(t, false)
	}
	return ch.doc, nil
}

// lockSchema takes the class's schema lock and reads its schema, in one
// round trip.
func (s *Store) lockSchema(ctx context.Context, tx pgx.Tx, class string) (*sqlkit.SchemaDoc, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "parsego_class:"+s.ns+"."+class)
	b.Queue(`SELECT "schema" FROM `+s.nsq+`."_SCHEMA" WHERE "className" = $1`, class)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, s.wrap("lock schema of "+class, err)
	}
	var raw []byte
	err := br.QueryRow().Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, br.Close()
	}
	if err != nil {
		return nil, s.wrap("read schema of "+class, err)
	}
	if err := br.Close(); err != nil {
		return nil, s.wrap("read schema of "+class, err)
	}
	return sqlkit.DecodeSchema(class, raw)
}

// checkFields validates the names of fields (top-level identifiers) and the
// join table names of Relation fields.
func checkFields(class string, fields map[string]storage.Field) error {
	for name, f := range fields {
		if !sqlkit.ValidIdent(name) {
			return fmt.Errorf("postgres: invalid field name %q: %w", name, storage.ErrInvalidQuery)
		}
		if f.Type == "Relation" && len(sqlkit.JoinName(name, class)) > maxIdentLen {
			return fmt.Errorf("postgres: relation field %q of %s: join table name too long: %w", name, class, storage.ErrInvalidQuery)
		}
	}
	return nil
}

// addFieldDDL adds to ch what new fields need beside the document: the
// join table of a Relation field, and for a GeoPoint field an index on its
// latitude, which the geo conditions' latitude band (see geo.go) is
// sargable on, so that distance and box queries on a large class read an
// index range instead of the table.
func (s *Store) addFieldDDL(ch *schemaChange, class string, fields map[string]storage.Field) {
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		switch fields[name].Type {
		case "Relation":
			ch.ddl = append(ch.ddl, s.joinDDL(name, class)...)
			ch.created = append(ch.created, sqlkit.JoinName(name, class))
		case "GeoPoint":
			ch.ddl = append(ch.ddl, `CREATE INDEX IF NOT EXISTS `+quoteIdent(physName("geo", class, name))+` ON `+s.table(class)+
				` ((`+s.nsq+`.parsego_lat("data"->`+sqlkit.QuoteLiteral(name)+`)))`)
		}
	}
}

// classDDL creates a class's table, whose "_seq" numbers rows in insertion
// order (ties of an ORDER BY: objects.go), and its indexes: GIN on "data"
// (equality, In, All), btrees on "createdAt" and "updatedAt" (ordering and
// ranges on them), and for the ACL check ("_rperm" IS NULL OR "_rperm" &&
// perms) a GIN on "_rperm" and a partial index of the public objects, which
// the planner combines with a BitmapOr. Migration 4 adds the last four to
// tables created before them, with the same names. The GIN indexes keep a
// small pending list (migration 5 says why). A KeyedOnly class has neither
// GIN index: they cost every insert more than the other indexes together.
func (s *Store) classDDL(class string, keyedOnly bool) []string {
	t := s.table(class)
	ddl := []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (` +
			`"objectId" text NOT NULL, ` +
			`"createdAt" timestamptz NOT NULL, ` +
			`"updatedAt" timestamptz NOT NULL, ` +
			`"_rperm" text[], ` +
			`"_wperm" text[], ` +
			`"data" jsonb NOT NULL DEFAULT '{}', ` +
			`"_seq" bigint GENERATED ALWAYS AS IDENTITY, ` +
			`CONSTRAINT ` + quoteIdent(physName("p", class)) + ` PRIMARY KEY ("objectId"))`,
		`CREATE INDEX IF NOT EXISTS ` + quoteIdent(physName("tc", class)) + ` ON ` + t + ` ("createdAt")`,
		`CREATE INDEX IF NOT EXISTS ` + quoteIdent(physName("tu", class)) + ` ON ` + t + ` ("updatedAt")`,
		`CREATE INDEX IF NOT EXISTS ` + quoteIdent(physName("rn", class)) + ` ON ` + t + ` ("objectId") WHERE "_rperm" IS NULL`,
	}
	if keyedOnly {
		return ddl
	}
	return append(ddl,
		`CREATE INDEX IF NOT EXISTS `+quoteIdent(physName("g", class))+` ON `+t+` USING gin ("data" jsonb_path_ops) WITH (gin_pending_list_limit = 64)`,
		`CREATE INDEX IF NOT EXISTS `+quoteIdent(physName("r", class))+` ON `+t+` USING gin ("_rperm") WITH (gin_pending_list_limit = 64)`,
	)
}

// joinDDL creates a relation's join table. Its primary key serves lookups
// by owner (RelatedTo, deletes); the second index serves lookups by related
// object.
func (s *Store) joinDDL(field, class string) []string {
	t := s.nsq + "." + quoteIdent(sqlkit.JoinName(field, class))
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (` +
			`"owningId" text NOT NULL, ` +
			`"relatedId" text NOT NULL, ` +
			`CONSTRAINT ` + quoteIdent(physName("jp", field, class)) + ` PRIMARY KEY ("owningId", "relatedId"))`,
		`CREATE INDEX IF NOT EXISTS ` + quoteIdent(physName("jr", field, class)) + ` ON ` + t + ` ("relatedId")`,
	}
}

// uniqueDDL creates the unique index of a Unique constraint, named
// u:<class>:<field> so that a violation maps back to the field.
func (s *Store) uniqueDDL(class string, u sqlkit.UniqueDoc) (string, error) {
	if !sqlkit.ValidIdent(u.Field) {
		return "", fmt.Errorf("postgres: invalid unique field %q: %w", u.Field, storage.ErrInvalidQuery)
	}
	var expr string
	switch u.Field {
	case "objectId":
		return "", nil // the primary key
	case "createdAt", "updatedAt":
		expr = quoteIdent(u.Field)
	default:
		expr = `"data" ->> ` + sqlkit.QuoteLiteral(u.Field)
		if u.CaseInsensitive {
			expr = "lower(" + expr + ")"
		}
	}
	return `CREATE UNIQUE INDEX IF NOT EXISTS ` + quoteIdent(physName("u", class, u.Field)) +
		` ON ` + s.table(class) + ` ((` + expr + `))`, nil
}

// indexDDL creates a schema index: a btree on the JSON value of each key
// (in key order, since a map does not keep Parse's), or on the column for
// objectId, createdAt and updatedAt. An index on one Number field is on its
// number column instead (numcols.go), which it adds, and includes "_rperm".
func (s *Store) indexDDL(class, name string, keys map[string]any, fields map[string]storage.Field) ([]string, error) {
	if !sqlkit.ValidIdent(name) {
		return nil, fmt.Errorf("postgres: invalid index name %q: %w", name, storage.ErrInvalidQuery)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("postgres: index %s has no keys: %w", name, storage.ErrInvalidQuery)
	}
	var pre []string
	include := ""
	var cols []string
	numberField := numberIndexField(keys, fields)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		var expr string
		numberIndex := numberField != "" && k == numberField
		switch {
		case k == "objectId" || k == "_id":
			expr = `"objectId"`
		case k == "createdAt" || k == "_created_at":
			expr = `"createdAt"`
		case k == "updatedAt" || k == "_updated_at":
			expr = `"updatedAt"`
		case numberIndex:
			pre = append(pre, s.numberColumnDDL(class, k))
			expr, include = quoteIdent(numberColumn(k)), ` INCLUDE ("_rperm")`
		default:
			segs, err := sqlkit.SplitPath(k)
			if err != nil {
				return nil, err
			}
			expr = `"data"`
			for _, seg := range segs {
				expr += " -> " + sqlkit.QuoteLiteral(seg)
			}
			expr = "(" + expr + ")"
		}
		switch dir := keys[k].(type) {
		case float64, int, int64, json.Number:
			if fmt.Sprint(dir) == "-1" {
				expr += " DESC"
			}
		default:
			return nil, fmt.Errorf("postgres: index %s: key %s: type %v: %w", name, k, dir, storage.ErrInvalidQuery)
		}
		cols = append(cols, expr)
	}
	return append(pre, `CREATE INDEX IF NOT EXISTS `+quoteIdent(physName("i", class, name))+
		` ON `+s.table(class)+` (`+strings.Join(cols, ", ")+`)`+include), nil
}
