package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// objectColumns are the columns an Object is stored in, and
// selectColumns what it is scanned from, in the same order: "data" is
// stored as JSONB and read back as JSON text.
const (
	objectColumns = `"objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "data"`
	selectColumns = `"objectId", "createdAt", "updatedAt", "_rperm", "_wperm", json("data")`
)

type scanner interface{ Scan(dest ...any) error }

// scanObject reads the selectColumns of one row.
func scanObject(row scanner) (storage.Object, error) {
	var id, created, updated, data string
	var rperm, wperm sql.NullString
	if err := row.Scan(&id, &created, &updated, &rperm, &wperm, &data); err != nil {
		return storage.Object{}, err
	}
	return makeObject(id, created, updated, rperm, wperm, data)
}

// makeObject decodes the selectColumns' values.
func makeObject(id, created, updated string, rperm, wperm sql.NullString, data string) (storage.Object, error) {
	o := storage.Object{ID: id, Data: json.RawMessage(data)}
	var err error
	if o.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return storage.Object{}, fmt.Errorf("sqlite: createdAt of %s: %w", id, err)
	}
	if o.UpdatedAt, err = time.Parse(time.RFC3339Nano, updated); err != nil {
		return storage.Object{}, fmt.Errorf("sqlite: updatedAt of %s: %w", id, err)
	}
	if o.ReadPerm, err = scanPerms(rperm); err != nil {
		return storage.Object{}, err
	}
	if o.WritePerm, err = scanPerms(wperm); err != nil {
		return storage.Object{}, err
	}
	return o, nil
}

func scanPerms(s sql.NullString) ([]string, error) {
	if !s.Valid {
		return nil, nil
	}
	return decodePerms(s.String)
}

// prepare returns the WHERE condition of a statement on class: where plus
// extra. The tables where reads beside the class's are checked first: one
// that does not exist makes its condition false, as the contract wants.
func (s *Store) prepare(ctx context.Context, class string, where storage.Cond, extra ...sqlkit.Frag) (sqlkit.Frag, error) {
	b := &condBuilder{}
	if where != nil {
		types, err := s.fieldTypes(ctx, class)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		b.types = types
	}
	if tables := sqlkit.CondTables(where, nil); len(tables) > 0 {
		missing, err := s.missingTables(ctx, tables)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		b.missing = missing
	}
	c, err := b.build(where)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	return sqlkit.Join("AND", append(extra, c)), nil
}

