// Package open311 answers the read side of Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2)
// over the bad-review work orders, so that civic clients can follow public progress: a work
// order is a service request, its service item the service. Nothing personal leaves: no
// evaluator, no staff member, no free text written by the evaluator or by officers — the
// status notes are composed from the order's state, disposition and supervision. Every code
// and id is a string, in JSON and in XML.
package open311

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/calendar"
	"redress/models"
	"redress/store"
)

// MaxWindow is the longest start_date..end_date span a query may ask for (and the default
// window, ending now).
const MaxWindow = 90 * 24 * time.Hour

// MaxRequests caps one answer (the spec lets a server limit its answers; 1000 is its example).
const MaxRequests = 1000

// Error is a GeoReport error: the answer is an array of them.
type Error struct {
	XMLName     xml.Name `json:"-" xml:"error"`
	Code        int      `json:"code" xml:"code"`
	Description string   `json:"description" xml:"description"`
}

func (e *Error) Error() string { return fmt.Sprintf("open311 %d: %s", e.Code, e.Description) }

func badRequest(format string, args ...any) *Error {
	return &Error{Code: 400, Description: fmt.Sprintf(format, args...)}
}

// Discovery describes the endpoint (GET /open311/v2/discovery).
type Discovery struct {
	XMLName    xml.Name   `json:"-" xml:"discovery"`
	Changeset  string     `json:"changeset" xml:"changeset"`
	Contact    string     `json:"contact" xml:"contact"`
	KeyService string     `json:"key_service" xml:"key_service"`
	Endpoints  []Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

// Endpoint is one endpoint of the discovery document.
type Endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

// Changeset dates this implementation's answers (the spec's way to tell clients it changed).
const Changeset = "2026-12-03T00:00:00+08:00"

// NewDiscovery describes the endpoint at base (e.g. https://host/open311/v2).
func NewDiscovery(base string) Discovery {
	return Discovery{Changeset: Changeset, Contact: "政务服务管理机构（好差评）",
		KeyService: "只读接口，无需 api_key（read only, no api_key）",
		Endpoints: []Endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2", URL: strings.TrimRight(base, "/"),
			Changeset: Changeset, Type: "production", Formats: []string{"application/json", "text/xml"}}}}
}

// Service is a service item (政务服务事项) about which bad reviews were raised.
type Service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	ServiceName string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

// Services lists the service items rated in the last 90 days (from the daily rollups, so the
// answer does not scan the cases), by code.
func Services(ctx context.Context, db *store.DB, now time.Time) ([]Service, error) {
	from := now.Add(-MaxWindow).In(calendar.Zone()).Format(time.DateOnly)
	var rows []struct{ Code, Name string }
	err := db.WithContext(ctx).Table("stats_ratings_daily").Select("dim_key AS code, MAX(label) AS name").
		Where("dim = ? AND day >= ?", "item", from).Group("dim_key").Order("dim_key").Limit(MaxRequests).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("open311 services: %w", err)
	}
	out := make([]Service, 0, len(rows))
	for _, r := range rows {
		name := r.Name
		if name == "" {
			name = r.Code
		}
		out = append(out, Service{ServiceCode: r.Code, ServiceName: name, Description: "政务服务事项：" + name + "（差评整改进度）",
			Metadata: false, Type: "realtime", Group: "政务服务好差评"})
	}
	return out, nil
}

// Request is a service request: one bad-review work order as the public may see it.
type Request struct {
	XMLName           xml.Name `json:"-" xml:"request"`
	ServiceRequestID  string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime" xml:"expected_datetime"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	// Lat and Long are unknown for a government service: null in JSON, empty in XML.
	Lat      none   `json:"lat" xml:"lat"`
	Long     none   `json:"long" xml:"long"`
	MediaURL string `json:"media_url" xml:"media_url"`
}

// none is a value the system does not have: null in JSON, an empty element in XML.
type none struct{}

func (none) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// Query are the filters of GET /requests.
type Query struct {
	IDs         []string
	ServiceCode string
	Start, End  *time.Time
	Statuses    []string // open, closed
}

