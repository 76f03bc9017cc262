package postgres

import (
	"slices"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// Relational conditions run as subqueries in the statement of the query
// they belong to. The subqueries are uncorrelated where they can be
// (x IN (SELECT ...)), so the planner may hash them once; the few
// correlated ones (array elements of the outer row) only name the outer
// row's columns in the FROM of a nested SELECT, outside the inner class's
// scope. Inside an inner SELECT, the unqualified columns the condBuilder
// writes ("data", "objectId", "_rperm") resolve to the inner table, the
// innermost in scope: no aliases are needed at any depth.

func checkRelationField(r storage.Relation) error {
	r.OwningID = "x" // unused by RelationHas
	return checkRelation(r)
}

// innerSelect is "SELECT <col> FROM <class> WHERE <where> AND <acl>", or
// ok false when the class's table is known not to exist.
func (b *condBuilder) innerSelect(col, class string, where storage.Cond, perm []string, extra ...sqlkit.Frag) (f sqlkit.Frag, ok bool, err error) {
	if err := checkClass(class); err != nil {
		return sqlkit.Frag{}, false, err
	}
	if b.missing[class] {
		return sqlkit.Frag{}, false, nil
	}
	// The inner class's conditions use no number columns: the builder's
	// are the outer class's.
	c, err := (&condBuilder{s: b.s, missing: b.missing}).build(where)
	if err != nil {
		return sqlkit.Frag{}, false, err
	}
	cond := sqlkit.Join("AND", append([]sqlkit.Frag{c, permCheck(`"_rperm"`, perm)}, extra...))
	if cond.SQL == "FALSE" {
		return sqlkit.Frag{}, false, nil
	}
	sql := "SELECT " + col + " FROM " + b.s.table(class)
	if cond.SQL != "TRUE" {
		sql += " WHERE " + cond.SQL
	}
	return sqlkit.Frag{SQL: sql, Args: cond.Args}, true, nil
}

// arrayElems is the FROM item of an array field's elements, as pe(v): no
// rows when the value is not an array.
func arrayElems(x string, xargs []any) (string, []any) {
	return "jsonb_array_elements(CASE WHEN jsonb_typeof(" + x + ") = 'array' THEN " + x + " END) AS pe(v)",
		append(append([]any{}, xargs...), xargs...)
}

func (b *condBuilder) inQuery(c storage.InQuery) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	inner, ok, err := b.innerSelect(`"objectId"`, c.Class, c.Where, c.ReadPerm)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	f := sqlkit.False
	if ok && t.Column == "" {
		x, xargs := targetJSON(t)
		elems, eargs := arrayElems(x, xargs)
		f = sqlkit.Frag{
			SQL:  "(" + x + "->>'className' = ?::text AND " + x + "->>'objectId' IN (" + inner.SQL + "))",
			Args: slices.Concat(xargs, []any{c.Class}, xargs, inner.Args),
		}
		if !c.NotArray {
			f = sqlkit.Frag{
				SQL: "(" + f.SQL + " OR EXISTS (SELECT 1 FROM " + elems +
					" WHERE pe.v->>'className' = ?::text AND pe.v->>'objectId' IN (" + inner.SQL + ")))",
				Args: slices.Concat(f.Args, eargs, []any{c.Class}, inner.Args),
			}
		}
	}
	if c.Not {
		return sqlkit.NotInSubquery(t, present, f, inner, ok), nil
	}
	return f, nil
}

// columnJSON is a column's value as the jsonb a data field would hold.
func columnJSON(col string) string {
	if col == "objectId" {
		return `to_jsonb("objectId")`
	}
	return `jsonb_build_object('__type', 'Date', 'iso', to_char(` + quoteIdent(col) +
		` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`
}

func (b *condBuilder) selectCond(c storage.Select) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	k, err := sqlkit.ResolveField(c.Key)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	var kx string
	var kargs []any
	if k.Column != "" {
		kx = columnJSON(k.Column)
	} else {
		kx, kargs = targetJSON(k)
	}
	notNull := sqlkit.Frag{SQL: "jsonb_typeof(" + kx + ") <> 'null'", Args: kargs}
	inner, ok, err := b.innerSelect(kx, c.Class, c.Where, c.ReadPerm, notNull)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	inner.Args = append(append([]any{}, kargs...), inner.Args...)
	f := sqlkit.False
	if ok {
		if t.Column != "" {
			f = sqlkit.Frag{SQL: "(" + columnJSON(t.Column) + " IN (" + inner.SQL + "))", Args: inner.Args}
		} else {
			x, xargs := targetJSON(t)
			elems, eargs := arrayElems(x, xargs)
			f = sqlkit.Frag{SQL: "(" + x + " IN (" + inner.SQL + "))", Args: slices.Concat(xargs, inner.Args)}
			if !c.NotArray {
				f = sqlkit.Frag{
					SQL:  "(" + f.SQL + " OR EXISTS (SELECT 1 FROM " + elems + " WHERE pe.v IN (" + inner.SQL + ")))",
					Args: slices.Concat(f.Args, eargs, inner.Args),
				}
			}
		}
	}
	if c.Not {
		return sqlkit.NotInSubquery(t, present, f, inner, ok), nil
	}
	return f, nil
}

func (b *condBuilder) containedBy(c storage.ContainedBy) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	if t.Column != "" {
		return sqlkit.True, nil // never an array
	}
	vals := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		jv, err := sqlkit.ValueOf(v)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		vals = append(vals, string(jv.JSON))
	}
	x, xargs := targetJSON(t)
	elems, eargs := arrayElems(x, xargs)
	return sqlkit.Frag{
		SQL:  "NOT EXISTS (SELECT 1 FROM " + elems + " WHERE NOT (pe.v = ANY(?::text[]::jsonb[])))",
		Args: append(eargs, vals),
	}, nil
}

func (b *condBuilder) relationHas(c storage.RelationHas) (sqlkit.Frag, error) {
	if err := checkRelationField(c.Relation); err != nil {
		return sqlkit.Frag{}, err
	}
	jt := sqlkit.JoinName(c.Relation.Field, c.Relation.OwningClass)
	f := sqlkit.False
	switch {
	case b.missing[jt]:
	case c.Related != nil:
		inner, ok, err := b.innerSelect(`"objectId"`, c.Related.Class, c.Related.Where, c.Related.ReadPerm)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		if ok {
			f = sqlkit.Frag{
				SQL:  `"objectId" IN (SELECT "owningId" FROM ` + b.s.nsq + "." + quoteIdent(jt) + ` WHERE "relatedId" IN (` + inner.SQL + `))`,
				Args: inner.Args,
			}
		}
	case len(c.RelatedIDs) > 0:
		f = sqlkit.Frag{
			SQL:  `"objectId" IN (SELECT "owningId" FROM ` + b.s.nsq + "." + quoteIdent(jt) + ` WHERE "relatedId" = ANY(?::text[]))`,
			Args: []any{c.RelatedIDs},
		}
	}
	if c.Not {
		return sqlkit.Not(f), nil
	}
	return f, nil
}
