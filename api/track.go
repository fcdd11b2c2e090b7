package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"redress/apperr"
	"redress/intake"
	"redress/models"
	"redress/notify"
	"redress/store"
	"redress/workflows"
)

// The evaluator's view of their work order, reached through the tracking link of the feedback
// SMS. It is public (the token is the credential, and only its hash is stored) and shows what
// was found and done, never who did it or anyone's personal data.

func (s *Server) routesTrack() {
	v1 := s.e.Group("/api/v1")
	v1.GET("/track/:token", s.getTrack)
	v1.POST("/track/:token/feedback", s.postTrackFeedback)
}

// tokenRe is the shape of the tokens notify mints (24 random bytes, base64url).
var tokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`)

// trackAppeal is the outcome of an appeal as the evaluator sees it.
type trackAppeal struct {
	Upheld bool `json:"upheld"`
	Partly bool `json:"partly"`
}

type trackStep struct {
	At   time.Time `json:"at"`
	Step string    `json:"step"`
}

type trackJSON struct {
	State       string            `json:"state"`
	Unit        string            `json:"unit"`
	Levels      map[string]string `json:"levels"`
	OpenedAt    time.Time         `json:"opened_at"`
	Disposition string            `json:"disposition"`
	// Verified is the unit's finding: is the complaint true (属实) and reasonable (合理).
	Verified *struct {
		True       bool `json:"true"`
		Reasonable bool `json:"reasonable"`
	} `json:"verified,omitempty"`
	Measures      string `json:"measures,omitempty"`
	Plan          string `json:"plan,omitempty"`
	CommittedDate string `json:"committed_date,omitempty"`
	Explanation   string `json:"explanation,omitempty"`
	// Appeal is the administration's decision on the unit's appeal: upheld means the rating is
	// not adopted in the statistics; partly, that only its staff indicators are not and the
	// order goes on for the rest (what the evaluator's SMS says too).
	Appeal           *trackAppeal `json:"appeal,omitempty"`
	Steps            []trackStep  `json:"steps"`
	FeedbackOpen     bool         `json:"feedback_open"`
	FeedbackDueAt    *time.Time   `json:"feedback_due_at,omitempty"`
	Satisfaction     string       `json:"satisfaction,omitempty"`
	FeedbackReceived *time.Time   `json:"feedback_received_at,omitempty"`
}

// publicSteps maps timeline events to the steps an evaluator sees.
var publicSteps = map[string]string{
	"opened": "opened", "dispatched": "dispatched", "dispatch": "dispatched", "reassign": "dispatched",
	"rule_return": "dispatched", "sign": "signed", "callback": "callback_attempt", "waive_callback": "called_back",
	"dispose": "disposed", "submit_appeal": "disposed", "progress": "progress", "complete": "rectified", "decide_appeal": "appeal_decided",
	"review": "reviewed", "record_feedback": "closed", "evaluator_feedback": "closed",
	"closed_without_feedback": "closed", "reopen": "reopened",
}

// trackToken finds the link of a token; an unknown one is a 404.
func (s *Server) trackToken(ctx context.Context, raw string) (store.TrackingLink, error) {
	if !tokenRe.MatchString(raw) {
		return store.TrackingLink{}, apperr.NotFound("tracking link")
	}
	l, err := s.tracking.Link(ctx, notify.HashToken(raw))
	if errors.Is(err, store.ErrNotFound) {
		return l, apperr.NotFound("tracking link")
	}
	return l, err
}

func (s *Server) trackView(ctx context.Context, l store.TrackingLink) (trackJSON, error) {
	var out trackJSON
	row, evs, err := s.tracking.Order(ctx, l)
	if err != nil {
		return out, err
	}
	out = trackJSON{State: row.State, Unit: row.UnitName, Levels: row.Levels.V, OpenedAt: row.OpenedAt,
		Disposition: row.Disposition, Steps: []trackStep{}}
	if out.Disposition == dispositionAppealDraft {
		out.Disposition = "" // a draft is the unit's internal work, not yet a disposition
	}
	str := func(d map[string]any, k string) string { v, _ := d[k].(string); return v }
	for _, ev := range evs {
		d := ev.Data.V
		if step, ok := publicSteps[ev.Type]; ok {
			out.Steps = append(out.Steps, trackStep{At: ev.At, Step: step})
		}
		switch ev.Type {
		case "dispose", "submit_appeal":
			t, _ := d["true"].(bool)
			r, _ := d["reasonable"].(bool)
			out.Verified = &struct {
				True       bool `json:"true"`
				Reasonable bool `json:"reasonable"`
			}{t, r}
			out.Measures, out.Plan, out.CommittedDate, out.Explanation = str(d, "measures"), str(d, "plan"), str(d, "committed_date"), str(d, "explanation")
		case "complete":
			out.Measures = str(d, "measures")
		case "decide_appeal":
			u, _ := d["upheld"].(bool)
			excluded, recorded := d["rating_excluded"].(bool)
			out.Appeal = &trackAppeal{Upheld: u, Partly: u && recorded && !excluded}
		case "record_feedback", "evaluator_feedback":
			at := ev.At
			out.Satisfaction, out.FeedbackReceived = str(d, "satisfaction"), &at
		case "reopen":
			out.Satisfaction, out.FeedbackReceived = "", nil
		}
	}
	if row.State == models.StateFeedback {
		out.FeedbackOpen = true
		for _, dl := range row.Deadlines.V {
			if dl.Name == "feedback" && dl.MetAt == nil && !dl.Superseded && !dl.DueAt.IsZero() {
				due := dl.DueAt
				out.FeedbackDueAt = &due
			}
		}
	}
	return out, nil
}

func (s *Server) getTrack(c echo.Context) error {
	ctx := c.Request().Context()
	// The SMS link opens in a phone's browser: a browser asking for HTML is sent to the
	// tracking page, which reads this same endpoint as JSON.
	if accept := c.Request().Header.Get(echo.HeaderAccept); strings.Contains(accept, "text/html") && s.deps.Web != nil {
		return c.Redirect(http.StatusFound, "/#/track/"+url.PathEscape(c.Param("token")))
	}
	tt, err := s.trackToken(ctx, c.Param("token"))
	if err != nil {
		return err
	}
	v, err := s.trackView(ctx, tt)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, v)
}

type trackFeedbackBody struct {
	Satisfaction string `json:"satisfaction"`
	Comment      string `json:"comment"`
}

// postTrackFeedback records the evaluator's satisfaction through the workflow. The update id is
// derived from the token, so a repeated post (a double tap, a retry) is applied once and
// answers the same.
func (s *Server) postTrackFeedback(c echo.Context) error {
	ctx := c.Request().Context()
	tt, err := s.trackToken(ctx, c.Param("token"))
	if err != nil {
		return err
	}
	var body trackFeedbackBody
	if err := decode(c, &body); err != nil {
		return err
	}
	// Refused here before it reaches the workflow's history (the validator refuses it too).
	if utf8.RuneCountInString(body.Comment) > workflows.MaxFeedbackLength {
		return apperr.Invalid("comment", "too_long", "comment is longer than %d characters", workflows.MaxFeedbackLength)
	}
	// Only the newest link of an order takes feedback: after a reopening the evaluator is sent
	// a new one for the new outcome.
	newest, err := s.tracking.Newest(ctx, tt)
	if err != nil {
		return err
	}
	if !newest {
		return apperr.Conflict("link_superseded", "this link is for an earlier outcome; use the newest link you were sent")
	}
	uctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := s.deps.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID:   intake.WorkflowID(tt.WorkOrderID),
		UpdateID:     "track:" + tt.TokenHash,
		UpdateName:   workflows.FeedbackUpdate,
		Args:         []any{workflows.EvaluatorFeedback{Satisfaction: body.Satisfaction, Comment: body.Comment}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var res workflows.ActionResult
		err = h.Get(uctx, &res)
	}
	if err != nil {
		return actionError(c, err)
	}
	v, err := s.trackView(ctx, tt)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// routesChain registers the routes of the bad-review chain's outside world: the evaluator's
// tracking link and the notifications.
func (s *Server) routesChain() {
	s.routesTrack()
	s.routesNotifications()
}
