package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/apperr"
	"redress/models"
	"redress/scheme"
	"redress/store"
)

// Center is the notification centre as the API serves it: a staff member's inbox of delivered
// messages, the outbox with its dead letters, and resending. Every method takes the caller's
// grants and reads or writes only what they cover: staff see the messages to their own roles and
// units, administrators also the evaluators' SMS of their jurisdiction (masked) and its outbox,
// a sysadmin every outbox row.
type Center struct{ DB *store.DB }

// readMark records that a staff member read an inbox message.
type readMark struct {
	Login     string `gorm:"primaryKey"`
	MessageID string `gorm:"primaryKey"`
	ReadAt    time.Time
}

func (readMark) TableName() string { return "notification_reads" }

// unreadBy keeps the messages login has not read.
func unreadBy(q *gorm.DB, login string) *gorm.DB {
	return q.Where("NOT EXISTS (SELECT 1 FROM notification_reads r WHERE r.message_id = notification_inbox.id AND r.login = ?)", login)
}

// recipientScope restricts a query on the inbox to what the grants may read: staff messages to
// a role held, on the unit itself (officer, unit leader) or within the subtree (the other
// roles); and for administrators the evaluators' messages of the orders in their subtree.
func recipientScope(q *gorm.DB, grants []store.Grant) *gorm.DB {
	const table = "notification_inbox"
	var conds []string
	var args []any
	for _, g := range grants {
		if !slices.Contains(store.StaffRoles, g.Role) {
			continue
		}
		if scheme.CoversSubtree(g.Role) {
			conds = append(conds, "("+table+".recipient_kind = ? AND "+table+".role = ? AND "+table+`.unit_path LIKE ? ESCAPE '\')`)
			args = append(args, KindStaff, g.Role, likeEscape(g.UnitPath))
		} else {
			conds = append(conds, "("+table+".recipient_kind = ? AND "+table+".role = ? AND "+table+".unit_path = ?)")
			args = append(args, KindStaff, g.Role, g.UnitPath)
		}
		if g.Role == models.RoleAdministrator {
			conds = append(conds, "("+table+".recipient_kind = ? AND "+table+`.work_order_id IN (SELECT id FROM work_orders WHERE unit_path LIKE ? ESCAPE '\'))`)
			args = append(args, KindEvaluator, likeEscape(g.UnitPath))
		}
	}
	if len(conds) == 0 {
		return q.Where("1 = 0")
	}
	return q.Where("("+strings.Join(conds, " OR ")+")", args...)
}

func likeEscape(p string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p) + "%"
}

// InboxQuery selects a page of an inbox.
type InboxQuery struct {
	WorkOrderID string // "": every order
	UnreadOnly  bool
	Page, Size  int
}

// InboxItem is a delivered message and whether the caller has read it.
type InboxItem struct {
	InboxMessage
	Read bool
}

// InboxPage is one page of an inbox; Unread counts the caller's unread messages in the whole
// inbox (the header's badge), not only this page.
type InboxPage struct {
	Items  []InboxItem
	Total  int64
	Unread int64
}

// Inbox answers a page of the messages the grants may read, newest first.
func (c Center) Inbox(ctx context.Context, grants []store.Grant, login string, iq InboxQuery) (InboxPage, error) {
	base := func() *gorm.DB {
		q := recipientScope(c.DB.WithContext(ctx).Model(&InboxMessage{}), grants)
		if iq.WorkOrderID != "" {
			q = q.Where("work_order_id = ?", iq.WorkOrderID)
		}
		return q
	}
	scoped := base
	if iq.UnreadOnly {
		scoped = func() *gorm.DB { return unreadBy(base(), login) }
	}
	rows, total, err := store.Page[InboxMessage](scoped, "received_at DESC, id", iq.Page, iq.Size)
	if err != nil {
		return InboxPage{}, fmt.Errorf("inbox: %w", err)
	}
	out := InboxPage{Items: make([]InboxItem, len(rows)), Total: total}
	if err := unreadBy(base(), login).Count(&out.Unread).Error; err != nil {
		return InboxPage{}, fmt.Errorf("inbox: unread: %w", err)
	}
	ids := make([]string, len(rows))
	for i, m := range rows {
		ids[i] = m.ID
	}
	read := map[string]bool{}
	if len(ids) > 0 {
		var got []string
		if err := c.DB.WithContext(ctx).Model(&readMark{}).
			Where("login = ? AND message_id IN ?", login, ids).Pluck("message_id", &got).Error; err != nil {
			return InboxPage{}, fmt.Errorf("inbox: read marks: %w", err)
		}
		for _, id := range got {
			read[id] = true
		}
	}
	for i, m := range rows {
		out.Items[i] = InboxItem{InboxMessage: m, Read: read[m.ID]}
	}
	return out, nil
}

