package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"redress/codes"
	"redress/migrations"
	"redress/models"
	"redress/stats"
	"redress/store"
)

// OutcomeEvents are the timeline events pushed upstream as a work order's outcome.
var OutcomeEvents = []string{"dispatched", "callback", "dispose", "decide_appeal", "review", "record_feedback",
	"closed_without_feedback", "reopen", "deadline_breached", "supervision"}

// Feeder enqueues a message for every rating and every work-order outcome since its mark.
type Feeder struct {
	DB *store.DB
	// Lag is the safety window re-read before the mark (default 10 minutes): a transaction
	// that committed a little late is still seen; enqueueing is idempotent.
	Lag time.Duration
	Now func() time.Time
}

const feedMark = "upstream_feed"

// RatingPayload is a rating as the provincial/national platform receives it: levels in GB/T
// 39046 codes (非常满意 1 … 非常不满意 5), the channel in the provincial code, no personal data.
type RatingPayload struct {
	Type         string         `json:"type"` // "rating"
	MessageID    string         `json:"message_id"`
	EvaluationID string         `json:"evaluation_id"`
	CaseNos      []string       `json:"case_nos"`
	Units        []string       `json:"units"`
	ItemCodes    []string       `json:"item_codes"`
	Channel      int            `json:"channel"`
	Level        int            `json:"level"`
	Levels       map[string]int `json:"levels"`
	Bad          bool           `json:"bad"`
	RatedAt      time.Time      `json:"rated_at"`
}

// OutcomePayload is one step of a work order's handling.
type OutcomePayload struct {
	Type             string         `json:"type"` // "order_outcome"
	MessageID        string         `json:"message_id"`
	WorkOrderID      string         `json:"work_order_id"`
	EvaluationID     string         `json:"evaluation_id"`
	Event            string         `json:"event"`
	At               time.Time      `json:"at"`
	Unit             string         `json:"unit"`
	Level            int            `json:"level"`
	Disposition      string         `json:"disposition,omitempty"`
	Reached          *bool          `json:"reached,omitempty"`
	Upheld           *bool          `json:"upheld,omitempty"`
	Approved         *bool          `json:"approved,omitempty"`
	Satisfaction     string         `json:"satisfaction,omitempty"`
	SupervisionLevel int            `json:"supervision_level"`
	OverdueDays      int            `json:"overdue_days"`
	Extra            map[string]any `json:"extra,omitempty"`
}

func (f *Feeder) now() time.Time {
	if f.Now != nil {
		return f.Now().UTC()
	}
	return time.Now().UTC()
}

