package store

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"redress/migrations"
)

// InsertAll inserts rows (pointers to models or to slices of them, parents before children)
// atomically. On PostgreSQL it sends them as one statement, each insert but the last a
// data-modifying WITH query: one round trip and one commit, where a transaction of the same
// inserts costs a round trip each plus BEGIN and COMMIT. Intake writes every rating this way;
// its statements, not the database, were what limited it (BENCHMARKS.md, point 1). A unique
// or foreign-key violation in any part fails the whole statement, as it would the transaction.
// On SQLite (one writer, no network) it is an ordinary transaction.
//
// The SQL of each insert is GORM's own (a dry run of Create), so the columns are the models'.
func InsertAll(ctx context.Context, db *DB, rows ...any) error {
	if len(rows) == 0 {
		return nil
	}
	if db.Dialect != migrations.Postgres {
		return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, r := range rows {
				if err := tx.Create(r).Error; err != nil {
					return err
				}
			}
			return nil
		})
	}
	dry := db.WithContext(ctx).Session(&gorm.Session{DryRun: true, SkipDefaultTransaction: true})
	var (
		sql  strings.Builder
		vars []any
	)
	for i, r := range rows {
		st := dry.Create(r).Statement
		if st.Error != nil {
			return fmt.Errorf("insert all: build %T: %w", r, st.Error)
		}
		part := renumber(st.SQL.String(), len(vars))
		vars = append(vars, st.Vars...)
		switch {
		case len(rows) == 1:
			sql.WriteString(part)
		case i == 0:
			fmt.Fprintf(&sql, "WITH w0 AS (%s)", part)
		case i < len(rows)-1:
			fmt.Fprintf(&sql, ", w%d AS (%s)", i, part)
		default:
			sql.WriteString(" " + part)
		}
	}
	sqlDB, err := db.DB.DB()
	if err != nil {
		return fmt.Errorf("insert all: %w", err)
	}
	// Executed beside GORM (whose Exec would rewrite the numbered placeholders); errors are
	// translated as GORM's would be, so callers see gorm.ErrDuplicatedKey alike.
	if _, err := sqlDB.ExecContext(ctx, sql.String(), vars...); err != nil {
		if t, ok := db.Dialector.(gorm.ErrorTranslator); ok && db.TranslateError {
			return t.Translate(err)
		}
		return err
	}
	return nil
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// renumber shifts PostgreSQL's numbered placeholders ($1, $2, …) of one statement by offset,
// so that statements can be joined into one. GORM's SQL carries values only as placeholders,
// never as literals, so a $ in it is always one.
func renumber(sql string, offset int) string {
	if offset == 0 {
		return sql
	}
	return placeholder.ReplaceAllStringFunc(sql, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		return "$" + strconv.Itoa(n+offset)
	})
}
