package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	sq "github.com/Masterminds/squirrel"
	"github.com/jackc/pgx/v5"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// scanObject reads the objectColumns of one row.
func scanObject(row pgx.Row) (storage.Object, error) {
	var o storage.Object
	var data []byte // pgx copies jsonb into a []byte as is, without decoding
	if err := row.Scan(&o.ID, &o.CreatedAt, &o.UpdatedAt, &o.ReadPerm, &o.WritePerm, &data); err != nil {
		return storage.Object{}, err
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	o.Data = data
	return o, nil
}

// scanObjects reads rows of objectColumns, at most limit of them (0: no
// limit) as a size hint. One set of scan targets serves every row, so that
// a row costs only the values it holds, not the targets' allocations.
func scanObjects(rows pgx.Rows, limit int) ([]storage.Object, error) {
	defer rows.Close()
	var (
		o    storage.Object
		data []byte
	)
	dest := []any{&o.ID, &o.CreatedAt, &o.UpdatedAt, &o.ReadPerm, &o.WritePerm, &data}
	out := make([]storage.Object, 0, min(max(limit, 1), 100))
	for rows.Next() {
		// Fresh targets: pgx may fill a non-nil slice in place, and the
		// last row's still belong to it.
		o.ReadPerm, o.WritePerm, data = nil, nil, nil
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		o.CreatedAt, o.UpdatedAt, o.Data = o.CreatedAt.UTC(), o.UpdatedAt.UTC(), data
		out = append(out, o)
	}
	return out, rows.Err()
}

// permCheck is the ACL condition on "_rperm" or "_wperm": public (NULL) or
// sharing an entry with perms. nil perms: no check.
func permCheck(col string, perms []string) sqlkit.Frag {
	if perms == nil {
		return sqlkit.True
	}
	return sqlkit.Frag{SQL: "(" + col + " IS NULL OR " + col + " && ?::text[])", Args: []any{perms}}
}

// prepare returns the WHERE condition of a statement on class: where, plus
// extra, and the class's number columns (its layout: numcols.go). It
// checks the tables the statement needs that are not known to exist: those
// where's conditions read (sqlkit.CondTables) always, one missing making its
// condition false, and, in a transaction, the class's table, where a 42P01
// error would abort the transaction (classMissing reports it).
func (s *Store) prepare(ctx context.Context, class string, where storage.Cond, extra ...sqlkit.Frag) (cond sqlkit.Frag, nums map[string]bool, tables []string, classMissing bool, err error) {
	tables = sqlkit.CondTables(where, nil)
	check := tables
	if s.tx != nil {
		check = append(slices.Clip(check), class)
	}
	tables = append(tables, class)
	var missing map[string]bool
	if len(check) > 0 {
		missing, err = s.missingTables(ctx, check)
		if err != nil {
			return sqlkit.Frag{}, nil, nil, false, err
		}
		if missing[class] {
			return sqlkit.Frag{}, nil, tables, true, nil
		}
	}
	var lay layout
	if s.tx == nil {
		// In a transaction a column dropped behind the cache's back would
		// abort it; without the layout, statements answer alike.
		if lay, err = s.layoutOf(ctx, class); err != nil {
			return sqlkit.Frag{}, nil, nil, false, err
		}
	}
	nums = lay.numbers
	c, err := (&condBuilder{s: s, missing: missing, nums: nums, strs: lay.strings}).build(where)
	if err != nil {
		return sqlkit.Frag{}, nil, nil, false, err
	}
	return sqlkit.Join("AND", append(extra, c)), nums, tables, false, nil
}

// retry tells what to do after a statement failed: undefined when a table
// it read does not exist (the tables are evicted), again when it should run
// once more, outside a transaction: it read join tables the cache believed
// to exist, or met a number column dropped behind the cache's back (the
// class's, last in tables, are evicted).
func (s *Store) retry(err error, tables []string, retried bool) (undefined, again bool) {
	if isUndefinedColumn(err) {
		s.tables.forgetLayout(tables[len(tables)-1])
		return false, !retried && s.tx == nil
	}
	if !isUndefinedTable(err) {
		return false, false
	}
	s.evict(tables)
	return true, !retried && s.tx == nil && len(tables) > 1
}

func whereSQL(b sq.SelectBuilder, c sqlkit.Frag) sq.SelectBuilder {
	if c.SQL == "TRUE" {
		return b
	}
	return b.Where(c)
}

// Insert stores objs with one multi-row INSERT.
func (s *Store) Insert(ctx context.Context, class string, objs ...storage.Object) error {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return err
	}
	if len(objs) == 0 {
		return nil
	}
	if s.tx != nil {
		missing, err := s.missingTables(ctx, []string{class})
		if err != nil {
			return err
		}
		if missing[class] {
			return fmt.Errorf("postgres: insert into %s: %w", class, storage.ErrClassNotFound)
		}
	}
	args := make([]any, 0, 6*len(objs))
	for _, o := range objs {
		args = append(args, o.ID, o.CreatedAt, o.UpdatedAt, o.ReadPerm, o.WritePerm, []byte(sqlkit.RawOrEmpty(o.Data)))
	}
	sql, err := s.stmts.get(stmtKey{"insert", class, strconv.Itoa(len(objs))}, func() (string, error) {
		ins := psql.Insert(s.table(class)).Columns(`"objectId"`, `"createdAt"`, `"updatedAt"`, `"_rperm"`, `"_wperm"`, `"data"`)
		for i := 0; i < len(args); i += 6 {
			ins = ins.Values(args[i : i+6]...)
		}
		sql, _, err := ins.ToSql()
		return sql, err
	})
	if err != nil {
		return err
	}
	if _, err := s.q.Exec(ctx, sql, args...); err != nil {
		if isUndefinedTable(err) {
			s.evict([]string{class})
			return fmt.Errorf("postgres: insert into %s: %w", class, storage.ErrClassNotFound)
		}
		return s.wrap("insert into "+class, err)
	}
	return nil
}

