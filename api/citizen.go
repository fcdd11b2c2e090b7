package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/calendar"
	"redress/intake"
	"redress/models"
	"redress/scheme/indicators"
	"redress/store"
)

// The QR-code rating flow (扫码评价). A receipt printed for a completed service case carries a QR
// code that opens the public rating page #/rate/{token}. The token names the case and is signed,
// so that nobody can rate a case they were not handed a receipt for:
//
//	token = "q1." + base64url(case_no) + "." + base64url(HMAC-SHA256(k, "rate\x00" + case_no)[:16])
//
// k is derived from the deployment's PII hash key (pii.Box.Hash with its own kind), a secret that
// is never rotated because lookups depend on it, so printed receipts stay valid as long as the
// deployment lives; no database row is needed to check a token. Tokens are issued by
// POST /api/v1/service-cases/{case_no}/qr to channel systems only (they print receipts and drive
// the window devices; never to the unit's staff, issue 17), which answers the token and the
// page's path.
//
// GET /api/v1/rate/{token} answers what the page shows — the service item, the unit and the
// completion time, never the applicant — and whether the case was rated already.
// POST /api/v1/rate/{token} stores the rating through the intake (channel qr_code) under the
// evaluation_id "qr:" + case_no, so the same case is rated once through its receipt: a double
// submit (two taps, a retry) is stored once and answered as already rated. The evaluator is the
// case's applicant (the receipt's holder), so that a bad rating can be called back.

const rateTokenPrefix = "q1"

// rateKey derives the QR-token key from the PII hash key.
func (s *Server) rateKey() []byte {
	return []byte(s.deps.PII.Hash("qr_rate_token_key", "v1"))
}

// RateToken signs a case number into a QR rating token.
func (s *Server) RateToken(caseNo string) string {
	return rateToken(s.rateKey(), caseNo)
}

func rateToken(key []byte, caseNo string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("rate\x00" + caseNo))
	enc := base64.RawURLEncoding
	return rateTokenPrefix + "." + enc.EncodeToString([]byte(caseNo)) + "." + enc.EncodeToString(m.Sum(nil)[:16])
}