// ParseQuery reads the spec's parameters; get answers a query parameter.
func ParseQuery(get func(string) string, now time.Time) (Query, error) {
	var q Query
	if v := strings.TrimSpace(get("service_request_id")); v != "" {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				if len(id) > 64 {
					return q, badRequest("service_request_id: an id is at most 64 characters")
				}
				q.IDs = append(q.IDs, id)
			}
		}
		if len(q.IDs) > 100 {
			return q, badRequest("service_request_id: at most 100 ids")
		}
		return q, nil // the spec: with ids, the other parameters are ignored
	}
	q.ServiceCode = strings.TrimSpace(get("service_code"))
	if len(q.ServiceCode) > 64 {
		return q, badRequest("service_code: at most 64 characters")
	}
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"start_date", &q.Start}, {"end_date", &q.End}} {
		v := strings.TrimSpace(get(p.name))
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return q, badRequest("%s: want a W3C datetime such as 2026-11-01T00:00:00+08:00", p.name)
		}
		*p.dst = &t
	}
	switch {
	case q.Start == nil && q.End == nil:
		s := now.Add(-MaxWindow)
		q.Start = &s
	case q.Start == nil:
		s := q.End.Add(-MaxWindow)
		q.Start = &s
	case q.End == nil:
		e := q.Start.Add(MaxWindow)
		q.End = &e
	}
	if q.End != nil && q.End.Before(*q.Start) {
		return q, badRequest("end_date is before start_date")
	}
	if q.End != nil && q.End.Sub(*q.Start) > MaxWindow {
		return q, badRequest("start_date to end_date may span at most 90 days")
	}
	if v := strings.TrimSpace(get("status")); v != "" {
		for _, st := range strings.Split(v, ",") {
			st = strings.ToLower(strings.TrimSpace(st))
			if st != "open" && st != "closed" {
				return q, badRequest("status: want open or closed")
			}
			q.Statuses = append(q.Statuses, st)
		}
	}
	return q, nil
}

// ErrNotFound answers a request id that does not exist.
var ErrNotFound = &Error{Code: 404, Description: "no such service_request_id"}

type row struct {
	models.WorkOrder
	UnitName string
	ItemCode string
	ItemName string
}

// Requests answers the work orders matching q, newest first, at most MaxRequests.
func Requests(ctx context.Context, db *store.DB, q Query) ([]Request, error) {
	tx := db.WithContext(ctx).Table("work_orders").
		Select("work_orders.id, work_orders.evaluation_id, work_orders.state, work_orders.disposition, work_orders.unit_path, work_orders.overall, " +
			"work_orders.opened_at, work_orders.next_due_at, work_orders.supervision_level, work_orders.overdue_days, work_orders.updated_at, units.name AS unit_name").
		Joins("LEFT JOIN units ON units.path = work_orders.unit_path")
	if len(q.IDs) > 0 {
		tx = tx.Where("work_orders.id IN ?", q.IDs)
	} else {
		if q.Start != nil {
			tx = tx.Where("work_orders.opened_at >= ?", q.Start.UTC())
		}
		if q.End != nil {
			tx = tx.Where("work_orders.opened_at <= ?", q.End.UTC())
		}
		if len(q.Statuses) == 1 {
			if q.Statuses[0] == "closed" {
				tx = tx.Where("work_orders.state = ?", models.StateClosed)
			} else {
				tx = tx.Where("work_orders.state <> ?", models.StateClosed)
			}
		}
		if q.ServiceCode != "" {
			tx = tx.Where("EXISTS (SELECT 1 FROM evaluation_cases ec JOIN service_cases sc ON sc.case_no = ec.case_no WHERE ec.evaluation_id = work_orders.evaluation_id AND sc.item_code = ?)", q.ServiceCode)
		}
	}
	var rows []row
	if err := tx.Order("work_orders.opened_at DESC, work_orders.id").Limit(MaxRequests).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("open311 requests: %w", err)
	}
	if err := items(ctx, db, rows); err != nil {
		return nil, err
	}
	out := make([]Request, 0, len(rows))
	for _, r := range rows {
		out = append(out, toRequest(r))
	}
	return out, nil
}

// One answers a single request, or ErrNotFound.
func One(ctx context.Context, db *store.DB, id string) (Request, error) {
	rs, err := Requests(ctx, db, Query{IDs: []string{id}})
	if err != nil {
		return Request{}, err
	}
	if len(rs) == 0 {
		return Request{}, ErrNotFound
	}
	return rs[0], nil
}