// Get reads one object by primary key.
func (s *Store) Get(ctx context.Context, class, id string, readPerms []string) (storage.Object, error) {
	defer s.lock()()
	if err := checkClass(class); err != nil {
		return storage.Object{}, err
	}
	notFound := func() error { return fmt.Errorf("postgres: get %s %s: %w", class, id, storage.ErrNotFound) }
	// The hot path: the statement's text is cached and its arguments are
	// the id and, for a client, its ACL identity; only in a transaction is
	// the class's table checked first (see prepare).
	idCond := sqlkit.Frag{SQL: `"objectId" = ?`, Args: []any{id}}
	permCond := permCheck(`"_rperm"`, readPerms)
	if s.tx != nil {
		if _, _, _, classMissing, err := s.prepare(ctx, class, nil, idCond, permCond); err != nil || classMissing {
			if err == nil {
				err = notFound()
			}
			return storage.Object{}, err
		}
	}
	args := append(idCond.Args, permCond.Args...)
	sql, err := s.stmts.get(stmtKey{"get", class, permShape(readPerms)}, func() (string, error) {
		sql, _, err := psql.Select(objectColumns).From(s.table(class)).Where(sqlkit.Join("AND", []sqlkit.Frag{idCond, permCond})).ToSql()
		return sql, err
	})
	if err != nil {
		return storage.Object{}, err
	}
	o, err := scanObject(s.q.QueryRow(ctx, sql, args...))
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.Object{}, notFound()
		}
		if undefined, _ := s.retry(err, []string{class}, true); undefined {
			return storage.Object{}, notFound()
		}
		return storage.Object{}, s.wrap("get from "+class, err)
	}
	return o, nil
}

