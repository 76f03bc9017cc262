package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parsego/parse/storage/internal/sqlkit"
)

// migrationFiles are the schema versions, named <version>_<what>.sql. They
// are templates: {{ns}} stands for the quoted namespace and {{ns_literal}}
// for its name as a string literal. A released file is never edited; a
// change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("postgres: migration file %q is not named <version>_<name>.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			// Only one of them would ever be applied.
			return nil, fmt.Errorf("postgres: migrations %q and %q share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// migrate creates the namespace and applies the migrations it lacks, each in
// a transaction holding an advisory lock on the namespace, so that processes
// starting together apply each version once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	lockKey := "parsego_migrate:" + s.ns

	// Bootstrap: the namespace and the version table. Existence is checked
	// first because CREATE SCHEMA IF NOT EXISTS still requires the CREATE
	// privilege on the database.
	var applied []int
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, lockKey); err != nil {
			return err
		}
		var hasNS, hasTable bool
		err := tx.QueryRow(ctx, `SELECT to_regnamespace($1) IS NOT NULL, to_regclass(format('%I._parsego_migrations', $1::text)) IS NOT NULL`, s.ns).
			Scan(&hasNS, &hasTable)
		if err != nil {
			return err
		}
		if !hasNS {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+s.nsq); err != nil {
				return err
			}
		}
		if !hasTable {
			if _, err := tx.Exec(ctx, "CREATE TABLE "+s.nsq+`."_parsego_migrations" (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT version FROM `+s.nsq+`."_parsego_migrations"`)
		if err != nil {
			return err
		}
		applied, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate %s: %w", s.ns, err)
	}

	for _, m := range ms {
		if slices.Contains(applied, m.version) {
			continue
		}
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, lockKey); err != nil {
				return err
			}
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+s.nsq+`."_parsego_migrations" WHERE version = $1)`, m.version).Scan(&done); err != nil || done {
				return err // another process applied it meanwhile
			}
			// No arguments: pgx sends the file with the simple protocol,
			// which runs several statements.
			if _, err := tx.Exec(ctx, s.expand(m.sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO `+s.nsq+`."_parsego_migrations" (version, applied_at) VALUES ($1, now())`, m.version)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s on %s: %w", m.name, s.ns, err)
		}
	}
	return nil
}

// expand fills a migration template in.
func (s *Store) expand(sql string) string {
	return strings.NewReplacer("{{ns}}", s.nsq, "{{ns_literal}}", sqlkit.QuoteLiteral(s.ns)).Replace(sql)
}
