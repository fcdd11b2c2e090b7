package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/notify"
)

// Notifications: the inbox of delivered messages (staff see the messages to their own roles and
// units; administrators also the evaluators' SMS of their jurisdiction, masked), and the outbox
// with its dead letters and the re-send action for administrators. What the caller may see is
// decided in notify.Center; the handlers decode, call and encode.

// notificationsAPI serves the notification centre.
type notificationsAPI struct{ center notify.Center }

func (s *Server) routesNotifications() {
	h := notificationsAPI{center: s.notices}
	v1 := s.e.Group("/api/v1")
	v1.GET("/notifications", h.list)
	v1.POST("/notifications/read", h.markRead)
	v1.GET("/notifications/outbox", h.listOutbox)
	v1.POST("/notifications/outbox/:id/resend", h.resend)
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

func (h notificationsAPI) list(c echo.Context) error {
	page, size, err := pageParams(c, 20, 100)
	if err != nil {
		return err
	}
	unreadOnly := false
	switch c.QueryParam("unread") {
	case "", "false":
	case "true":
		unreadOnly = true
	default:
		return apperr.Invalid("unread", "invalid_unread", "unread must be true or false")
	}
	p := principal(c)
	got, err := h.center.Inbox(c.Request().Context(), p.Grants, p.User.Login,
		notify.InboxQuery{WorkOrderID: c.QueryParam("work_order_id"), UnreadOnly: unreadOnly, Page: page, Size: size})
	if err != nil {
		return err
	}
	out := inboxListJSON{Items: make([]inboxJSON, len(got.Items)), Total: got.Total, Page: page, PageSize: size, Unread: got.Unread}
	for i, m := range got.Items {
		// The local sender stores evaluators' messages masked already.
		out.Items[i] = inboxJSON{ID: m.ID, WorkOrderID: m.WorkOrderID, Channel: m.Channel, RecipientKind: m.RecipientKind,
			UnitPath: m.UnitPath, Role: m.Role, Address: m.Address, Template: m.Template, Body: m.Body, ReceivedAt: m.ReceivedAt,
			Read: m.Read}
	}
	return c.JSON(http.StatusOK, out)
}

// maxMarkRead bounds one mark-read request (ids given, or "all" unread messages at once).
const maxMarkRead = 1000

type markReadRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

// markRead marks messages of the caller's inbox read: the ids given, or with all=true every
// unread one (up to maxMarkRead a call; the answer's unread says what is left). Ids outside the
// caller's inbox are ignored, so that nobody learns another inbox's ids.
func (h notificationsAPI) markRead(c echo.Context) error {
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
	marked, unread, err := h.center.MarkRead(c.Request().Context(), p.Grants, p.User.Login, req.IDs, req.All, maxMarkRead)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"marked": marked, "unread": unread})
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

func (h notificationsAPI) listOutbox(c echo.Context) error {
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
	rows, total, err := h.center.Outbox(c.Request().Context(), principal(c).Grants,
		notify.OutboxQuery{Status: status, WorkOrderID: c.QueryParam("work_order_id"), Page: page, Size: size})
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

// resend puts a dead notification back in the queue.
func (h notificationsAPI) resend(c echo.Context) error {
	id := c.Param("id")
	if err := h.center.Resend(c.Request().Context(), principal(c).Grants, id); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"id": id, "status": notify.StatusPending})
}