// items fills each order's service item: the item of the first case it rates (a batch rating
// covers cases of one item).
func items(ctx context.Context, db *store.DB, rows []row) error {
	if len(rows) == 0 {
		return nil
	}
	evals := make([]string, 0, len(rows))
	for _, r := range rows {
		evals = append(evals, r.EvaluationID)
	}
	var its []struct{ EvaluationID, ItemCode, ItemName string }
	err := db.WithContext(ctx).Table("evaluation_cases ec").Select("ec.evaluation_id, sc.item_code, sc.item_name").
		Joins("JOIN service_cases sc ON sc.case_no = ec.case_no").Where("ec.evaluation_id IN ?", evals).
		Order("ec.evaluation_id, ec.case_no").Scan(&its).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("open311 service items: %w", err)
	}
	first := map[string][2]string{}
	for _, it := range its {
		if _, ok := first[it.EvaluationID]; !ok {
			first[it.EvaluationID] = [2]string{it.ItemCode, it.ItemName}
		}
	}
	for i := range rows {
		it := first[rows[i].EvaluationID]
		rows[i].ItemCode, rows[i].ItemName = it[0], it[1]
	}
	return nil
}

var levelNames = map[string]string{
	models.VerySatisfied: "非常满意", models.Satisfied: "满意", models.BasicallySatisfied: "基本满意",
	models.Dissatisfied: "不满意", models.VeryDissatisfied: "非常不满意",
}

var stateNotes = map[string]string{
	models.StatePendingDispatch: "待派单", models.StateDispatched: "已派单，待责任单位签收",
	models.StateReturned: "责任单位退单，待管理机构裁定", models.StateSigned: "已签收，待回访",
	models.StateCalledBack: "已回访，核实处理中", models.StateRectifying: "整改中",
	models.StateAppealing: "申诉复核中", models.StateReviewing: "整改结果审核中",
	models.StateFeedback: "已办理，待评价人反馈", models.StateClosed: "已办结",
}

var dispositionNotes = map[string]string{
	"rectify_now": "立行立改", "ledger": "建立台账、限期整改", "explain": "解释说明", "appeal": "申诉",
}

// StatusNotes composes the public note of an order from its state, disposition, supervision
// and overdue days — never from free text, which may name people.
func StatusNotes(state, disposition string, supervision, overdueDays int) string {
	parts := []string{stateNotes[state]}
	if parts[0] == "" {
		parts[0] = "处理中"
	}
	if d := dispositionNotes[disposition]; d != "" {
		parts = append(parts, "处置方式："+d)
	}
	switch {
	case supervision >= 2:
		parts = append(parts, "挂牌督办")
	case supervision == 1:
		parts = append(parts, "已督办")
	}
	if overdueDays > 0 {
		parts = append(parts, fmt.Sprintf("超期%d天", overdueDays))
	}
	return strings.Join(parts, "；")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(calendar.Zone()).Format(time.RFC3339)
}

func toRequest(r row) Request {
	status := "open"
	if r.State == models.StateClosed {
		status = "closed"
	}
	expected := ""
	if r.NextDueAt != nil && status == "open" {
		expected = stamp(*r.NextDueAt)
	}
	name := r.ItemName
	if name == "" {
		name = r.ItemCode
	}
	return Request{ServiceRequestID: r.ID, Status: status,
		StatusNotes: StatusNotes(r.State, r.Disposition, r.SupervisionLevel, r.OverdueDays),
		ServiceName: name, ServiceCode: r.ItemCode,
		Description:       "差评（总体评价：" + levelNames[r.Overall] + "）",
		AgencyResponsible: r.UnitName, RequestedDatetime: stamp(r.OpenedAt),
		UpdatedDatetime: stamp(r.UpdatedAt), ExpectedDatetime: expected}
}

// XML wrappers of the lists.
type (
	// ServicesXML is <services>.
	ServicesXML struct {
		XMLName  xml.Name  `xml:"services"`
		Services []Service `xml:"service"`
	}
	// RequestsXML is <service_requests>.
	RequestsXML struct {
		XMLName  xml.Name  `xml:"service_requests"`
		Requests []Request `xml:"request"`
	}
	// ErrorsXML is <errors>.
	ErrorsXML struct {
		XMLName xml.Name `xml:"errors"`
		Errors  []Error  `xml:"error"`
	}
)

// Reader answers the GeoReport reads. What it serves is public (nothing personal leaves, see
// the package comment), so it takes no caller and applies no scope.
type Reader struct{ DB *store.DB }

// Services lists the service items (Services).
func (r Reader) Services(ctx context.Context, now time.Time) ([]Service, error) {
	return Services(ctx, r.DB, now)
}

// Requests answers the service requests that match q (Requests).
func (r Reader) Requests(ctx context.Context, q Query) ([]Request, error) {
	return Requests(ctx, r.DB, q)
}

// One answers one service request (One).
func (r Reader) One(ctx context.Context, id string) (Request, error) { return One(ctx, r.DB, id) }