// missingTables returns which of the named tables do not exist.
func (s *Store) missingTables(ctx context.Context, names []string) (map[string]bool, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT value FROM json_each(?) WHERE value NOT IN (SELECT "name" FROM sqlite_schema WHERE "type" = 'table')`, jsonList(names))
	if err != nil {
		return nil, s.wrap("check tables", err)
	}
	defer rows.Close()
	missing := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, s.wrap("check tables", err)
		}
		missing[n] = true
	}
	return missing, s.wrap("check tables", rows.Err())
}

func whereSQL(c sqlkit.Frag) string {
	if c.SQL == "TRUE" {
		return ""
	}
	return " WHERE " + c.SQL
}

// maxInsertRows bounds the rows of one INSERT, within SQLite's limit on
// bind parameters.
const maxInsertRows = 500

// Insert stores objs, all or nothing: one multi-row INSERT, atomic by
// itself, or several in a transaction when there are more objects than
// one statement takes.
func (s *Store) Insert(ctx context.Context, class string, objs ...storage.Object) error {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return err
	}
	insert := func(q querier, objs []storage.Object) error {
		args := make([]any, 0, 6*len(objs))
		for _, o := range objs {
			data := bytes.TrimSpace(sqlkit.RawOrEmpty(o.Data))
			if !json.Valid(data) {
				return fmt.Errorf("sqlite: insert into %s: object %s: invalid JSON: %w", class, o.ID, storage.ErrInvalidQuery)
			}
			args = append(args, o.ID, formatTime(o.CreatedAt), formatTime(o.UpdatedAt), encodePerms(o.ReadPerm), encodePerms(o.WritePerm), string(data))
		}
		stmt := `INSERT INTO ` + quoteIdent(class) + ` (` + objectColumns + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, jsonb(?)), ", len(objs)), ", ")
		if _, err := q.ExecContext(ctx, stmt, args...); err != nil {
			if isNoTable(err) {
				return fmt.Errorf("sqlite: insert into %s: %w", class, storage.ErrClassNotFound)
			}
			return s.wrap("insert into "+class, err)
		}
		return nil
	}
	switch {
	case len(objs) == 0:
		return nil
	case len(objs) <= maxInsertRows:
		return insert(s.w, objs)
	}
	return s.write(ctx, func(q querier) error {
		for len(objs) > 0 {
			n := min(len(objs), maxInsertRows)
			if err := insert(q, objs[:n]); err != nil {
				return err
			}
			objs = objs[n:]
		}
		return nil
	})
}

// stmtCache keeps prepared statements of reads: preparing costs SQLite
// about as much as running a lookup by id or by an indexed field. It holds
// at most maxCachedStmts texts (then further ones run unprepared), since
// clients choose the shapes of queries; SQLite re-prepares a cached
// statement itself when the schema changes.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxCachedStmts = 512

// stmt returns the cached prepared statement of query on the reader pool,
// nil in a transaction, when the cache is full or when query does not
// prepare (a missing table, say: running it reports that).
func (s *Store) stmt(ctx context.Context, query string) *sql.Stmt {
	if s.tx != nil {
		return nil
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	st := s.stmts.m[query]
	if st == nil && len(s.stmts.m) < maxCachedStmts {
		var err error
		if st, err = s.reader.PrepareContext(ctx, query); err != nil {
			return nil
		}
		s.stmts.m[query] = st
	}
	return st
}

// queryRow runs a read on the reader (or the transaction), prepared.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, query, args...)
}

// query is queryRow for several rows.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, query, args...)
}

// Get reads one object by primary key.
func (s *Store) Get(ctx context.Context, class, id string, readPerms []string) (storage.Object, error) {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return storage.Object{}, err
	}
	cond := sqlkit.Join("AND", []sqlkit.Frag{{SQL: `"objectId" = ?`, Args: []any{id}}, permCheck(`"_rperm"`, readPerms)})
	o, err := scanObject(s.queryRow(ctx, `SELECT `+selectColumns+` FROM `+quoteIdent(class)+whereSQL(cond), cond.Args...))
	if errors.Is(err, sql.ErrNoRows) || isNoTable(err) {
		return storage.Object{}, fmt.Errorf("sqlite: get %s %s: %w", class, id, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Object{}, s.wrap("get from "+class, err)
	}
	return o, nil
}

// Find runs one SELECT; order, limit and skip are applied by the database.
func (s *Store) Find(ctx context.Context, class string, q storage.Query) ([]storage.Object, error) {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return nil, err
	}
	if q.Limit < 0 || q.Skip < 0 {
		return nil, fmt.Errorf("sqlite: find: negative limit or skip: %w", storage.ErrInvalidQuery)
	}
	cond, err := s.prepare(ctx, class, q.Where, permCheck(`"_rperm"`, q.ReadPerm))
	if err != nil {
		return nil, err
	}
	order, err := orderBy(q.Order)
	if err != nil {
		return nil, err
	}
	args := cond.Args
	if near, ok := nearOrder(q); ok {
		order = near.SQL
		args = append(args, near.Args...)
	}
	stmt := `SELECT ` + selectColumns + ` FROM ` + quoteIdent(class) + whereSQL(cond) + order
	if q.Limit > 0 || q.Skip > 0 {
		limit := int64(-1)
		if q.Limit > 0 {
			limit = int64(q.Limit)
		}
		stmt += " LIMIT ? OFFSET ?"
		args = append(args, limit, int64(q.Skip))
	}
	rows, err := s.query(ctx, stmt, args...)
	if isNoTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, s.wrap("find in "+class, err)
	}
	defer rows.Close()
	var out []storage.Object
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, s.wrap("find in "+class, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("find in "+class, err)
	}
	return out, nil
}

// Count counts exactly.
func (s *Store) Count(ctx context.Context, class string, q storage.Query) (int64, error) {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return 0, err
	}
	cond, err := s.prepare(ctx, class, q.Where, permCheck(`"_rperm"`, q.ReadPerm))
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.queryRow(ctx, `SELECT count(*) FROM `+quoteIdent(class)+whereSQL(cond), cond.Args...).Scan(&n)
	if isNoTable(err) {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap("count in "+class, err)
	}
	return n, nil
}

// Update applies the operators in one UPDATE ... RETURNING: parsego_apply
// computes the new document from the stored one inside the statement, and
// the writer runs one statement at a time, so concurrent updates compose.
func (s *Store) Update(ctx context.Context, class, id string, u storage.Update) (storage.Object, error) {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return storage.Object{}, err
	}
	ops, err := opsJSON(u.Ops)
	if err != nil {
		return storage.Object{}, err
	}
	cond, err := s.prepare(ctx, class, u.Where, sqlkit.Frag{SQL: `"objectId" = ?`, Args: []any{id}}, permCheck(`"_wperm"`, u.WritePerm))
	if err != nil {
		return storage.Object{}, err
	}
	set := `"updatedAt" = ?`
	args := []any{formatTime(u.UpdatedAt)}
	if len(u.Ops) > 0 {
		set += `, "data" = jsonb(parsego_apply(json("data"), ?))`
		args = append(args, ops)
	}
	if u.SetACL {
		set += `, "_rperm" = ?, "_wperm" = ?`
		args = append(args, encodePerms(u.NewReadPerm), encodePerms(u.NewWritePerm))
	}
	stmt := `UPDATE ` + quoteIdent(class) + ` SET ` + set + whereSQL(cond) + ` RETURNING ` + selectColumns
	o, err := scanObject(s.w.QueryRowContext(ctx, stmt, append(args, cond.Args...)...))
	if errors.Is(err, sql.ErrNoRows) || isNoTable(err) {
		return storage.Object{}, fmt.Errorf("sqlite: update %s %s: %w", class, id, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Object{}, s.wrap("update "+class, err)
	}
	return o, nil
}

// opsJSON writes the operators as parsego_apply's list, after checking the
// values that the operators need of a given type.
func opsJSON(ops []storage.Op) (string, error) {
	list := make([]opJSON, 0, len(ops))
	for _, op := range ops {
		segs, err := sqlkit.SplitPath(op.Field)
		if err != nil {
			return "", err
		}
		val := bytes.TrimSpace(op.Value)
		switch op.Kind {
		case storage.OpSet:
			if len(val) == 0 {
				val = []byte("null")
			}
		case storage.OpDelete:
			val = nil
		case storage.OpIncrement:
			if len(val) == 0 || !(val[0] == '-' || val[0] >= '0' && val[0] <= '9') {
				return "", fmt.Errorf("sqlite: Increment %s by %s: %w", op.Field, op.Value, storage.ErrInvalidQuery)
			}
		case storage.OpAdd, storage.OpAddUnique, storage.OpRemove:
			if len(val) == 0 || val[0] != '[' {
				return "", fmt.Errorf("sqlite: %s %s with %s (not an array): %w", op.Kind, op.Field, op.Value, storage.ErrInvalidQuery)
			}
		default:
			return "", fmt.Errorf("sqlite: operator %s: %w", op.Kind, storage.ErrInvalidQuery)
		}
		if val != nil && !json.Valid(val) {
			return "", fmt.Errorf("sqlite: %s %s with %s: invalid JSON: %w", op.Kind, op.Field, op.Value, storage.ErrInvalidQuery)
		}
		list = append(list, opJSON{Path: segs, Kind: int(op.Kind), Value: val})
	}
	b, err := json.Marshal(list)
	return string(b), err
}

// Delete removes one object and its rows in the class's join tables.
func (s *Store) Delete(ctx context.Context, class, id string, writePerms []string, where storage.Cond) error {
	defer s.lock()()
	n, err := s.deleteWhere(ctx, class, where, sqlkit.Frag{SQL: `"objectId" = ?`, Args: []any{id}}, permCheck(`"_wperm"`, writePerms))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("sqlite: delete %s %s: %w", class, id, storage.ErrNotFound)
	}
	return nil
}

// DeleteMany removes every object matching where.
func (s *Store) DeleteMany(ctx context.Context, class string, where storage.Cond) (int64, error) {
	defer s.lock()()
	return s.deleteWhere(ctx, class, where)
}

// deleteWhere deletes the matching objects' join rows, then the objects,
// in one transaction.
func (s *Store) deleteWhere(ctx context.Context, class string, where storage.Cond, extra ...sqlkit.Frag) (int64, error) {
	if err := checkClass(class); err != nil {
		return 0, err
	}
	cond, err := s.prepare(ctx, class, where, extra...)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.write(ctx, func(q querier) error {
		joins, err := joinTables(ctx, q, class)
		if err != nil {
			return err
		}
		for _, jt := range joins {
			_, err := q.ExecContext(ctx, `DELETE FROM `+quoteIdent(jt)+` WHERE "owningId" IN (SELECT "objectId" FROM `+quoteIdent(class)+whereSQL(cond)+`)`, cond.Args...)
			if err != nil {
				return err
			}
		}
		res, err := q.ExecContext(ctx, `DELETE FROM `+quoteIdent(class)+whereSQL(cond), cond.Args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if isNoTable(err) {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap("delete from "+class, err)
	}
	return n, nil
}

// AddRelation inserts the links, creating the join table first if needed.
func (s *Store) AddRelation(ctx context.Context, r storage.Relation, relatedIDs ...string) error {
	defer s.lock()()
	if err := checkRelation(r); err != nil {
		return err
	}
	if len(relatedIDs) == 0 {
		return nil
	}
	jt := sqlkit.JoinName(r.Field, r.OwningClass)
	return s.write(ctx, func(q querier) error {
		for _, stmt := range joinDDL(r.Field, r.OwningClass) {
			if _, err := q.ExecContext(ctx, stmt); err != nil {
				return s.wrap("create join table "+jt, err)
			}
		}
		_, err := q.ExecContext(ctx, `INSERT OR IGNORE INTO `+quoteIdent(jt)+` ("owningId", "relatedId") SELECT ?, value FROM json_each(?)`,
			r.OwningID, jsonList(relatedIDs))
		return s.wrap("add relation "+jt, err)
	})
}

// RemoveRelation deletes the links in one statement.
func (s *Store) RemoveRelation(ctx context.Context, r storage.Relation, relatedIDs ...string) error {
	defer s.lock()()
	if err := checkRelation(r); err != nil {
		return err
	}
	if len(relatedIDs) == 0 {
		return nil
	}
	jt := sqlkit.JoinName(r.Field, r.OwningClass)
	_, err := s.w.ExecContext(ctx, `DELETE FROM `+quoteIdent(jt)+` WHERE "owningId" = ? AND "relatedId" IN (SELECT value FROM json_each(?))`,
		r.OwningID, jsonList(relatedIDs))
	if isNoTable(err) {
		return nil
	}
	return s.wrap("remove relation "+jt, err)
}

// FindJoined reads an object by a string field and the target of one of
// its Pointer fields with one statement: a LEFT JOIN of the target's table
// on the pointer's objectId.
func (s *Store) FindJoined(ctx context.Context, l storage.JoinLookup) (storage.Object, *storage.Object, error) {
	defer s.lock()()
	for _, c := range [...]string{l.Class, l.TargetClass} {
		if err := checkClass(c); err != nil {
			return storage.Object{}, nil, err
		}
	}
	if !sqlkit.ValidIdent(l.Field) || !sqlkit.ValidIdent(l.Pointer) {
		return storage.Object{}, nil, fmt.Errorf("sqlite: invalid join field %q or %q: %w", l.Field, l.Pointer, storage.ErrInvalidQuery)
	}
	notFound := fmt.Errorf("sqlite: find %s by %s: %w", l.Class, l.Field, storage.ErrNotFound)
	field := []string{l.Field}
	stmt := `SELECT o."objectId", o."createdAt", o."updatedAt", o."_rperm", o."_wperm", json(o."data"), ` +
		`t."objectId", t."createdAt", t."updatedAt", t."_rperm", t."_wperm", json(t."data") ` +
		`FROM ` + quoteIdent(l.Class) + ` o LEFT JOIN ` + quoteIdent(l.TargetClass) + ` t ` +
		`ON t."objectId" = json_extract(o."data", ` + pathLit([]string{l.Pointer}, "objectId") + `) ` +
		`WHERE json_extract(o."data", ` + pathLit(field) + `) = ? AND json_type(o."data", ` + pathLit(field) + `) = 'text' LIMIT 1`
	rows, err := s.query(ctx, stmt, l.Value)
	if isNoTable(err) {
		return storage.Object{}, nil, notFound
	}
	if err != nil {
		return storage.Object{}, nil, s.wrap("find "+l.Class+" joined", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return storage.Object{}, nil, s.wrap("find "+l.Class+" joined", err)
		}
		return storage.Object{}, nil, notFound
	}
	var oID, oCreated, oUpdated, oData string
	var tID, tCreated, tUpdated, tData, oRead, oWrite, tRead, tWrite sql.NullString
	if err := rows.Scan(&oID, &oCreated, &oUpdated, &oRead, &oWrite, &oData, &tID, &tCreated, &tUpdated, &tRead, &tWrite, &tData); err != nil {
		return storage.Object{}, nil, s.wrap("find "+l.Class+" joined", err)
	}
	o, err := makeObject(oID, oCreated, oUpdated, oRead, oWrite, oData)
	if err != nil || !tID.Valid {
		return o, nil, err
	}
	t, err := makeObject(tID.String, tCreated.String, tUpdated.String, tRead, tWrite, tData.String)
	if err != nil {
		return storage.Object{}, nil, err
	}
	return o, &t, nil
}

// UserRoles walks the role hierarchy in one statement: a recursive query
// over _Role's users and roles join tables. UNION (not UNION ALL) stops at
// roles already reached, so cycles end.
func (s *Store) UserRoles(ctx context.Context, userID string) ([]string, error) {
	defer s.lock()()
	const role = "_Role"
	stmt := `WITH RECURSIVE r(id) AS (` +
		`SELECT "owningId" FROM ` + quoteIdent(sqlkit.JoinName("users", role)) + ` WHERE "relatedId" = ? ` +
		`UNION SELECT j."owningId" FROM ` + quoteIdent(sqlkit.JoinName("roles", role)) + ` j JOIN r ON j."relatedId" = r.id) ` +
		`SELECT json_extract(o."data", '$.name') AS n FROM ` + quoteIdent(role) + ` o JOIN r ON o."objectId" = r.id ` +
		`WHERE json_type(o."data", '$.name') = 'text' ORDER BY n`
	rows, err := s.query(ctx, stmt, userID)
	if isNoTable(err) {
		return nil, nil // no role was ever stored
	}
	if err != nil {
		return nil, s.wrap("resolve roles", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, s.wrap("resolve roles", err)
		}
		names = append(names, n)
	}
	return names, s.wrap("resolve roles", rows.Err())
}
