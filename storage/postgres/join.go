package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parsego/parse/storage"
	"github.com/parsego/parse/storage/internal/sqlkit"
)

var _ storage.Joiner = (*Store)(nil)

// FindJoined reads an object by a string field and the target of one of
// its Pointer fields with one statement: a LEFT JOIN of the target's
// table on the pointer's objectId. The field is compared as
// "data" ->> 'field', the expression of a Unique index on it, so the
// lookup of a session token is an index probe.
func (s *Store) FindJoined(ctx context.Context, l storage.JoinLookup) (storage.Object, *storage.Object, error) {
	defer s.lock()()
	for _, c := range [...]string{l.Class, l.TargetClass} {
		if err := checkClass(c); err != nil {
			return storage.Object{}, nil, err
		}
	}
	if !sqlkit.ValidIdent(l.Field) || !sqlkit.ValidIdent(l.Pointer) {
		return storage.Object{}, nil, fmt.Errorf("postgres: invalid join field %q or %q: %w", l.Field, l.Pointer, storage.ErrInvalidQuery)
	}
	notFound := fmt.Errorf("postgres: find %s by %s: %w", l.Class, l.Field, storage.ErrNotFound)
	tables := []string{l.Class, l.TargetClass}
	if s.tx != nil {
		// In a transaction a missing table would abort it: check first.
		missing, err := s.missingTables(ctx, tables)
		if err != nil {
			return storage.Object{}, nil, err
		}
		if missing[l.Class] || missing[l.TargetClass] {
			return storage.Object{}, nil, notFound
		}
	}
	sql := `SELECT o."objectId", o."createdAt", o."updatedAt", o."_rperm", o."_wperm", o."data", ` +
		`t."objectId", t."createdAt", t."updatedAt", t."_rperm", t."_wperm", t."data" ` +
		`FROM ` + s.table(l.Class) + ` o LEFT JOIN ` + s.table(l.TargetClass) + ` t ` +
		`ON t."objectId" = o."data" -> ` + sqlkit.QuoteLiteral(l.Pointer) + ` ->> 'objectId' ` +
		`WHERE o."data" ->> ` + sqlkit.QuoteLiteral(l.Field) + ` = $1 LIMIT 1`
	var (
		o, t             storage.Object
		oData, tData     []byte
		tID              *string
		tCreated, tUpdtd *time.Time
	)
	err := s.q.QueryRow(ctx, sql, l.Value).Scan(
		&o.ID, &o.CreatedAt, &o.UpdatedAt, &o.ReadPerm, &o.WritePerm, &oData,
		&tID, &tCreated, &tUpdtd, &t.ReadPerm, &t.WritePerm, &tData)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Object{}, nil, notFound
	}
	if isUndefinedTable(err) {
		s.evict(tables)
		return storage.Object{}, nil, notFound
	}
	if err != nil {
		return storage.Object{}, nil, s.wrap("find "+l.Class+" joined", err)
	}
	o.CreatedAt, o.UpdatedAt, o.Data = o.CreatedAt.UTC(), o.UpdatedAt.UTC(), oData
	if tID == nil {
		return o, nil, nil
	}
	t.ID, t.CreatedAt, t.UpdatedAt, t.Data = *tID, tCreated.UTC(), tUpdtd.UTC(), tData
	return o, &t, nil
}
