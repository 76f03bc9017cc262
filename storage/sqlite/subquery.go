package sqlite

import (
	"slices"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

// Relational conditions run as subqueries in the statement of the query
// they belong to. Inside an inner SELECT the unqualified columns the
// condBuilder writes ("data", "objectId", "_rperm") resolve to the inner
// table, the innermost in scope, so no aliases are needed at any depth.

// innerSelect is "SELECT <col> FROM <class> WHERE <where> AND <acl>", or
// ok false when the class's table does not exist.
func (b *condBuilder) innerSelect(col, class string, where storage.Cond, perm []string, extra ...sqlkit.Frag) (f sqlkit.Frag, ok bool, err error) {
	if err := checkClass(class); err != nil {
		return sqlkit.Frag{}, false, err
	}
	if b.missing[class] {
		return sqlkit.Frag{}, false, nil
	}
	c, err := b.build(where)
	if err != nil {
		return sqlkit.Frag{}, false, err
	}
	cond := sqlkit.Join("AND", append([]sqlkit.Frag{c, permCheck(`"_rperm"`, perm)}, extra...))
	if cond.SQL == "FALSE" {
		return sqlkit.Frag{}, false, nil
	}
	sql := "SELECT " + col + " FROM " + quoteIdent(class)
	if cond.SQL != "TRUE" {
		sql += " WHERE " + cond.SQL
	}
	return sqlkit.Frag{SQL: sql, Args: cond.Args}, true, nil
}

// arrayElems is "EXISTS (SELECT 1 FROM <the field's array elements> pe
// WHERE <cond>)": false when the field is not an array. In cond, pe.path
// || ... name the element; elemJSON gives its JSON text.
func arrayElems(t sqlkit.Target, cond sqlkit.Frag) sqlkit.Frag {
	p := pathLit(t.Segs)
	return sqlkit.Frag{
		SQL:  `(json_type("data", ` + p + `) = 'array' AND EXISTS (SELECT 1 FROM json_each("data", ` + p + `) pe WHERE ` + cond.SQL + "))",
		Args: cond.Args,
	}
}

// elemJSON is the JSON text of the current array element of arrayElems.
const elemJSON = `("data" -> pe.fullkey)`

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
		f = sqlkit.Frag{
			SQL:  "(" + extract(t.Segs, "className") + " = ? AND " + extract(t.Segs, "objectId") + " IN (" + inner.SQL + "))",
			Args: slices.Concat([]any{c.Class}, inner.Args),
		}
		if !c.NotArray {
			el := arrayElems(t, sqlkit.Frag{
				SQL:  "json_extract(" + elemJSON + ", '$.className') = ? AND json_extract(" + elemJSON + ", '$.objectId') IN (" + inner.SQL + ")",
				Args: slices.Concat([]any{c.Class}, inner.Args),
			})
			f = sqlkit.Join("OR", []sqlkit.Frag{f, el})
		}
	}
	if c.Not {
		return sqlkit.NotInSubquery(t, present, f, inner, ok), nil
	}
	return f, nil
}

// columnJSON is a column's value as the JSON a data field would hold.
func columnJSON(col string) string {
	if col == "objectId" {
		return `json_quote("objectId")`
	}
	return `json_object('__type', 'Date', 'iso', substr(` + quoteIdent(col) + `, 1, 23) || 'Z')`
}

// selectCond compares canonical JSON texts (parsego_canon), as jsonb
// compares values.
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
	notNull := sqlkit.True
	if k.Column != "" {
		kx = columnJSON(k.Column)
	} else {
		kx = rawJSON(k.Segs)
		notNull = present(k)
	}
	inner, ok, err := b.innerSelect("parsego_canon("+kx+")", c.Class, c.Where, c.ReadPerm, notNull)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	f := sqlkit.False
	if ok {
		if t.Column != "" {
			f = sqlkit.Frag{SQL: "(parsego_canon(" + columnJSON(t.Column) + ") IN (" + inner.SQL + "))", Args: inner.Args}
		} else {
			f = sqlkit.Frag{SQL: "(parsego_canon(" + rawJSON(t.Segs) + ") IN (" + inner.SQL + "))", Args: inner.Args}
			if !c.NotArray {
				el := arrayElems(t, sqlkit.Frag{SQL: "parsego_canon(" + elemJSON + ") IN (" + inner.SQL + ")", Args: inner.Args})
				f = sqlkit.Join("OR", []sqlkit.Frag{f, el})
			}
		}
	}
	if c.Not {
		return sqlkit.NotInSubquery(t, present, f, inner, ok), nil
	}
	return f, nil
}

func containedBy(c storage.ContainedBy) (sqlkit.Frag, error) {
	t, err := sqlkit.ResolveField(c.Field)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	vals, err := jsonValues(c.Values)
	if err != nil {
		return sqlkit.Frag{}, err
	}
	if t.Column != "" {
		return sqlkit.True, nil // never an array
	}
	return sqlkit.Frag{SQL: "parsego_contained(" + rawJSON(t.Segs) + ", ?)", Args: []any{vals}}, nil
}

func (b *condBuilder) relationHas(c storage.RelationHas) (sqlkit.Frag, error) {
	r := c.Relation
	r.OwningID = "x" // unused by RelationHas
	if err := checkRelation(r); err != nil {
		return sqlkit.Frag{}, err
	}
	jt := quoteIdent(sqlkit.JoinName(r.Field, r.OwningClass))
	f := sqlkit.False
	switch {
	case b.missing[sqlkit.JoinName(r.Field, r.OwningClass)]:
	case c.Related != nil:
		inner, ok, err := b.innerSelect(`"objectId"`, c.Related.Class, c.Related.Where, c.Related.ReadPerm)
		if err != nil {
			return sqlkit.Frag{}, err
		}
		if ok {
			f = sqlkit.Frag{
				SQL:  `"objectId" IN (SELECT "owningId" FROM ` + jt + ` WHERE "relatedId" IN (` + inner.SQL + `))`,
				Args: inner.Args,
			}
		}
	case len(c.RelatedIDs) > 0:
		f = sqlkit.Frag{
			SQL:  `"objectId" IN (SELECT "owningId" FROM ` + jt + ` WHERE "relatedId" IN (SELECT value FROM json_each(?)))`,
			Args: []any{jsonList(c.RelatedIDs)},
		}
	}
	if c.Not {
		return sqlkit.Not(f), nil
	}
	return f, nil
}
