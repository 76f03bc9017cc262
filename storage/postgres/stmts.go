package postgres

import (
	"sync"
	"sync/atomic"
)

// stmtCache keeps the SQL text of the hot statements (get by id, insert,
// update by id) by shape, so that squirrel builds each shape once rather
// than on every call: its reflection-based builders cost more CPU than the
// rest of a Get. The text of those statements depends only on the class,
// the namespace and the shape of the call (how many rows, which operators
// on which path lengths, whether an ACL check applies); every value is a
// bind parameter. Classes are few and shapes repeat, so the cache stays
// small; it never needs invalidating, since a dropped and recreated table
// has the same name. Clients choose the shapes of their queries, though:
// past maxStmts entries, new shapes are built every time, not kept.
type stmtCache struct {
	m sync.Map
	n atomic.Int64
}

const maxStmts = 10000

// stmtKey names a cached statement: what it does, on which class, in which
// shape. A struct, so that a lookup builds no string.
type stmtKey struct{ kind, class, shape string }

// get returns the statement cached under key, building it on a miss.
func (c *stmtCache) get(key stmtKey, build func() (string, error)) (string, error) {
	if sql, ok := c.m.Load(key); ok {
		return sql.(string), nil
	}
	sql, err := build()
	if err != nil {
		return "", err
	}
	if c.n.Load() < maxStmts {
		if _, loaded := c.m.LoadOrStore(key, sql); !loaded {
			c.n.Add(1)
		}
	}
	return sql, nil
}

// permShape tells a statement with an ACL check from one without.
func permShape(perms []string) string {
	if perms == nil {
		return "all"
	}
	return "acl"
}
