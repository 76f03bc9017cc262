package postgres

import "github.com/parsego/parse/storage"

// Relational conditions run as subqueries in the statement of the query
// they belong to. The subqueries are uncorrelated where they can be
// (x IN (SELECT ...)), so the planner may hash them once; the few
// correlated ones (array elements of the outer row) only name the outer
// row's columns in the FROM of a nested SELECT, outside the inner class's
// scope. Inside an inner SELECT, the unqualified columns the condBuilder
// writes ("data", "objectId", "_rperm") resolve to the inner table, the
// innermost in scope: no aliases are needed at any depth.

// collectSubqueryTables appends the tables a relational condition reads:
// the inner class's table and whatever its inner condition reads, or a
// relation's join table.
func collectSubqueryTables(c storage.Cond, out []string) []string {
	switch c := c.(type) {
	case storage.InQuery:
		if checkClass(c.Class) == nil {
			out = append(out, c.Class)
		}
		out = collectJoins(c.Where, out)
	case storage.Select:
		if checkClass(c.Class) == nil {
			out = append(out, c.Class)
		}
		out = collectJoins(c.Where, out)
	case storage.RelationHas:
		if checkRelationField(c.Relation) == nil {
			out = append(out, joinName(c.Relation.Field, c.Relation.OwningClass))
		}
		if c.Related != nil {
			out = collectSubqueryTables(*c.Related, out)
		}
	}
	return out
}

func checkRelationField(r storage.Relation) error {
	r.OwningID = "x" // unused by RelationHas
	return checkRelation(r)
}

// innerSelect is "SELECT <col> FROM <class> WHERE <where> AND <acl>", or
// ok false when the class's table is known not to exist.
func (b *condBuilder) innerSelect(col, class string, where storage.Cond, perm []string, extra ...frag) (f frag, ok bool, err error) {
	if err := checkClass(class); err != nil {
		return frag{}, false, err
	}
	if b.missing[class] {
		return frag{}, false, nil
	}
	// The inner class's conditions use no number columns: the builder's
	// are the outer class's.
	c, err := (&condBuilder{s: b.s, missing: b.missing}).build(where)
	if err != nil {
		return frag{}, false, err
	}
	cond := join("AND", append([]frag{c, permCheck(`"_rperm"`, perm)}, extra...))
	if cond.sql == "FALSE" {
		return frag{}, false, nil
	}
	sql := "SELECT " + col + " FROM " + b.s.table(class)
	if cond.sql != "TRUE" {
		sql += " WHERE " + cond.sql
	}
	return frag{sql: sql, args: cond.args}, true, nil
}

// arrayElems is the FROM item of an array field's elements, as pe(v): no
// rows when the value is not an array.
func arrayElems(x string, xargs []any) (string, []any) {
	return "jsonb_array_elements(CASE WHEN jsonb_typeof(" + x + ") = 'array' THEN " + x + " END) AS pe(v)",
		append(append([]any{}, xargs...), xargs...)
}