// Find runs one SELECT; order, limit and skip are applied by the database.
func (s *Store) Find(ctx context.Context, class string, q storage.Query) ([]storage.Object, error) {
	defer s.lock()()
	return s.find(ctx, class, q, false)
}

func (s *Store) find(ctx context.Context, class string, q storage.Query, retried bool) ([]storage.Object, error) {
	if err := checkClass(class); err != nil {
		return nil, err
	}
	if q.Limit < 0 || q.Skip < 0 {
		return nil, fmt.Errorf("postgres: find: negative limit or skip: %w", storage.ErrInvalidQuery)
	}
	cond, nums, tables, classMissing, err := s.prepare(ctx, class, q.Where, permCheck(`"_rperm"`, q.ReadPerm))
	if err != nil || classMissing {
		return nil, err
	}
	var (
		sql  string
		args []any
		mode = planEach
	)
	if len(q.Order) == 0 && equalitiesOnly(q.Where) {
		// A prepared statement, which PostgreSQL soon runs with a generic
		// plan: planning cost more than running such a query. The limit
		// is in the text, since the generic plan of an unknown one
		// costs higher and would never be chosen. The hottest of queries,
		// so its text is cached by shape (stmts.go).
		mode = pgx.QueryExecModeCacheStatement
		shape := cond.SQL + "|" + strconv.Itoa(q.Limit) + "|" + strconv.Itoa(q.Skip)
		sql, err = s.stmts.get(stmtKey{"find", class, shape}, func() (string, error) {
			sel := whereSQL(psql.Select(objectColumns).From(s.table(class)), sqlkit.Frag{SQL: cond.SQL})
			if q.Limit > 0 {
				sel = sel.Suffix("LIMIT " + strconv.Itoa(q.Limit))
			}
			if q.Skip > 0 {
				sel = sel.Suffix("OFFSET " + strconv.Itoa(q.Skip))
			}
			sql, _, err := sel.ToSql()
			return sql, err
		})
		args = cond.Args
	} else {
		sel := whereSQL(psql.Select(objectColumns).From(s.table(class)), cond)
		if sel, err = orderBy(sel, q.Order, nums); err != nil {
			return nil, err
		}
		sel = s.nearOrder(sel, q) // distance order of a $nearSphere: geo.go
		if q.Limit > 0 || q.Skip > 0 {
			// Bind parameters, not squirrel's Limit, which writes the
			// number into the text and makes every page size a new
			// statement.
			var limit any
			if q.Limit > 0 {
				limit = int64(q.Limit)
			}
			sel = sel.Suffix("LIMIT ? OFFSET ?", limit, int64(q.Skip))
		}
		sql, args, err = sel.ToSql()
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.q.Query(ctx, sql, append([]any{mode}, args...)...)
	var out []storage.Object
	if err == nil {
		out, err = scanObjects(rows, q.Limit)
	}
	if undefined, again := s.retry(err, tables, retried); again {
		return s.find(ctx, class, q, true)
	} else if undefined {
		return nil, nil
	}
	if err != nil {
		return nil, s.wrap("find in "+class, err)
	}
	return out, nil
}

// orderBy adds the sort keys: jsonb order on data paths (PostgreSQL's: nulls
// last ascending, first descending), the columns for objectId, createdAt and
// updatedAt, and a field's number column where it has one (numcols.go).
// Unless objectId is a key, "_seq" (insertion order) ends the ORDER BY as a
// tiebreaker, in the direction of the last key (see storage.Query.Order);
// with an index on the first key the planner still walks it, adding an
// incremental sort only within runs of equal values.
func orderBy(sel sq.SelectBuilder, order []storage.Sort, nums map[string]bool) (sq.SelectBuilder, error) {
	if len(order) == 0 {
		return sel, nil
	}
	hasID := false
	for _, o := range order {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		t, err := sqlkit.ResolveField(o.Field)
		if err != nil {
			return sel, err
		}
		if t.Column != "" {
			sel = sel.OrderBy(quoteIdent(t.Column) + dir)
			hasID = hasID || t.Column == "objectId"
			continue
		}
		if nums[o.Field] {
			sel = sel.OrderBy(quoteIdent(numberColumn(o.Field)) + dir)
			continue
		}
		x, args := targetJSON(t)
		sel = sel.OrderByClause(x+dir, args...)
	}
	if !hasID {
		sel = sel.OrderBy(tiebreak(order[len(order)-1].Desc))
	}
	return sel, nil
}

// tiebreak orders rows equal on every sort key by "_seq", the identity
// column that numbers a class's rows as they are inserted (schema.go).
func tiebreak(desc bool) string {
	if desc {
		return `"_seq" DESC`
	}
	return `"_seq" ASC`
}

// planEach runs a statement as an unnamed prepared statement, which
// PostgreSQL plans with the values of its parameters every time, with the
// statement's description cached so that it takes one round trip and binary
// formats. Queries need that: a cached statement soon gets a generic plan,
// which can't see that a containment is selective or a range narrow and so
// prefers a scan of the table (20x slower on a 20k-object class). Get,
// Insert and Update by id, and finds by equalities only (equalitiesOnly),
// keep the statement cache: their plans never depend on values.
const planEach = pgx.QueryExecModeCacheDescribe

// Count counts exactly (never the planner's estimate).
func (s *Store) Count(ctx context.Context, class string, q storage.Query) (int64, error) {
	defer s.lock()()
	return s.count(ctx, class, q, false)
}

func (s *Store) count(ctx context.Context, class string, q storage.Query, retried bool) (int64, error) {
	if err := checkClass(class); err != nil {
		return 0, err
	}
	cond, _, tables, classMissing, err := s.prepare(ctx, class, q.Where, permCheck(`"_rperm"`, q.ReadPerm))
	if err != nil || classMissing {
		return 0, err
	}
	sql, args, err := whereSQL(psql.Select("count(*)").From(s.table(class)), cond).ToSql()
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.q.QueryRow(ctx, sql, append([]any{planEach}, args...)...).Scan(&n)
	if undefined, again := s.retry(err, tables, retried); again {
		return s.count(ctx, class, q, true)
	} else if undefined {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap("count in "+class, err)
	}
	return n, nil
}

// Update applies the operators in one UPDATE ... RETURNING: the data
// expression nests one helper function per operator, so the database reads
// and writes the row under its row lock and concurrent updates compose.
func (s *Store) Update(ctx context.Context, class, id string, u storage.Update) (storage.Object, error) {
	defer s.lock()()
	return s.update(ctx, class, id, u, false)
}

func (s *Store) update(ctx context.Context, class, id string, u storage.Update, retried bool) (storage.Object, error) {
	if err := checkClass(class); err != nil {
		return storage.Object{}, err
	}
	expr, exprArgs, err := s.opsExpr(u.Ops)
	if err != nil {
		return storage.Object{}, err
	}
	notFound := func() error { return fmt.Errorf("postgres: update %s %s: %w", class, id, storage.ErrNotFound) }
	cond, _, tables, classMissing, err := s.prepare(ctx, class, u.Where,
		sqlkit.Frag{SQL: `"objectId" = ?`, Args: []any{id}}, permCheck(`"_wperm"`, u.WritePerm))
	if err != nil {
		return storage.Object{}, err
	}
	if classMissing {
		return storage.Object{}, notFound()
	}
	args := append(exprArgs, u.UpdatedAt)
	if u.SetACL {
		args = append(args, u.NewReadPerm, u.NewWritePerm)
	}
	args = append(args, cond.Args...)
	build := func() (string, error) {
		up := psql.Update(s.table(class)).
			Set(`"data"`, sq.Expr(expr, exprArgs...)).
			Set(`"updatedAt"`, u.UpdatedAt)
		if u.SetACL {
			up = up.Set(`"_rperm"`, u.NewReadPerm).Set(`"_wperm"`, u.NewWritePerm)
		}
		sql, _, err := up.Where(cond).Suffix("RETURNING " + objectColumns).ToSql()
		return sql, err
	}
	var sql string
	if u.Where == nil {
		// The statement's text depends only on the operators' shape (their
		// paths and values are arguments) and on which checks apply.
		sql, err = s.stmts.get(stmtKey{"update", class, expr + "|" + permShape(u.WritePerm) + strconv.FormatBool(u.SetACL)}, build)
	} else {
		sql, err = build()
	}
	if err != nil {
		return storage.Object{}, err
	}
	o, err := scanObject(s.q.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Object{}, notFound()
	}
	if undefined, again := s.retry(err, tables, retried); again {
		return s.update(ctx, class, id, u, true)
	} else if undefined {
		return storage.Object{}, notFound()
	}
	if err != nil {
		return storage.Object{}, s.wrap("update "+class, err)
	}
	return o, nil
}

// opsExpr nests the operators around "data", first operator innermost.
func (s *Store) opsExpr(ops []storage.Op) (string, []any, error) {
	expr := `"data"`
	var args []any
	for _, op := range ops {
		segs, err := sqlkit.SplitPath(op.Field)
		if err != nil {
			return "", nil, err
		}
		val := bytes.TrimSpace(op.Value)
		var fn string
		switch op.Kind {
		case storage.OpSet:
			if len(val) == 0 {
				val = []byte("null")
			}
			if len(segs) == 1 {
				fn = "jsonb_set" // creates a missing top-level key
			} else {
				fn = s.nsq + ".parsego_set"
			}
		case storage.OpDelete:
			expr = "(" + expr + " #- ?::text[])"
			args = append(args, segs)
			continue
		case storage.OpIncrement:
			if len(val) == 0 || !(val[0] == '-' || val[0] >= '0' && val[0] <= '9') {
				return "", nil, fmt.Errorf("postgres: Increment %s by %s: %w", op.Field, op.Value, storage.ErrInvalidQuery)
			}
			fn = s.nsq + ".parsego_increment"
		case storage.OpAdd, storage.OpAddUnique, storage.OpRemove:
			if len(val) == 0 || val[0] != '[' {
				return "", nil, fmt.Errorf("postgres: %s %s with %s (not an array): %w", op.Kind, op.Field, op.Value, storage.ErrInvalidQuery)
			}
			fn = map[storage.OpKind]string{
				storage.OpAdd:       ".parsego_add",
				storage.OpAddUnique: ".parsego_add_unique",
				storage.OpRemove:    ".parsego_remove",
			}[op.Kind]
			fn = s.nsq + fn
		default:
			return "", nil, fmt.Errorf("postgres: operator %s: %w", op.Kind, storage.ErrInvalidQuery)
		}
		expr = fn + "(" + expr + ", ?::text[], ?::jsonb)"
		args = append(args, segs, []byte(val))
	}
	return expr, args, nil
}

// Delete removes one object and its rows in the class's join tables, in
// one statement: the DELETE is a CTE whose IDs parsego_delete_joins reads.
func (s *Store) Delete(ctx context.Context, class, id string, writePerms []string, where storage.Cond) error {
	defer s.lock()()
	n, err := s.deleteWhere(ctx, class, where, false,
		sqlkit.Frag{SQL: `"objectId" = ?`, Args: []any{id}}, permCheck(`"_wperm"`, writePerms))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("postgres: delete %s %s: %w", class, id, storage.ErrNotFound)
	}
	return nil
}

