package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"redress/models"
)

// AuditHook lets a request's audit entry be written inside the transaction that stores what
// the request did, instead of in a commit of its own after it: a rating then costs one commit,
// not two (BENCHMARKS.md, point 1), and the entry and the data it speaks of stand or fall
// together. The HTTP layer puts a hook in the request's context; a service that writes with
// WriteAudit marks it written, and the HTTP layer writes the entry itself otherwise.
type AuditHook struct {
	// Entry builds the entry for a request answered with status.
	Entry   func(status int) models.AuditEntry
	written bool
}

// Written reports whether the entry went out with a service's transaction.
func (h *AuditHook) Written() bool { return h != nil && h.written }

type auditHookKey struct{}

// WithAuditHook returns ctx carrying h.
func WithAuditHook(ctx context.Context, h *AuditHook) context.Context {
	return context.WithValue(ctx, auditHookKey{}, h)
}

// WriteAudit writes the request's audit entry for status in tx, when ctx carries a hook; the
// hook counts as written once tx commits (callers call it as the transaction's last step and
// MarkAuditWritten after the commit).
func WriteAudit(ctx context.Context, tx *gorm.DB, status int) error {
	h, _ := ctx.Value(auditHookKey{}).(*AuditHook)
	if h == nil || h.Entry == nil {
		return nil
	}
	e := h.Entry(status)
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("audit entry: %w", err)
	}
	return nil
}

// MarkAuditWritten records that the transaction holding WriteAudit's entry committed.
func MarkAuditWritten(ctx context.Context) {
	if h, _ := ctx.Value(auditHookKey{}).(*AuditHook); h != nil && h.Entry != nil {
		h.written = true
	}
}
