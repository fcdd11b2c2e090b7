package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/models"
)

// AuditLog reads the audit log in a caller's scope and writes its entries.
type AuditLog struct{ DB *DB }

// AuditFilter narrows the audit log: the time [From, To), the login, the action, the outcome.
type AuditFilter struct {
	From, To               *time.Time
	Login, Action, Outcome string
}

// Record stores one entry.
func (r AuditLog) Record(ctx context.Context, e models.AuditEntry) error {
	if err := r.DB.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("audit entry %s: %w", e.RequestID, err)
	}
	return nil
}

// query is the caller's part of the log, filtered. An auditor sees the entries whose acting
// unit lies in their subtree; entries without a unit (anonymous callers) only an auditor of a
// root unit; a sysadmin sees everything; anyone else nothing.
func (r AuditLog) query(ctx context.Context, c Caller, f AuditFilter) *gorm.DB {
	q := r.DB.WithContext(ctx).Model(&models.AuditEntry{})
	sys, root := false, false
	for _, g := range c.Grants {
		if g.Role == models.RoleSysadmin {
			sys = true
		}
		if g.Role == models.RoleAuditor && strings.Count(g.UnitPath, "/") == 2 {
			root = true
		}
	}
	if !sys {
		scoped := c.Scope(models.RoleAuditor).Apply(r.DB.Session(&gorm.Session{NewDB: true}), "unit_path")
		if root {
			q = q.Where(r.DB.Session(&gorm.Session{NewDB: true}).Where("unit_path = ''").Or(scoped))
		} else {
			q = q.Where(scoped)
		}
	}
	if f.From != nil {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("at < ?", f.To.UTC())
	}
	if f.Login != "" {
		q = q.Where("login = ?", f.Login)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Outcome != "" {
		q = q.Where("outcome = ?", f.Outcome)
	}
	return q
}

// List returns one page of the caller's entries, newest first, and their total.
func (r AuditLog) List(ctx context.Context, c Caller, f AuditFilter, page, size int) ([]models.AuditEntry, int64, error) {
	q := r.query(ctx, c, f)
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count audit log: %w", err)
	}
	var rows []models.AuditEntry
	if err := q.Order("at DESC, id DESC").Offset((page - 1) * size).Limit(size).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("read audit log: %w", err)
	}
	return rows, total, nil
}

// Oldest opens a cursor over the caller's entries, oldest first, read row by row so that a
// large export never sits in memory. Close it.
func (r AuditLog) Oldest(ctx context.Context, c Caller, f AuditFilter) (*AuditCursor, error) {
	rows, err := r.query(ctx, c, f).Order("at, id").Rows()
	if err != nil {
		return nil, fmt.Errorf("export audit log: %w", err)
	}
	return &AuditCursor{db: r.DB, rows: rows}, nil
}

// AuditCursor walks the entries of AuditLog.Oldest.
type AuditCursor struct {
	db   *DB
	rows *sql.Rows
}

// Next advances to the next entry; false at the end or on a failed read (Err).
func (cur *AuditCursor) Next() bool { return cur.rows.Next() }

// Entry reads the current entry.
func (cur *AuditCursor) Entry() (models.AuditEntry, error) {
	var e models.AuditEntry
	if err := cur.db.ScanRows(cur.rows, &e); err != nil {
		return e, fmt.Errorf("export audit log: scan: %w", err)
	}
	return e, nil
}

// Err reports a read that ended the walk early.
func (cur *AuditCursor) Err() error { return cur.rows.Err() }

// Close frees the connection.
func (cur *AuditCursor) Close() error { return cur.rows.Close() }