// DeleteMany removes every object matching where.
func (s *Store) DeleteMany(ctx context.Context, class string, where storage.Cond) (int64, error) {
	defer s.lock()()
	return s.deleteWhere(ctx, class, where, false)
}

func (s *Store) deleteWhere(ctx context.Context, class string, where storage.Cond, retried bool, extra ...sqlkit.Frag) (int64, error) {
	if err := checkClass(class); err != nil {
		return 0, err
	}
	cond, _, tables, classMissing, err := s.prepare(ctx, class, where, extra...)
	if err != nil || classMissing {
		return 0, err
	}
	del := qsql.Delete(s.table(class)).Suffix(`RETURNING "objectId"`)
	if cond.SQL != "TRUE" {
		del = del.Where(cond)
	}
	sql, args, err := psql.Select("count(*)").
		Column(sq.Expr(s.nsq+`.parsego_delete_joins(?::text, array_agg("objectId"))`, class)).
		PrefixExpr(sq.Expr("WITH d AS (?)", del)).
		From("d").ToSql()
	if err != nil {
		return 0, err
	}
	var n int64
	var joined int32
	err = s.q.QueryRow(ctx, sql, args...).Scan(&n, &joined)
	if undefined, again := s.retry(err, tables, retried); again {
		return s.deleteWhere(ctx, class, where, true, extra...)
	} else if undefined {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap("delete from "+class, err)
	}
	return n, nil
}

