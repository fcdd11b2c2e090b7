package apitest

import (
	"net/http"
	"slices"
	"testing"

	"redress/store"
	"redress/store/storetest"
)

func init() {
	matrixRoutes["GET /api/v1/staff"] = routeSpec{admits: staff, want: always(http.StatusOK), req: get("/api/v1/staff")}
}

// TestStaffList: the inbox's staff picker lists the staff of the units the caller may see, by
// name with their unit, and nobody else's; a page past the end is empty, with the total.
func TestStaffList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		type member struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Unit struct {
				Code string `json:"code"`
				Name string `json:"name"`
			} `json:"unit"`
		}
		type list struct {
			Items []member `json:"items"`
			Total int      `json:"total"`
		}
		read := func(login, query string) list {
			t.Helper()
			r := e.do(t, request{method: "GET", path: "/api/v1/staff" + query, login: login})
			wantStatus(t, r, http.StatusOK)
			var l list
			r.decode(t, &l)
			return l
		}
		units := func(l list) []string {
			var out []string
			for _, s := range l.Items {
				if !slices.Contains(out, s.Unit.Code) {
					out = append(out, s.Unit.Code)
				}
			}
			return out
		}
		// The Futian tax office's officer: the office's own staff, by name.
		ft := read("ft-officer", "")
		if got := units(ft); !slices.Equal(got, []string{"sz-ft-tax"}) || ft.Total != len(ft.Items) || len(ft.Items) < 2 {
			t.Fatalf("ft-officer's staff: units %v, %d of %d", got, len(ft.Items), ft.Total)
		}
		if ft.Items[0].Unit.Name != "福田区税务局" || !slices.ContainsFunc(ft.Items, func(s member) bool {
			return s.ID == "S0001" && s.Name == staffNames["S0001"]
		}) {
			t.Errorf("ft-officer's staff %+v; want S0001 %s of 福田区税务局", ft.Items, staffNames["S0001"])
		}
		// The city's administrator sees every unit of the city, not another unit's officer.
		sz := read("sz-admin", "")
		if got := units(sz); len(got) < 2 || !slices.Contains(got, "sz-ft-tax") {
			t.Errorf("sz-admin's staff units %v", got)
		}
		ns := read("ns-officer", "")
		if slices.Contains(units(ns), "sz-ft-tax") {
			t.Errorf("ns-officer sees the Futian tax office's staff: %v", units(ns))
		}
		// Pages, never a silent cap.
		if p := read("sz-admin", "?page_size=1&page=2"); len(p.Items) != 1 || p.Total != sz.Total {
			t.Errorf("page 2 of size 1: %d items, total %d (all: %d)", len(p.Items), p.Total, sz.Total)
		}
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/staff?page_size=0", login: "sz-admin"}), http.StatusUnprocessableEntity, "invalid_page_size", "page_size")
	})
}
