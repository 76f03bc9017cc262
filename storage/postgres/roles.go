package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

var _ storage.RoleResolver = (*Store)(nil)

// UserRoles walks the role hierarchy in one statement: a recursive query
// over _Role's users and roles join tables, from the roles the user is a
// member of up through every role that holds them as a child. UNION (not
// UNION ALL) stops at roles already reached, so cycles end.
func (s *Store) UserRoles(ctx context.Context, userID string) ([]string, error) {
	defer s.lock()()
	const role = "_Role"
	sql := `WITH RECURSIVE r(id) AS (` +
		`SELECT "owningId" FROM ` + s.table(sqlkit.JoinName("users", role)) + ` WHERE "relatedId" = $1 ` +
		`UNION SELECT j."owningId" FROM ` + s.table(sqlkit.JoinName("roles", role)) + ` j JOIN r ON j."relatedId" = r.id) ` +
		`SELECT o."data" ->> 'name' FROM ` + s.table(role) + ` o JOIN r ON o."objectId" = r.id ` +
		`WHERE o."data" ->> 'name' IS NOT NULL`
	if s.tx != nil {
		missing, err := s.missingTables(ctx, []string{role, sqlkit.JoinName("users", role), sqlkit.JoinName("roles", role)})
		if err != nil {
			return nil, err
		}
		if len(missing) > 0 {
			return nil, nil
		}
	}
	rows, err := s.q.Query(ctx, sql, userID)
	var names []string
	if err == nil {
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if isUndefinedTable(err) {
		return nil, nil // no role was ever stored
	}
	if err != nil {
		return nil, s.wrap("resolve roles", err)
	}
	slices.Sort(names)
	return names, nil
}