// AddRelation inserts the links with one INSERT ... SELECT unnest(...) ON
// CONFLICT DO NOTHING, creating the join table first if needed.
func (s *Store) AddRelation(ctx context.Context, r storage.Relation, relatedIDs ...string) error {
	defer s.lock()()
	if err := checkRelation(r); err != nil {
		return err
	}
	if len(relatedIDs) == 0 {
		return nil
	}
	jt := sqlkit.JoinName(r.Field, r.OwningClass)
	for attempt := 0; ; attempt++ {
		missing, err := s.missingTables(ctx, []string{jt}) // cached after the first call
		if err != nil {
			return err
		}
		if missing[jt] {
			if err := s.createJoinTable(ctx, r.Field, r.OwningClass); err != nil {
				return err
			}
		}
		sql, args, err := psql.Insert(s.nsq+"."+quoteIdent(jt)).Columns(`"owningId"`, `"relatedId"`).
			Select(qsql.Select().Column(sq.Expr("?::text", r.OwningID)).Column(sq.Expr("unnest(?::text[])", relatedIDs))).
			Suffix("ON CONFLICT DO NOTHING").ToSql()
		if err != nil {
			return err
		}
		_, err = s.q.Exec(ctx, sql, args...)
		if isUndefinedTable(err) && attempt == 0 && s.tx == nil {
			s.evict([]string{jt}) // dropped behind the cache's back
			continue
		}
		if err != nil {
			return s.wrap("add relation "+jt, err)
		}
		return nil
	}
}

// createJoinTable creates a join table under the owning class's schema lock
// (concurrent CREATE TABLE IF NOT EXISTS can fail on the catalog's unique
// index otherwise).
func (s *Store) createJoinTable(ctx context.Context, field, class string) error {
	err := pgx.BeginFunc(ctx, s.q, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "parsego_class:"+s.ns+"."+class); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, strings.Join(s.joinDDL(field, class), ";\n"))
		return err
	})
	if err != nil {
		return s.wrap("create join table", err)
	}
	s.markTable(sqlkit.JoinName(field, class), true)
	return nil
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
	if s.tx != nil {
		missing, err := s.missingTables(ctx, []string{jt})
		if err != nil || missing[jt] {
			return err
		}
	}
	sql, args, err := psql.Delete(s.nsq+"."+quoteIdent(jt)).
		Where(`"owningId" = ?::text AND "relatedId" = ANY(?::text[])`, r.OwningID, relatedIDs).ToSql()
	if err != nil {
		return err
	}
	if _, err := s.q.Exec(ctx, sql, args...); err != nil {
		if isUndefinedTable(err) {
			s.evict([]string{jt})
			return nil
		}
		return s.wrap("remove relation "+jt, err)
	}
	return nil
}