// caseOfToken checks a token and answers its case number; a bad token reads as not found.
func (s *Server) caseOfToken(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(tok) > 300 || len(parts) != 3 || parts[0] != rateTokenPrefix {
		return "", apperr.NotFound("rating link")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || len(raw) == 0 {
		return "", apperr.NotFound("rating link")
	}
	caseNo := string(raw)
	if !hmac.Equal([]byte(rateToken(s.rateKey(), caseNo)), []byte(tok)) {
		return "", apperr.NotFound("rating link")
	}
	return caseNo, nil
}

// routesCitizenAndExport registers the QR rating flow and the work-order exports.
func (s *Server) routesCitizenAndExport() {
	s.routesCitizen()
	s.routesExport()
}

func (s *Server) routesCitizen() {
	v1 := s.e.Group("/api/v1")
	v1.GET("/rate/:token", s.getRate)
	v1.POST("/rate/:token", s.postRate)
	v1.POST("/service-cases/:case_no/qr", s.postCaseQR)
}

// rateCase is what the rating page may show of a case: no personal data.
type rateCase struct {
	ItemName    string    `json:"item_name"`
	UnitName    string    `json:"unit_name"`
	CompletedAt time.Time `json:"completed_at"`
	Rated       bool      `json:"rated"`
	// WindowClosesAt is when the rating window ends (24:00 of its last day, Asia/Shanghai);
	// absent when it cannot be computed yet (the calendar year is not imported: the rating is
	// then accepted, never suppressed). WindowOpen says whether a rating is still accepted, so
	// that the page explains a closed window before the citizen types anything.
	WindowClosesAt *time.Time `json:"window_closes_at,omitempty"`
	WindowOpen     bool       `json:"window_open"`
	// Indicators are the codes of the optional indicators the page offers besides the overall
	// level, from the indicator catalogue of the case's unit; IndicatorCatalogue names them.
	Indicators         []string               `json:"indicators"`
	IndicatorCatalogue []indicators.Indicator `json:"indicator_catalogue"`
	// Tags are suggested tags; the citizen may pick some.
	Tags []string `json:"tags"`
}

// Suggested tag codes; the UI shows their labels from its catalogue, the rating stores the
// codes. The indicators come from the indicator catalogue of the case's unit.
var rateTags = []string{"slow", "unclear_guidance", "many_trips", "bad_attitude", "long_queue", "fast", "helpful", "clear_guidance"}

type caseRow = store.ReceiptCase

func (s *Server) loadCase(c echo.Context, caseNo string) (caseRow, error) {
	cr, err := s.receipts.Case(c.Request().Context(), caseNo)
	if errors.Is(err, store.ErrNotFound) {
		return cr, apperr.NotFound("service case")
	}
	return cr, err
}

func qrEvaluationID(caseNo string) string { return "qr:" + caseNo }

// qrConflictID is the evaluation_id of a receipt's rating that contradicts the stored one.
func qrConflictID(caseNo string) string { return "qr:" + caseNo + ":conflict" }

// anyBad reports whether a rating page's levels rate anything bad (as the intake judges it).
func anyBad(levels map[string]string) bool {
	for _, v := range levels {
		if models.IsBadLevel(v) {
			return true
		}
	}
	return false
}

func (s *Server) rated(c echo.Context, caseNo string) (*models.Evaluation, error) {
	return s.receipts.Rating(c.Request().Context(), qrEvaluationID(caseNo))
}

func (s *Server) getRate(c echo.Context) error {
	caseNo, err := s.caseOfToken(c.Param("token"))
	if err != nil {
		return err
	}
	cr, err := s.loadCase(c, caseNo)
	if err != nil {
		return err
	}
	ev, err := s.rated(c, caseNo)
	if err != nil {
		return err
	}
	cat, err := s.deps.Intake.IndicatorSource().For(c.Request().Context(), cr.UnitPath)
	if err != nil {
		return err
	}
	offered := cat.Offered()
	codes := make([]string, len(offered))
	for i, ind := range offered {
		codes[i] = ind.Code
	}
	out := rateCase{ItemName: cr.ItemName, UnitName: cr.UnitName, CompletedAt: cr.CompletedAt,
		Rated: ev != nil, WindowOpen: true, Indicators: codes, IndicatorCatalogue: offered, Tags: rateTags}
	closes := cr.ClosesAt
	if closes == nil {
		t, err := s.deps.Intake.WindowCloses(c.Request().Context(), cr.UnitPath, cr.CompletedAt)
		switch {
		case errors.Is(err, calendar.ErrYearNotCovered):
			// Intake accepts the rating then (see intake's window check): the page offers it.
		case err != nil:
			return err
		default:
			closes = &t
		}
	}
	if closes != nil {
		out.WindowClosesAt = closes
		out.WindowOpen = !time.Now().After(*closes)
	}
	return c.JSON(http.StatusOK, out)
}

// rateRequest is what the rating page posts.
type rateRequest struct {
	Levels  map[string]string `json:"levels"`
	Tags    []string          `json:"tags"`
	Comment string            `json:"comment"`
}

// rateResult answers a rating: whether it was bad (a work order is opened and the citizen will
// be called back) and whether the case had been rated before (nothing new stored).
type rateResult struct {
	Bad          bool `json:"bad"`
	AlreadyRated bool `json:"already_rated"`
	// TrackToken opens the tracking page of the bad rating's work order (#/track/{token}): the
	// thank-you page links to it, so the citizen can follow the order from the start.
	TrackToken string `json:"track_token,omitempty"`
}

func (s *Server) postRate(c echo.Context) error {
	caseNo, err := s.caseOfToken(c.Param("token"))
	if err != nil {
		return err
	}
	var req rateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	cr, err := s.loadCase(c, caseNo)
	if err != nil {
		return err
	}
	evID := qrEvaluationID(caseNo)
	if ev, err := s.rated(c, caseNo); err != nil {
		return err
	} else if ev != nil {
		if ev.Bad == anyBad(req.Levels) {
			return c.JSON(http.StatusOK, rateResult{Bad: ev.Bad, AlreadyRated: true})
		}
		// A rating of the receipt that contradicts the stored one: whoever rated first may not
		// have been the citizen (staff who held the receipt). The intake stores it as a
		// conflict, both flagged for review, and opens its order if bad (issue 17, finding 1);
		// under its own evaluation_id, once (a repeat answers what is stored).
		evID = qrConflictID(caseNo)
	}
	// The receipt's holder is the applicant: their identity (sealed at rest) becomes the
	// evaluator's, so that a bad rating can be called back.
	name, err1 := s.deps.PII.Open(cr.Applicant)
	phone, err2 := s.deps.PII.Open(cr.Phone)
	idNo, err3 := s.deps.PII.Open(cr.IDNumber)
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	now := time.Now().UTC()
	er := intake.EvaluationRequest{
		EvaluationID: evID, CaseNos: []string{caseNo}, Channel: "qr_code",
		Levels: req.Levels, Tags: req.Tags, Comment: strings.TrimSpace(req.Comment), RatedAt: &now,
		Evaluator: intake.Person{Name: name, Phone: phone, IDNumber: idNo},
		// The citizen's browser posts this form itself: its address feeds the address-burst
		// fraud check (never the idempotency hash).
		RequestIP: c.RealIP(),
	}
	for _, t := range req.Tags {
		if !slices.Contains(rateTags, t) {
			return apperr.Invalid("tags", "invalid_tag", "tag %q is not offered", t)
		}
	}
	scope := store.Scope{Exact: []string{cr.UnitPath}}
	res, _, err := s.deps.Intake.SubmitEvaluation(c.Request().Context(), scope, er)
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Status == http.StatusConflict {
			// A concurrent double submit stored first: the case is rated.
			return c.JSON(http.StatusOK, rateResult{AlreadyRated: true})
		}
		return err
	}
	out := rateResult{Bad: res.Bad}
	if res.Bad && res.WorkOrderID != nil {
		tok, err := s.tokens.Issue(c.Request().Context(), *res.WorkOrderID, "rate:"+evID, time.Now())
		if err != nil {
			return err
		}
		out.TrackToken = tok
	}
	return c.JSON(http.StatusCreated, out)
}

