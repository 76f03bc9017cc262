package sqlkit

import "strings"

// Frag is a piece of SQL with "?" placeholders and their arguments; the
// root statement's builder numbers them where the dialect wants numbers.
type Frag struct {
	SQL  string
	Args []any
}

// ToSql makes a Frag a squirrel.Sqlizer.
func (f Frag) ToSql() (string, []any, error) { return f.SQL, f.Args, nil }

var (
	True  = Frag{SQL: "TRUE"}
	False = Frag{SQL: "FALSE"}
)

// Not negates f. Conditions are built so that in a positive context an SQL
// NULL (a missing field) acts as false and index conditions stay sargable;
// under NOT the NULL must become false first, or Ne and Nor would not match
// objects lacking the field.
func Not(f Frag) Frag {
	switch f.SQL {
	case "TRUE":
		return False
	case "FALSE":
		return True
	}
	return Frag{SQL: "NOT COALESCE(" + f.SQL + ", FALSE)", Args: f.Args}
}

// Join combines conditions with AND or OR, simplifying constants.
func Join(op string, parts []Frag) Frag {
	absorbing, neutral := False, True // AND
	if op == "OR" {
		absorbing, neutral = True, False
	}
	var keep []Frag
	for _, p := range parts {
		switch p.SQL {
		case absorbing.SQL:
			return absorbing
		case neutral.SQL:
			continue
		}
		keep = append(keep, p)
	}
	switch len(keep) {
	case 0:
		return neutral
	case 1:
		return keep[0]
	}
	var b strings.Builder
	var args []any
	b.WriteByte('(')
	for i, p := range keep {
		if i > 0 {
			b.WriteString(" " + op + " ")
		}
		b.WriteString(p.SQL)
		args = append(args, p.Args...)
	}
	b.WriteByte(')')
	return Frag{SQL: b.String(), Args: args}
}

// NotInSubquery is the negation of an InQuery or Select condition f on t
// with Parse's rules on PostgreSQL (a $nin of the inner results): objects
// whose field is present and not null (present, the adapter's test) and f
// does not hold, or every object when the inner query matches nothing (an
// empty $nin). ok false says the inner query can match nothing.
func NotInSubquery(t Target, present func(Target) Frag, f, inner Frag, ok bool) Frag {
	if !ok {
		return True
	}
	has := True
	if t.Column == "" {
		has = present(t)
	}
	return Join("OR", []Frag{
		{SQL: "NOT EXISTS (" + inner.SQL + ")", Args: inner.Args},
		Join("AND", []Frag{has, Not(f)}),
	})
}
