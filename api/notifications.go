package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/apperr"
	"redress/models"
	"redress/notify"
	"redress/scheme"
	"redress/store"
)

// Notifications: the inbox of delivered messages (staff see the messages to their own roles and
// units; administrators also the evaluators' SMS of their jurisdiction, masked), and the outbox
// with its dead letters and the re-send action for administrators.

func (s *Server) routesNotifications() {
	v1 := s.e.Group("/api/v1")
	v1.GET("/notifications", s.listNotifications)
	v1.POST("/notifications/read", s.markNotificationsRead)
	v1.GET("/notifications/outbox", s.listOutbox)
	v1.POST("/notifications/outbox/:id/resend", s.resendNotification)
}

type inboxJSON struct {
	ID            string    `json:"id"`
	WorkOrderID   string    `json:"work_order_id"`
	Channel       string    `json:"channel"`
	RecipientKind string    `json:"recipient_kind"`
	UnitPath      string    `json:"unit_path,omitempty"`
	Role          string    `json:"role,omitempty"`
	Address       string    `json:"address,omitempty"`
	Template      string    `json:"template"`
	Body          string    `json:"body"`
	ReceivedAt    time.Time `json:"received_at"`
	// Read: the caller has marked the message read (POST /notifications/read).
	Read bool `json:"read"`
}

type inboxListJSON struct {
	Items    []inboxJSON `json:"items"`
	Total    int64       `json:"total"`
	Page     int         `json:"page"`
	PageSize int         `json:"page_size"`
	// Unread counts the caller's unread messages in the whole inbox (not only this page): the
	// header's badge.
	Unread int64 `json:"unread"`
}

// notificationRead records that a staff member read an inbox message (the notification centre).
type notificationRead struct {
	Login     string `gorm:"primaryKey"`
	MessageID string `gorm:"primaryKey"`
	ReadAt    time.Time
}

func (notificationRead) TableName() string { return "notification_reads" }

// unreadBy keeps the messages login has not read.
func unreadBy(q *gorm.DB, login string) *gorm.DB {
	return q.Where("NOT EXISTS (SELECT 1 FROM notification_reads r WHERE r.message_id = notification_inbox.id AND r.login = ?)", login)
}

// recipientScope restricts a query on a table with unit_path, role and recipient_kind columns
// (and work_order_id) to what the caller may read: staff messages to a role the caller holds,
// on the unit itself (officer, unit leader) or within the subtree (the other roles); and for
// administrators the evaluators' messages of the orders in their subtree.
func recipientScope(q *gorm.DB, table string, grants []store.Grant) *gorm.DB {
	var conds []string
	var args []any
	for _, g := range grants {
		if !has(store.StaffRoles, g.Role) {
			continue
		}
		if scheme.CoversSubtree(g.Role) {
			conds = append(conds, "("+table+".recipient_kind = ? AND "+table+".role = ? AND "+table+`.unit_path LIKE ? ESCAPE '\')`)
			args = append(args, notify.KindStaff, g.Role, likeEscape(g.UnitPath))
		} else {
			conds = append(conds, "("+table+".recipient_kind = ? AND "+table+".role = ? AND "+table+".unit_path = ?)")
			args = append(args, notify.KindStaff, g.Role, g.UnitPath)
		}
		if g.Role == models.RoleAdministrator {
			conds = append(conds, "("+table+".recipient_kind = ? AND "+table+`.work_order_id IN (SELECT id FROM work_orders WHERE unit_path LIKE ? ESCAPE '\'))`)
			args = append(args, notify.KindEvaluator, likeEscape(g.UnitPath))
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

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) listNotifications(c echo.Context) error {
	page, size, err := pageParams(c, 20, 100)
	if err != nil {
		return err
	}
	p := principal(c)
	base := func() *gorm.DB {
		q := s.deps.DB.WithContext(c.Request().Context()).Model(&notify.InboxMessage{})
		q = recipientScope(q, "notification_inbox", p.Grants)
		if id := c.QueryParam("work_order_id"); id != "" {
			q = q.Where("work_order_id = ?", id)
		}
		return q
	}
	unreadOnly := false
	switch c.QueryParam("unread") {
	case "", "false":
	case "true":
		unreadOnly = true
	default:
		return apperr.Invalid("unread", "invalid_unread", "unread must be true or false")
	}
	scoped := base
	if unreadOnly {
		scoped = func() *gorm.DB { return unreadBy(base(), p.User.Login) }
	}
	rows, total, err := store.Page[notify.InboxMessage](scoped, "received_at DESC, id", page, size)
	if err != nil {
		return err
	}
	out := inboxListJSON{Items: make([]inboxJSON, len(rows)), Total: total, Page: page, PageSize: size}
	if err := unreadBy(base(), p.User.Login).Count(&out.Unread).Error; err != nil {
		return err
	}
	ids := make([]string, len(rows))
	for i, m := range rows {
		ids[i] = m.ID
	}
	read := map[string]bool{}
	if len(ids) > 0 {
		var got []string
		if err := s.deps.DB.WithContext(c.Request().Context()).Model(&notificationRead{}).
			Where("login = ? AND message_id IN ?", p.User.Login, ids).Pluck("message_id", &got).Error; err != nil {
			return err
		}
		for _, id := range got {
			read[id] = true
		}
	}
	for i, m := range rows {
		// The local sender stores evaluators' messages masked already.
		out.Items[i] = inboxJSON{ID: m.ID, WorkOrderID: m.WorkOrderID, Channel: m.Channel, RecipientKind: m.RecipientKind,
			UnitPath: m.UnitPath, Role: m.Role, Address: m.Address, Template: m.Template, Body: m.Body, ReceivedAt: m.ReceivedAt,
			Read: read[m.ID]}
	}
	return c.JSON(http.StatusOK, out)
}

// maxMarkRead bounds one mark-read request (ids given, or "all" unread messages at once).
const maxMarkRead = 1000

type markReadRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

// markNotificationsRead marks messages of the caller's inbox read: the ids given, or with
// all=true every unread one (up to maxMarkRead a call; the answer's unread says what is left).
// Ids outside the caller's inbox are ignored, so that nobody learns another inbox's ids.
func (s *Server) markNotificationsRead(c echo.Context) error {
	var req markReadRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if !req.All && len(req.IDs) == 0 {
		return apperr.Invalid("ids", "required", "give ids or all=true")
	}
	if len(req.IDs) > maxMarkRead {
		return apperr.Invalid("ids", "too_many", "at most %d ids", maxMarkRead)
	}
	p := principal(c)
	ctx := c.Request().Context()
	db := s.deps.DB.WithContext(ctx)
	q := unreadBy(recipientScope(db.Model(&notify.InboxMessage{}), "notification_inbox", p.Grants), p.User.Login)
	if !req.All {
		q = q.Where("id IN ?", req.IDs)
	}
	var ids []string
	if err := q.Limit(maxMarkRead).Pluck("id", &ids).Error; err != nil {
		return err
	}
	if len(ids) > 0 {
		now := time.Now().UTC()
		rows := make([]notificationRead, len(ids))
		for i, id := range ids {
			rows[i] = notificationRead{Login: p.User.Login, MessageID: id, ReadAt: now}
		}
		// A concurrent mark of the same message (another tab) is not an error.
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 200).Error; err != nil {
			return fmt.Errorf("mark notifications read: %w", err)
		}
	}
	var unread int64
	if err := unreadBy(recipientScope(db.Model(&notify.InboxMessage{}), "notification_inbox", p.Grants), p.User.Login).Count(&unread).Error; err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"marked": len(ids), "unread": unread})
}