// qrJSON answers a QR token request.
type qrJSON struct {
	CaseNo string `json:"case_no"`
	Token  string `json:"token"`
	// Path is the rating page, relative to the server's root; the QR code encodes the
	// deployment's public origin followed by it.
	Path string `json:"path"`
}

// postCaseQR issues the rating token of a registered case to the channel system that prints
// the receipt or drives the window's rating device, and to nobody else: staff of the case's
// unit holding a token could rate their own case under the applicant's identity (issue 17,
// finding 1). The route policy admits only the integration role; the handler scopes by the
// integration grant alone, so a route line re-added for staff still issues nothing.
func (s *Server) postCaseQR(c echo.Context) error {
	caseNo := c.Param("case_no")
	p := principal(c)
	scope := store.ScopeFor(p.Grants, models.RoleIntegration)
	if scope.Empty() {
		return apperr.Forbidden("forbidden", "only the channel system issues rating QR codes")
	}
	cr, err := s.loadCase(c, caseNo)
	if err != nil {
		return err
	}
	if !scope.Covers(cr.UnitPath) {
		return apperr.NotFound("service case")
	}
	tok := s.RateToken(caseNo)
	return c.JSON(http.StatusOK, qrJSON{CaseNo: caseNo, Token: tok, Path: "/#/rate/" + tok})
}
