package store

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// The inserts of InsertAll on PostgreSQL, built without GORM's dry run where a model allows it:
// one statement text per table whatever the number of rows, each column one array parameter
// (INSERT … SELECT * FROM unnest($1::text[], $2::boolean[], …)). GORM's Create built a new
// text for every row count (each a statement PostgreSQL parsed and planned again, and the
// driver prepared again once its cache of texts was full) and reflected over every field of
// every row through its callbacks; intake's group commit wrote every rating that way
// (BENCHMARKS.md, point 1). The columns and values are those GORM's Create would send: the
// model's fields as GORM's schema lists them, each value as field.ValueOf gives it (the driver
// encodes it, Valuer types included), so the stored rows are the same
// (TestUnnestInsertMatchesGORM compares them column by column).
//
// A model qualifies when GORM's Create would send exactly its fields: no create or save hooks,
// no relations, no default values set by GORM (default:… tags) or creation and update times it
// fills in. Fields with a database default (a serial id) are left to the database when every
// row leaves them zero, as GORM leaves them; otherwise, or for any other model, the insert is
// GORM's own.

// unnestPlan is a model's insert: its columns (GORM's order), the fields that fill them and
// the statement.
type unnestPlan struct {
	fields []*schema.Field
	// dbDefault are the fields the database fills (a serial id): left out, so each row must
	// leave them zero.
	dbDefault []*schema.Field
	sql       string
}

// unnestInsert queues rows' insert on b as one statement when its model qualifies; queued
// false leaves it to GORM.
func unnestInsert(ctx context.Context, db *DB, c *pgx.Conn, b *pgx.Batch, rows any) (queued bool, err error) {
	v := reflect.ValueOf(rows)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false, nil
	}
	v = v.Elem()
	single := v.Kind() == reflect.Struct
	t := v.Type()
	if !single {
		if v.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Struct || v.Len() == 0 {
			return false, nil
		}
		t = t.Elem()
	}
	p, err := planFor(ctx, db, c, t)
	if err != nil || p == nil {
		return false, err
	}
	n := 1
	if !single {
		n = v.Len()
	}
	row := func(i int) reflect.Value {
		if single {
			return v
		}
		return v.Index(i)
	}
	for i := range n {
		for _, f := range p.dbDefault {
			if _, zero := f.ValueOf(ctx, row(i)); !zero {
				return false, nil // GORM would send it: let GORM build this insert
			}
		}
	}
	args := make([]any, len(p.fields))
	for k, f := range p.fields {
		col := make([]any, n)
		for i := range n {
			col[i], _ = f.ValueOf(ctx, row(i))
		}
		args[k] = col
	}
	b.Queue(p.sql, args...)
	return true, nil
}

// planFor is t's plan, built once per DB (its one pool): GORM's schema of t and the columns'
// types as PostgreSQL has them (for the arrays' casts). A nil plan says the model does not
// qualify.
func planFor(ctx context.Context, db *DB, c *pgx.Conn, t reflect.Type) (*unnestPlan, error) {
	if db.plans != nil {
		if p, ok := db.plans.Load(t); ok {
			return p.(*unnestPlan), nil
		}
	}
	p, err := buildPlan(ctx, db, c, t)
	if err != nil {
		return nil, err
	}
	if db.plans != nil {
		db.plans.Store(t, p)
	}
	return p, nil
}

func buildPlan(ctx context.Context, db *DB, c *pgx.Conn, t reflect.Type) (*unnestPlan, error) {
	stmt := &gorm.Statement{DB: db.DB}
	if err := stmt.Parse(reflect.New(t).Interface()); err != nil {
		return nil, fmt.Errorf("insert all: schema of %s: %w", t, err)
	}
	s := stmt.Schema
	if s.BeforeCreate || s.BeforeSave || s.AfterCreate || s.AfterSave || len(s.Relationships.Relations) > 0 {
		return nil, nil
	}
	p := &unnestPlan{}
	for _, name := range s.DBNames {
		f := s.FieldsByDBName[name]
		switch {
		case f.DefaultValueInterface != nil || f.AutoCreateTime > 0 || f.AutoUpdateTime > 0 || !f.Creatable:
			return nil, nil
		case f.HasDefaultValue:
			p.dbDefault = append(p.dbDefault, f)
		default:
			p.fields = append(p.fields, f)
		}
	}
	if len(p.fields) == 0 {
		return nil, nil
	}
	types := map[string]string{}
	rows, err := c.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`, s.Table)
	if err != nil {
		return nil, fmt.Errorf("insert all: columns of %s: %w", s.Table, err)
	}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insert all: columns of %s: %w", s.Table, err)
		}
		types[name] = typ
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert all: columns of %s: %w", s.Table, err)
	}
	var cols, params strings.Builder
	for k, f := range p.fields {
		typ, ok := types[f.DBName]
		if !ok || strings.HasSuffix(typ, "]") {
			return nil, nil // not a column of the table (GORM's error is the one to give), or an array
		}
		if k > 0 {
			cols.WriteString(", ")
			params.WriteString(", ")
		}
		cols.WriteString(pgx.Identifier{f.DBName}.Sanitize())
		params.WriteString("$" + strconv.Itoa(k+1) + "::" + typ + "[]")
	}
	p.sql = "INSERT INTO " + pgx.Identifier{s.Table}.Sanitize() + " (" + cols.String() + ") SELECT * FROM unnest(" + params.String() + ")"
	return p, nil
}