// MarkRead marks messages of the caller's inbox read: the ids given, or with all every unread
// one, at most limit a call. Ids outside the caller's inbox are ignored, so that nobody learns
// another inbox's ids. It answers how many it marked and how many are left unread.
func (c Center) MarkRead(ctx context.Context, grants []store.Grant, login string, ids []string, all bool, limit int) (int, int64, error) {
	db := c.DB.WithContext(ctx)
	q := unreadBy(recipientScope(db.Model(&InboxMessage{}), grants), login)
	if !all {
		q = q.Where("id IN ?", ids)
	}
	var marked []string
	if err := q.Limit(limit).Pluck("id", &marked).Error; err != nil {
		return 0, 0, fmt.Errorf("mark notifications read: %w", err)
	}
	if len(marked) > 0 {
		now := time.Now().UTC()
		rows := make([]readMark, len(marked))
		for i, id := range marked {
			rows[i] = readMark{Login: login, MessageID: id, ReadAt: now}
		}
		// A concurrent mark of the same message (another tab) is not an error.
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 200).Error; err != nil {
			return 0, 0, fmt.Errorf("mark notifications read: %w", err)
		}
	}
	var unread int64
	if err := unreadBy(recipientScope(db.Model(&InboxMessage{}), grants), login).Count(&unread).Error; err != nil {
		return 0, 0, fmt.Errorf("mark notifications read: unread: %w", err)
	}
	return len(marked), unread, nil
}

// outboxScope: administrators see the outbox of the orders in their subtree; a sysadmin all.
func outboxScope(q *gorm.DB, grants []store.Grant) *gorm.DB {
	var conds []string
	var args []any
	for _, g := range grants {
		switch g.Role {
		case models.RoleSysadmin:
			return q
		case models.RoleAdministrator:
			conds = append(conds, `notifications.work_order_id IN (SELECT id FROM work_orders WHERE unit_path LIKE ? ESCAPE '\')`)
			args = append(args, likeEscape(g.UnitPath))
		}
	}
	if len(conds) == 0 {
		return q.Where("1 = 0")
	}
	return q.Where("("+strings.Join(conds, " OR ")+")", args...)
}

// OutboxQuery selects a page of the outbox.
type OutboxQuery struct {
	Status      string // "": every status
	WorkOrderID string // "": every order
	Page, Size  int
}

// Outbox answers a page of the outbox rows the grants cover, newest first, and their total.
func (c Center) Outbox(ctx context.Context, grants []store.Grant, oq OutboxQuery) ([]Notification, int64, error) {
	base := func() *gorm.DB {
		q := outboxScope(c.DB.WithContext(ctx).Model(&Notification{}), grants)
		if oq.Status != "" {
			q = q.Where("status = ?", oq.Status)
		}
		if oq.WorkOrderID != "" {
			q = q.Where("work_order_id = ?", oq.WorkOrderID)
		}
		return q
	}
	rows, total, err := store.Page[Notification](base, "created_at DESC, id", oq.Page, oq.Size)
	if err != nil {
		return nil, 0, fmt.Errorf("outbox: %w", err)
	}
	return rows, total, nil
}

// Resend puts a dead notification the grants cover back in the queue: not found outside them,
// a conflict (not_dead) unless it is dead.
func (c Center) Resend(ctx context.Context, grants []store.Grant, id string) error {
	var n Notification
	err := outboxScope(c.DB.WithContext(ctx).Model(&Notification{}), grants).Where("id = ?", id).Take(&n).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.NotFound("notification")
	}
	if err != nil {
		return fmt.Errorf("resend %s: %w", id, err)
	}
	if err := Resend(ctx, c.DB, id); err != nil {
		if errors.Is(err, ErrNotDead) {
			return apperr.Conflict("not_dead", "only a dead notification can be sent again")
		}
		return err
	}
	return nil
}
