package store

import (
	"context"

	"redress/models"
)

// AuditHook lets a request's audit entry be written inside the transaction that stores what
// the request did, instead of in a commit of its own after it: a rating then costs one commit,
// not two (BENCHMARKS.md, point 1), and the entry and the data it speaks of stand or fall
// together. The HTTP layer puts a hook in the request's context; a service that stores the
// entry of AuditEntryFor marks it written, and the HTTP layer writes the entry itself otherwise.
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

// AuditEntryFor builds the request's audit entry for status, when ctx carries a hook, for the
// caller to store with its own rows; it counts as written once MarkAuditWritten says they
// were stored.
func AuditEntryFor(ctx context.Context, status int) (models.AuditEntry, bool) {
	h, _ := ctx.Value(auditHookKey{}).(*AuditHook)
	if h == nil || h.Entry == nil || h.written {
		return models.AuditEntry{}, false
	}
	return h.Entry(status), true
}

// MarkAuditWritten records that AuditEntryFor's entry was stored.
func MarkAuditWritten(ctx context.Context) {
	if h, _ := ctx.Value(auditHookKey{}).(*AuditHook); h != nil && h.Entry != nil {
		h.written = true
	}
}