func concatArgs(parts ...[]any) []any {
	var out []any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func (b *condBuilder) inQuery(c storage.InQuery) (frag, error) {
	t, err := resolveField(c.Field)
	if err != nil {
		return frag{}, err
	}
	inner, ok, err := b.innerSelect(`"objectId"`, c.Class, c.Where, c.ReadPerm)
	if err != nil {
		return frag{}, err
	}
	f := fragFalse
	if ok && t.column == "" {
		x, xargs := t.json()
		elems, eargs := arrayElems(x, xargs)
		f = frag{
			sql:  "(" + x + "->>'className' = ?::text AND " + x + "->>'objectId' IN (" + inner.sql + "))",
			args: concatArgs(xargs, []any{c.Class}, xargs, inner.args),
		}
		if !c.NotArray {
			f = frag{
				sql: "(" + f.sql + " OR EXISTS (SELECT 1 FROM " + elems +
					" WHERE pe.v->>'className' = ?::text AND pe.v->>'objectId' IN (" + inner.sql + ")))",
				args: concatArgs(f.args, eargs, []any{c.Class}, inner.args),
			}
		}
	}
	if c.Not {
		return notInSubquery(t, f, inner, ok), nil
	}
	return f, nil
}

// notInSubquery is the negation of an InQuery or Select condition f with Parse's
// rules on PostgreSQL (a $nin of the inner results): objects whose field is
// present and not null and f does not hold, or every object when the inner
// query matches nothing (an empty $nin).
func notInSubquery(t target, f, inner frag, ok bool) frag {
	if !ok {
		return fragTrue
	}
	present := fragTrue
	if t.column == "" {
		x, xargs := t.json()
		present = frag{sql: "jsonb_typeof(" + x + ") <> 'null'", args: xargs}
	}
	return join("OR", []frag{
		{sql: "NOT EXISTS (" + inner.sql + ")", args: inner.args},
		join("AND", []frag{present, not(f)}),
	})
}

// columnJSON is a column's value as the jsonb a data field would hold.
func columnJSON(col string) string {
	if col == "objectId" {
		return `to_jsonb("objectId")`
	}
	return `jsonb_build_object('__type', 'Date', 'iso', to_char(` + quoteIdent(col) +
		` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`
}

func (b *condBuilder) selectCond(c storage.Select) (frag, error) {
	t, err := resolveField(c.Field)
	if err != nil {
		return frag{}, err
	}
	k, err := resolveField(c.Key)
	if err != nil {
		return frag{}, err
	}
	var kx string
	var kargs []any
	if k.column != "" {
		kx = columnJSON(k.column)
	} else {
		kx, kargs = k.json()
	}
	notNull := frag{sql: "jsonb_typeof(" + kx + ") <> 'null'", args: kargs}
	inner, ok, err := b.innerSelect(kx, c.Class, c.Where, c.ReadPerm, notNull)
	if err != nil {
		return frag{}, err
	}
	inner.args = append(append([]any{}, kargs...), inner.args...)
	f := fragFalse
	if ok {
		if t.column != "" {
			f = frag{sql: "(" + columnJSON(t.column) + " IN (" + inner.sql + "))", args: inner.args}
		} else {
			x, xargs := t.json()
			elems, eargs := arrayElems(x, xargs)
			f = frag{sql: "(" + x + " IN (" + inner.sql + "))", args: concatArgs(xargs, inner.args)}
			if !c.NotArray {
				f = frag{
					sql:  "(" + f.sql + " OR EXISTS (SELECT 1 FROM " + elems + " WHERE pe.v IN (" + inner.sql + ")))",
					args: concatArgs(f.args, eargs, inner.args),
				}
			}
		}
	}
	if c.Not {
		return notInSubquery(t, f, inner, ok), nil
	}
	return f, nil
}

func (b *condBuilder) containedBy(c storage.ContainedBy) (frag, error) {
	t, err := resolveField(c.Field)
	if err != nil {
		return frag{}, err
	}
	if t.column != "" {
		return fragTrue, nil // never an array
	}
	vals := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		jv, err := toJSONValue(v)
		if err != nil {
			return frag{}, err
		}
		vals = append(vals, string(jv.json))
	}
	x, xargs := t.json()
	elems, eargs := arrayElems(x, xargs)
	return frag{
		sql:  "NOT EXISTS (SELECT 1 FROM " + elems + " WHERE NOT (pe.v = ANY(?::text[]::jsonb[])))",
		args: append(eargs, vals),
	}, nil
}

func (b *condBuilder) relationHas(c storage.RelationHas) (frag, error) {
	if err := checkRelationField(c.Relation); err != nil {
		return frag{}, err
	}
	jt := joinName(c.Relation.Field, c.Relation.OwningClass)
	f := fragFalse
	switch {
	case b.missing[jt]:
	case c.Related != nil:
		inner, ok, err := b.innerSelect(`"objectId"`, c.Related.Class, c.Related.Where, c.Related.ReadPerm)
		if err != nil {
			return frag{}, err
		}
		if ok {
			f = frag{
				sql:  `"objectId" IN (SELECT "owningId" FROM ` + b.s.nsq + "." + quoteIdent(jt) + ` WHERE "relatedId" IN (` + inner.sql + `))`,
				args: inner.args,
			}
		}
	case len(c.RelatedIDs) > 0:
		f = frag{
			sql:  `"objectId" IN (SELECT "owningId" FROM ` + b.s.nsq + "." + quoteIdent(jt) + ` WHERE "relatedId" = ANY(?::text[]))`,
			args: []any{c.RelatedIDs},
		}
	}
	if c.Not {
		return not(f), nil
	}
	return f, nil
}