type outboxJSON struct {
	ID            string            `json:"id"`
	WorkOrderID   string            `json:"work_order_id"`
	Channel       string            `json:"channel"`
	RecipientKind string            `json:"recipient_kind"`
	UnitPath      string            `json:"unit_path,omitempty"`
	Role          string            `json:"role,omitempty"`
	Template      string            `json:"template"`
	Params        map[string]string `json:"params"`
	Status        string            `json:"status"`
	Attempts      int               `json:"attempts"`
	NextAttemptAt time.Time         `json:"next_attempt_at"`
	LastError     string            `json:"last_error"`
	CreatedAt     time.Time         `json:"created_at"`
	SentAt        *time.Time        `json:"sent_at"`
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

func (s *Server) listOutbox(c echo.Context) error {
	page, size, err := pageParams(c, 20, 100)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	switch status {
	case "", notify.StatusPending, notify.StatusSent, notify.StatusDead:
	default:
		return apperr.Invalid("status", "invalid_status", "status must be pending, sent or dead")
	}
	base := func() *gorm.DB {
		q := outboxScope(s.deps.DB.WithContext(c.Request().Context()).Model(&notify.Notification{}), principal(c).Grants)
		if status != "" {
			q = q.Where("status = ?", status)
		}
		if id := c.QueryParam("work_order_id"); id != "" {
			q = q.Where("work_order_id = ?", id)
		}
		return q
	}
	rows, total, err := store.Page[notify.Notification](base, "created_at DESC, id", page, size)
	if err != nil {
		return err
	}
	items := make([]outboxJSON, len(rows))
	for i, n := range rows {
		params := map[string]string{}
		for k, v := range n.Params.V {
			if k == "token" && len(v) > 4 {
				v = v[:4] + "****" // a tracking token is the evaluator's credential
			}
			params[k] = v
		}
		items[i] = outboxJSON{ID: n.ID, WorkOrderID: n.WorkOrderID, Channel: n.Channel, RecipientKind: n.RecipientKind,
			UnitPath: n.UnitPath, Role: n.Role, Template: n.Template, Params: params, Status: n.Status, Attempts: n.Attempts,
			NextAttemptAt: n.NextAttemptAt, LastError: n.LastError, CreatedAt: n.CreatedAt, SentAt: n.SentAt}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "total": total, "page": page, "page_size": size})
}

// resendNotification puts a dead notification back in the queue.
func (s *Server) resendNotification(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	var n notify.Notification
	err := outboxScope(s.deps.DB.WithContext(ctx).Model(&notify.Notification{}), principal(c).Grants).
		Where("id = ?", id).Take(&n).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.NotFound("notification")
	}
	if err != nil {
		return err
	}
	if err := notify.Resend(ctx, s.deps.DB, id); err != nil {
		if errors.Is(err, notify.ErrNotDead) {
			return apperr.Conflict("not_dead", "only a dead notification can be sent again")
		}
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"id": id, "status": notify.StatusPending})
}