// Run feeds every period until ctx ends.
func (f *Feeder) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := f.Pass(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("upstream feed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass enqueues what is new since the mark and answers how many messages it queued.
func (f *Feeder) Pass(ctx context.Context) (int, error) {
	now := f.now()
	mark, err := stats.LoadMark(ctx, f.DB, feedMark)
	if err != nil {
		return 0, err
	}
	lag := f.Lag
	if lag <= 0 {
		lag = 10 * time.Minute
	}
	since := mark.Add(-lag)
	n1, err := f.ratings(ctx, since)
	if err != nil {
		return 0, err
	}
	n2, err := f.outcomes(ctx, since)
	if err != nil {
		return 0, err
	}
	if err := stats.SaveMark(ctx, f.DB, feedMark, now); err != nil {
		return 0, err
	}
	return n1 + n2, nil
}

const page = 500

// Both feeds read the window since the mark page by page: each page starts after the last row
// of the one before (keyset, not OFFSET, which re-reads every earlier page), and leaves out
// what an earlier pass already queued, so the safety window costs an index probe a row, not
// a payload and an insert.

func (f *Feeder) ratings(ctx context.Context, since time.Time) (int, error) {
	seen := 0
	var last models.Evaluation
	for {
		var evs []models.Evaluation
		q := f.DB.WithContext(ctx).Select("id, evaluation_id, channel, overall, levels, bad, rated_at, received_at").
			Where("received_at >= ?", since).
			Where("NOT EXISTS (SELECT 1 FROM upstream_messages m WHERE m.id = 'rating:' || evaluations.evaluation_id)")
		if last.ID != "" {
			q = q.Where("received_at >= ? AND (received_at > ? OR id > ?)", last.ReceivedAt, last.ReceivedAt, last.ID)
		}
		if err := q.Order("received_at, id").Limit(page).Find(&evs).Error; err != nil {
			return seen, fmt.Errorf("upstream feed: ratings: %w", err)
		}
		if len(evs) == 0 {
			return seen, nil
		}
		seen += len(evs)
		last = evs[len(evs)-1]
		ids := make([]string, len(evs))
		for i, e := range evs {
			ids[i] = e.ID
		}
		cases, err := f.casesOf(ctx, ids)
		if err != nil {
			return seen, fmt.Errorf("upstream feed: cases: %w", err)
		}
		type caseInfo struct {
			nos, units, items []string
			path              string
		}
		info := map[string]*caseInfo{}
		for _, c := range cases {
			ci := info[c.EvaluationID]
			if ci == nil {
				ci = &caseInfo{path: c.UnitPath}
				info[c.EvaluationID] = ci
			}
			ci.nos = append(ci.nos, c.CaseNo)
			ci.units = appendNew(ci.units, c.UnitCode)
			ci.items = appendNew(ci.items, c.ItemCode)
		}
		msgs := make([]Message, 0, len(evs))
		for _, e := range evs {
			ci := info[e.ID]
			if ci == nil {
				ci = &caseInfo{}
			}
			p, err := ratingPayload(e, ci.nos, ci.units, ci.items)
			if err != nil {
				// A value the national codes do not know cannot be sent: park it dead
				// with the reason, visible in the dead-letter view, rather than drop it.
				slog.Warn("upstream feed: rating not codable", "evaluation", e.EvaluationID, "err", err)
			}
			body, _ := json.Marshal(p)
			m := Message{ID: p.MessageID, Target: TargetUpstream, Kind: "rating", SubjectID: e.EvaluationID,
				UnitPath: ci.path, Payload: string(body)}
			if err != nil {
				m.Status, m.LastError = StatusDead, err.Error()
			}
			msgs = append(msgs, m)
		}
		if err := EnqueueAll(f.DB.WithContext(ctx), msgs); err != nil {
			return seen, fmt.Errorf("upstream feed: %w", err)
		}
	}
}

type ratedCase struct {
	EvaluationID, CaseNo, ItemCode, UnitCode, UnitPath string
}

// casesQueryPG looks the cases up rating by rating: an index probe of the case links and of
// the cases for each. The plain join with an IN list leaves the plan to the statistics, and on
// tables not yet analysed (a new database, autovacuum not yet round) PostgreSQL chose a hash
// join over every service case, every page. OFFSET 0 keeps the subquery from being flattened
// back into such a join.
const casesQueryPG = `SELECT x.id, c.case_no, c.item_code, c.unit_code, c.unit_path
	FROM unnest($1::text[]) AS x(id)
	CROSS JOIN LATERAL (SELECT ec.case_no, sc.item_code, u.code AS unit_code, u.path AS unit_path
		FROM evaluation_cases ec JOIN service_cases sc ON sc.case_no = ec.case_no JOIN units u ON u.id = sc.unit_id
		WHERE ec.evaluation_id = x.id OFFSET 0) c
	ORDER BY c.case_no`

// casesOf answers the cases of the ratings ids, with their item and unit, in case order.
func (f *Feeder) casesOf(ctx context.Context, ids []string) ([]ratedCase, error) {
	var cases []ratedCase
	if f.DB.Dialect != migrations.Postgres {
		err := f.DB.WithContext(ctx).Table("evaluation_cases ec").
			Select("ec.evaluation_id, ec.case_no, sc.item_code, u.code AS unit_code, u.path AS unit_path").
			Joins("JOIN service_cases sc ON sc.case_no = ec.case_no").Joins("JOIN units u ON u.id = sc.unit_id").
			Where("ec.evaluation_id IN ?", ids).Order("ec.case_no").Scan(&cases).Error
		return cases, err
	}
	// Beside GORM, which would expand the array into a list of parameters.
	rs, err := f.DB.SQL().QueryContext(ctx, casesQueryPG, ids)
	if err != nil {
		return nil, err
	}
	defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	for rs.Next() {
		var c ratedCase
		if err := rs.Scan(&c.EvaluationID, &c.CaseNo, &c.ItemCode, &c.UnitCode, &c.UnitPath); err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	return cases, rs.Err()
}

func ratingPayload(e models.Evaluation, nos, units, items []string) (RatingPayload, error) {
	p := RatingPayload{Type: "rating", MessageID: "rating:" + e.EvaluationID, EvaluationID: e.EvaluationID,
		CaseNos: nonNil(nos), Units: nonNil(units), ItemCodes: nonNil(items), Bad: e.Bad, RatedAt: e.RatedAt.UTC(), Levels: map[string]int{}}
	var err error
	if p.Channel, err = codes.ChannelToProvincial(e.Channel); err != nil {
		return p, fmt.Errorf("channel %q: %w", e.Channel, err)
	}
	if p.Level, err = codes.LevelToGB(e.Overall); err != nil {
		return p, fmt.Errorf("level %q: %w", e.Overall, err)
	}
	keys := make([]string, 0, len(e.Levels.V))
	for k := range e.Levels.V {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c, err := codes.LevelToGB(e.Levels.V[k])
		if err != nil {
			return p, fmt.Errorf("level %s=%q: %w", k, e.Levels.V[k], err)
		}
		p.Levels[k] = c
	}
	return p, nil
}

func (f *Feeder) outcomes(ctx context.Context, since time.Time) (int, error) {
	seen := 0
	var lastAt time.Time
	var lastID string
	for {
		var rows []struct {
			ID               string
			WorkOrderID      string
			Type             string
			At               time.Time
			Data             models.JSON[map[string]any]
			EvaluationID     string
			Overall          string
			UnitPath         string
			UnitCode         string
			SupervisionLevel int
			OverdueDays      int
		}
		q := f.DB.WithContext(ctx).Table("timeline_events te").
			Select("te.id, te.work_order_id, te.type, te.at, te.data, e.evaluation_id, w.overall, w.unit_path, COALESCE(u.code, '') AS unit_code, w.supervision_level, w.overdue_days").
			Joins("JOIN work_orders w ON w.id = te.work_order_id").
			Joins("JOIN evaluations e ON e.id = w.evaluation_id").
			Joins("LEFT JOIN units u ON u.path = w.unit_path").
			Where("te.at >= ? AND te.type IN ? AND NOT te.superseded", since, OutcomeEvents).
			Where("NOT EXISTS (SELECT 1 FROM upstream_messages m WHERE m.id = 'outcome:' || te.id)")
		if lastID != "" {
			q = q.Where("te.at >= ? AND (te.at > ? OR te.id > ?)", lastAt, lastAt, lastID)
		}
		if err := q.Order("te.at, te.id").Limit(page).Scan(&rows).Error; err != nil {
			return seen, fmt.Errorf("upstream feed: outcomes: %w", err)
		}
		if len(rows) == 0 {
			return seen, nil
		}
		seen += len(rows)
		lastAt, lastID = rows[len(rows)-1].At, rows[len(rows)-1].ID
		msgs := make([]Message, 0, len(rows))
		for _, r := range rows {
			p := OutcomePayload{Type: "order_outcome", MessageID: "outcome:" + r.ID, WorkOrderID: r.WorkOrderID,
				EvaluationID: r.EvaluationID, Event: r.Type, At: r.At.UTC(), Unit: r.UnitCode,
				SupervisionLevel: r.SupervisionLevel, OverdueDays: r.OverdueDays}
			d := r.Data.V
			p.Disposition, _ = d["disposition"].(string)
			p.Satisfaction, _ = d["satisfaction"].(string)
			p.Reached, p.Upheld, p.Approved = boolOf(d, "reached"), boolOf(d, "upheld"), boolOf(d, "approve")
			lvl, lerr := codes.LevelToGB(r.Overall)
			p.Level = lvl
			body, _ := json.Marshal(p)
			m := Message{ID: p.MessageID, Target: TargetUpstream, Kind: "order_outcome", SubjectID: r.WorkOrderID,
				UnitPath: r.UnitPath, Payload: string(body)}
			if lerr != nil {
				m.Status, m.LastError = StatusDead, "level: "+lerr.Error()
			}
			msgs = append(msgs, m)
		}
		if err := EnqueueAll(f.DB.WithContext(ctx), msgs); err != nil {
			return seen, fmt.Errorf("upstream feed: %w", err)
		}
	}
}

func boolOf(d map[string]any, k string) *bool {
	if b, ok := d[k].(bool); ok {
		return &b
	}
	return nil
}

func appendNew(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
