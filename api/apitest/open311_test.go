package apitest

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/models"
	"redress/stats"
	"redress/store"
	"redress/store/storetest"
)

// geoReportRequestFields is the GeoReport v2 field list of a service request
// (http://wiki.open311.org/GeoReport_v2#GET_Service_Requests), every one present.
var geoReportRequestFields = []string{"service_request_id", "status", "status_notes", "service_name", "service_code",
	"description", "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
	"expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}

var geoReportServiceFields = []string{"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}

// xmlNode reads any XML document as a tree of names and texts.
type xmlNode struct {
	XMLName xml.Name
	Text    string    `xml:",chardata"`
	Kids    []xmlNode `xml:",any"`
}

func (n xmlNode) names() []string {
	var out []string
	for _, k := range n.Kids {
		out = append(out, k.XMLName.Local)
	}
	sort.Strings(out)
	return out
}

func (n xmlNode) kid(name string) string {
	for _, k := range n.Kids {
		if k.XMLName.Local == name {
			return k.Text
		}
	}
	return "\x00missing"
}

func sorted(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }

// TestOpen311 follows two real work orders through the GeoReport v2 read side in JSON and
// XML: every field of the spec's list is present (and nothing else), ids and codes are
// strings, the unit is the agency, the due time is expected_datetime, nothing personal
// appears, the filters work, and errors are the spec's [{code, description}].
func TestOpen311(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		_, taxOrder := e.badOrder(t, "sz-ft-tax", "S0001")
		// A second order about another service item of another unit.
		other := uniq("C")
		body := caseBody(other, "sz-ns-tax", "", time.Now().Add(-time.Hour))
		body["service_item"] = map[string]any{"code": "0012345", "name": "个体工商户登记"}
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: body}), http.StatusCreated)
		res := e.postEval(t, evalBody(uniq("E"), []string{other}, models.Dissatisfied, time.Now()))
		otherOrder := *res.WorkOrderID
		wo := e.waitState(t, taxOrder, models.StateDispatched)
		e.waitState(t, otherOrder, models.StateDispatched)
		if wo.NextDueAt == nil {
			t.Fatal("dispatched order without a due time")
		}

		// JSON list: the spec's fields exactly, strings for ids and codes.
		r := e.do(t, request{method: "GET", path: "/open311/v2/requests.json"})
		wantStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("content type %q", ct)
		}
		for _, personal := range []string{evaluatorName, evaluatorPhone, evaluatorID, "李四", "13900001111", "窗口排队两个小时", "S0001", "等候时间长"} {
			if strings.Contains(r.String(), personal) {
				t.Fatalf("open311 answer holds personal or free text %q: %s", personal, r)
			}
		}
		var list []map[string]json.RawMessage
		r.decode(t, &list)
		byID := map[string]map[string]json.RawMessage{}
		for _, it := range list {
			keys := make([]string, 0, len(it))
			for k := range it {
				keys = append(keys, k)
			}
			if !slices.Equal(sorted(keys), sorted(geoReportRequestFields)) {
				t.Fatalf("request fields %v, want %v", sorted(keys), sorted(geoReportRequestFields))
			}
			for _, k := range geoReportRequestFields {
				if k == "lat" || k == "long" {
					if string(it[k]) != "null" {
						t.Fatalf("%s = %s, want null", k, it[k])
					}
					continue
				}
				if !strings.HasPrefix(string(it[k]), `"`) {
					t.Fatalf("%s is not a string: %s", k, it[k])
				}
			}
			var id string
			_ = json.Unmarshal(it["service_request_id"], &id)
			byID[id] = it
		}
		str := func(m map[string]json.RawMessage, k string) string {
			var s string
			_ = json.Unmarshal(m[k], &s)
			return s
		}
		got := byID[taxOrder]
		if got == nil || byID[otherOrder] == nil {
			t.Fatalf("orders missing from %s", r)
		}
		wantDue := wo.NextDueAt.In(calendar.Zone()).Format(time.RFC3339)
		if str(got, "status") != "open" || str(got, "agency_responsible") != "福田区税务局" || str(got, "service_code") != "tax-001" ||
			str(got, "service_name") != "增值税发票领用" || str(got, "expected_datetime") != wantDue ||
			!strings.Contains(str(got, "status_notes"), "已派单") || !strings.Contains(str(got, "description"), "非常不满意") {
			t.Fatalf("tax order as a service request: %v (want due %s)", got, wantDue)
		}
		if str(byID[otherOrder], "service_code") != "0012345" {
			t.Fatalf("a numeric-looking code must stay the string \"0012345\": %s", byID[otherOrder]["service_code"])
		}

		// XML: the same fields as elements of <service_requests><request>.
		r = e.do(t, request{method: "GET", path: "/open311/v2/requests.xml"})
		wantStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") && !strings.HasPrefix(ct, "application/xml") {
			t.Fatalf("xml content type %q", ct)
		}
		var doc xmlNode
		var err error
		if doc, err = parseXML(r.body); err != nil || doc.XMLName.Local != "service_requests" || len(doc.Kids) != len(list) {
			t.Fatalf("xml list: %v %s", err, r)
		}
		found := false
		for _, req := range doc.Kids {
			if req.XMLName.Local != "request" || !slices.Equal(req.names(), sorted(geoReportRequestFields)) {
				t.Fatalf("xml request %s fields %v", req.XMLName.Local, req.names())
			}
			if req.kid("service_request_id") == taxOrder {
				found = true
				if req.kid("agency_responsible") != "福田区税务局" || req.kid("expected_datetime") != wantDue || req.kid("status") != "open" {
					t.Fatalf("xml tax order: %+v", req)
				}
			}
		}
		if !found {
			t.Fatal("tax order missing from the xml list")
		}

		// One request, in both formats (a one-element list, as the spec answers).
		r = e.do(t, request{method: "GET", path: "/open311/v2/requests/" + taxOrder + ".json"})
		wantStatus(t, r, http.StatusOK)
		var one []map[string]any
		r.decode(t, &one)
		if len(one) != 1 || one[0]["service_request_id"] != taxOrder {
			t.Fatalf("one request: %s", r)
		}
		r = e.do(t, request{method: "GET", path: "/open311/v2/requests/" + taxOrder + ".xml"})
		wantStatus(t, r, http.StatusOK)
		if doc, err = parseXML(r.body); err != nil || len(doc.Kids) != 1 || doc.Kids[0].kid("service_request_id") != taxOrder {
			t.Fatalf("one request as xml: %v %s", err, r)
		}

		// Filters.
		ids := func(path string) []string {
			r := e.do(t, request{method: "GET", path: path})
			wantStatus(t, r, http.StatusOK)
			var l []map[string]any
			r.decode(t, &l)
			var out []string
			for _, it := range l {
				out = append(out, it["service_request_id"].(string))
			}
			return out
		}
		if got := ids("/open311/v2/requests.json?service_code=0012345"); !slices.Equal(got, []string{otherOrder}) {
			t.Fatalf("service_code filter: %v", got)
		}
		if got := ids("/open311/v2/requests.json?service_request_id=" + otherOrder + "," + taxOrder + "&status=closed"); len(got) != 2 {
			t.Fatalf("service_request_id must ignore the other filters: %v", got)
		}
		if got := ids("/open311/v2/requests.json?status=closed"); len(got) != 0 {
			t.Fatalf("status=closed: %v", got)
		}
		if got := ids("/open311/v2/requests.json?status=open"); len(got) != 2 {
			t.Fatalf("status=open: %v", got)
		}
		past := time.Now().AddDate(0, -6, 0)
		if got := ids("/open311/v2/requests.json?start_date=" + past.Format(time.RFC3339) + "&end_date=" + past.AddDate(0, 0, 30).Format(time.RFC3339)); len(got) != 0 {
			t.Fatalf("a past window: %v", got)
		}

		// Errors as the spec shapes them, in both formats.
		wantGeoError := func(path string, status int) {
			t.Helper()
			r := e.do(t, request{method: "GET", path: path})
			if r.status != status {
				t.Fatalf("%s: status %d, want %d: %s", path, r.status, status, r)
			}
			if strings.HasSuffix(strings.SplitN(path, "?", 2)[0], ".xml") {
				var errs xmlNode
				if err := xml.Unmarshal(r.body, &errs); err != nil || errs.XMLName.Local != "errors" || len(errs.Kids) != 1 ||
					!slices.Equal(errs.Kids[0].names(), []string{"code", "description"}) || errs.Kids[0].kid("code") != strconv.Itoa(status) {
					t.Fatalf("%s: xml error %v %s", path, err, r)
				}
				return
			}
			var errs []map[string]any
			if err := json.Unmarshal(r.body, &errs); err != nil || len(errs) != 1 || len(errs[0]) != 2 || errs[0]["code"] != float64(status) || errs[0]["description"] == "" {
				t.Fatalf("%s: json error %v %s", path, err, r)
			}
		}
		now := time.Now()
		wantGeoError("/open311/v2/requests.json?start_date="+now.AddDate(0, 0, -91).Format(time.RFC3339)+"&end_date="+now.Format(time.RFC3339), 400)
		wantGeoError("/open311/v2/requests.xml?start_date=yesterday", 400)
		wantGeoError("/open311/v2/requests.json?status=pending", 400)
		wantGeoError("/open311/v2/requests/"+uniq("nope")+".json", 404)
		wantGeoError("/open311/v2/requests/"+uniq("nope")+".xml", 404)

		// Services from the rollups, in both formats; discovery names the formats.
		if _, err := (&stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}).Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
		r = e.do(t, request{method: "GET", path: "/open311/v2/services.json"})
		wantStatus(t, r, http.StatusOK)
		var svcs []map[string]any
		r.decode(t, &svcs)
		codes := []string{}
		for _, s := range svcs {
			keys := make([]string, 0, len(s))
			for k := range s {
				keys = append(keys, k)
			}
			if !slices.Equal(sorted(keys), sorted(geoReportServiceFields)) {
				t.Fatalf("service fields %v", sorted(keys))
			}
			codes = append(codes, s["service_code"].(string))
		}
		if !slices.Contains(codes, "tax-001") || !slices.Contains(codes, "0012345") {
			t.Fatalf("services: %s", r)
		}
		r = e.do(t, request{method: "GET", path: "/open311/v2/services.xml"})
		wantStatus(t, r, http.StatusOK)
		if doc, err = parseXML(r.body); err != nil || doc.XMLName.Local != "services" || len(doc.Kids) != len(svcs) ||
			!slices.Equal(doc.Kids[0].names(), sorted(geoReportServiceFields)) {
			t.Fatalf("services xml: %v %s", err, r)
		}
		r = e.do(t, request{method: "GET", path: "/open311/v2/discovery.json"})
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.String(), `"specification":"http://wiki.open311.org/GeoReport_v2"`) || !strings.Contains(r.String(), "text/xml") {
			t.Fatalf("discovery: %s", r)
		}
		r = e.do(t, request{method: "GET", path: "/open311/v2/discovery.xml"})
		wantStatus(t, r, http.StatusOK)
		if doc, err = parseXML(r.body); err != nil || doc.XMLName.Local != "discovery" || doc.kid("changeset") == "\x00missing" {
			t.Fatalf("discovery xml: %v %s", err, r)
		}
	})
}

func parseXML(b []byte) (xmlNode, error) {
	var n xmlNode
	err := xml.Unmarshal(b, &n)
	return n, err
}
