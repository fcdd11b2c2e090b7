package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"redress/calendar"
	"redress/clock"
	"redress/models"
	"redress/store"
)

// orderDeadlineJSON is a deadline as the API answers it: the stored deadline plus, for a running
// working-day deadline, how many working days are left after today (0 means it ends today), so
// that the UI can show a countdown in working days without its own calendar.
type orderDeadlineJSON struct {
	models.Deadline
	WorkingDaysLeft *int `json:"working_days_left,omitempty"`
}

// MarshalJSON keeps the deadline's own encoding (null for a missing date) and adds the
// countdown; without it the embedded deadline's MarshalJSON would drop working_days_left.
func (d orderDeadlineJSON) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(d.Deadline)
	if err != nil || d.WorkingDaysLeft == nil {
		return b, err
	}
	return append(append(b[:len(b)-1], []byte(`,"working_days_left":`)...), append([]byte(strconv.Itoa(*d.WorkingDaysLeft)), '}')...), nil
}

// calendars is the API's calendar source for the live clock readings (nil-safe).
func (s *Server) calendars() clock.Source {
	if s.deps.Calendars == nil {
		return nil
	}
	return s.deps.Calendars
}

// liveDeadlines reads an order's stored deadlines as of now: each one's overdue days and
// status (clock.Fill), and the order's overdue days (clock.OrderDays) — the one count the
// list, the order page, the export and the board all show.
func (s *Server) liveDeadlines(ctx context.Context, r store.OrderRow, now time.Time) ([]models.Deadline, int) {
	ds := append([]models.Deadline(nil), r.Deadlines.V...)
	clock.Fill(ctx, s.calendars(), r.UnitPath, ds, now)
	return ds, clock.OrderDays(ctx, s.calendars(), r.UnitPath, ds, now)
}

// pendingExtensionJSON is a unit leader's extension request that no one has decided yet.
type pendingExtensionJSON struct {
	Days   any       `json:"days"`
	Reason any       `json:"reason"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
}

// deadlinesJSON adds working_days_left to the running working-day deadlines of an order in
// the unit's calendar. A calendar that cannot answer (a year not imported) leaves the field
// out rather than failing the whole answer: the UI then falls back to natural days.
func (s *Server) deadlinesJSON(ctx context.Context, unitPath string, ds []models.Deadline, now time.Time) []orderDeadlineJSON {
	out := make([]orderDeadlineJSON, len(ds))
	var cal *calendar.Calendar
	for i, d := range ds {
		out[i] = orderDeadlineJSON{Deadline: d}
		if d.MetAt != nil || d.Paused || d.Superseded || d.Unit != string(calendar.WorkingDays) || d.DueAt.IsZero() || !now.Before(d.DueAt) {
			continue
		}
		if cal == nil {
			if s.deps.Calendars == nil {
				return out
			}
			c, err := s.deps.Calendars.Calendar(ctx, unitPath)
			if err != nil {
				slog.WarnContext(ctx, "working days left: calendar", "unit_path", unitPath, "err", err)
				return out
			}
			cal = c
		}
		n, err := cal.WorkingDaysBetween(now, d.DueAt)
		if err != nil {
			continue
		}
		out[i].WorkingDaysLeft = &n
	}
	return out
}

// pendingExtension reads an order's timeline for a request_extension not yet followed by a
// decide_extension (or a state change that ends the rectification), so that administrators see
// what they are asked to decide. Only rectifying orders can have one.
func (s *Server) pendingExtension(ctx context.Context, r store.OrderRow) (*pendingExtensionJSON, error) {
	if r.State != models.StateRectifying {
		return nil, nil
	}
	e, ok, err := s.orders.LastEventOf(ctx, r,
		[]string{"request_extension", "decide_extension", "dispose", "review", "reopen", "decide_appeal"})
	if err != nil {
		return nil, err
	}
	if !ok || e.Type != "request_extension" {
		return nil, nil
	}
	return &pendingExtensionJSON{Days: e.Data.V["days"], Reason: e.Data.V["reason"], At: e.At, Actor: e.Actor}, nil
}
