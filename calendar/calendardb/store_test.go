package calendardb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"redress/calendar"
	"redress/calendar/calendartest"
	"redress/store"
	"redress/store/storetest"
)

const file2027 = `{"year": 2027, "papers": ["https://example.invalid/notice-2027"], "days": [
 {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
 {"name": "春节", "date": "2027-02-06", "isOffDay": false},
 {"name": "春节", "date": "2027-02-08", "isOffDay": true}]}`

func TestEnsureShippedAndImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		loaded, err := EnsureShipped(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(loaded) != 8 || loaded[0].Version != "2019.1" || loaded[7].Version != "2026.1" {
			t.Fatalf("loaded %+v", loaded)
		}
		again, err := EnsureShipped(ctx, db)
		if err != nil || len(again) != 0 {
			t.Fatalf("second EnsureShipped: %+v %v", again, err)
		}
		c, err := Load(ctx, db, "")
		if err != nil {
			t.Fatal(err)
		}
		if c.Version() != shippedCalendar(t).Version() {
			t.Fatalf("loaded version %q", c.Version())
		}
		// The database round trip gives the same calendar as the embedded data.
		ref := shippedCalendar(t)
		for y := 2019; y <= 2026; y++ {
			a, _ := c.Year(y)
			b, _ := ref.Year(y)
			for i := range a.Days {
				if a.Days[i] != b.Days[i] {
					t.Fatalf("%s: db %+v, shipped %+v", a.Days[i].Date, a.Days[i], b.Days[i])
				}
			}
		}

		// 2027 is not covered until imported.
		start := at(t, "2026-12-28T10:00:00+08:00")
		if _, err := c.Add(start, calendar.WorkingDaysBudget(4)); !errors.Is(err, calendar.ErrYearNotCovered) {
			t.Fatalf("2027 before import: %v", err)
		}
		res, err := ImportHolidayCN(ctx, db, strings.NewReader(file2027), "test:2027")
		if err != nil || !res.Changed || res.Version != "2027.1" || res.Days != 3 {
			t.Fatalf("import 2027: %+v %v", res, err)
		}
		res, err = ImportHolidayCN(ctx, db, strings.NewReader(file2027), "test:2027 again")
		if err != nil || res.Changed || res.Version != "2027.1" {
			t.Fatalf("same content again: %+v %v", res, err)
		}
		c, err = Load(ctx, db, "")
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Add(start, calendar.WorkingDaysBudget(4))
		if err != nil || r.DueDate != "2027-01-04" || r.CalendarVersion != "cn-2026.1,2027.1" {
			t.Fatalf("after import: %+v %v", r, err)
		}

		// A correction becomes revision 2; revision 1 stays recomputable.
		corrected := strings.Replace(file2027, `"2027-01-01", "isOffDay": true}`, `"2027-01-01", "isOffDay": true}, {"name": "元旦", "date": "2026-12-31", "isOffDay": true}`, 1)
		res, err = ImportHolidayCN(ctx, db, strings.NewReader(corrected), "test:2027 corrected")
		if err != nil || !res.Changed || res.Version != "2027.2" {
			t.Fatalf("correction: %+v %v", res, err)
		}
		c, err = Load(ctx, db, "")
		if err != nil {
			t.Fatal(err)
		}
		r2, err := c.Add(start, calendar.WorkingDaysBudget(3))
		// 2026-12-31 is now a holiday fixed by the 2027 notice, so both versions are named.
		if err != nil || r2.DueDate != "2027-01-04" || r2.CalendarVersion != "cn-2026.1,2027.2" {
			t.Fatalf("after correction: %+v %v", r2, err)
		}
		old, err := LoadVersion(ctx, db, "", r.CalendarVersion)
		if err != nil {
			t.Fatal(err)
		}
		again4, err := old.Add(start, calendar.WorkingDaysBudget(4))
		if err != nil || again4 != r {
			t.Fatalf("recomputed with %s: %+v %v, want %+v", r.CalendarVersion, again4, err, r)
		}
		if _, err := old.Add(at(t, "2025-03-10T10:00:00+08:00"), calendar.WorkingDaysBudget(1)); !errors.Is(err, calendar.ErrYearNotCovered) {
			t.Errorf("a pinned calendar covers only its years: %v", err)
		}

		vs, err := ListVersions(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 10 || vs[8].Version != "2027.1" || vs[8].Current || !vs[9].Current || vs[9].Source != "test:2027 corrected" || vs[0].Source != calendar.ShippedSource {
			t.Fatalf("versions %+v", vs)
		}
		// EnsureShipped never replaces an existing year, whatever its revision.
		if again, err := EnsureShipped(ctx, db); err != nil || len(again) != 0 {
			t.Fatalf("EnsureShipped after imports: %+v %v", again, err)
		}
	})
}

// Importing the holiday-cn files on top of the shipped data changes nothing: same content.
func TestImportSharedFilesIsNoOp(t *testing.T) {
	dir := calendartest.HolidayCN(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := EnsureShipped(ctx, db); err != nil {
			t.Fatal(err)
		}
		for y := 2019; y <= 2026; y++ {
			f, err := os.Open(filepath.Join(dir, itoa(y)+".json"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := ImportHolidayCN(ctx, db, f, f.Name())
			if err := f.Close(); err != nil {
				t.Fatalf("close the calendar file: %v", err)
			}
			if err != nil || res.Changed || res.Version != itoa(y)+".1" {
				t.Fatalf("%d: %+v %v", y, res, err)
			}
		}
		f, err := os.Open(filepath.Join(dir, "2027.json"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := f.Close(); err != nil {
				t.Errorf("close the calendar file: %v", err)
			}
		}()
		if _, err := ImportHolidayCN(ctx, db, f, f.Name()); err == nil || !strings.Contains(err.Error(), "no days") {
			t.Fatalf("empty 2027 accepted: %v", err)
		}
	})
}

func TestImportValidation(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	for name, doc := range map[string]string{
		"not JSON":        `{"year":`,
		"no year":         `{"papers": [], "days": [{"name": "x", "date": "2027-01-01", "isOffDay": true}]}`,
		"fractional year": `{"year": 2027.5, "papers": [], "days": [{"name": "x", "date": "2027-01-01", "isOffDay": true}]}`,
		"no days":         `{"year": 2027, "papers": []}`,
		"empty days":      `{"year": 2027, "papers": [], "days": []}`,
		"other year":      `{"year": 2027, "papers": [], "days": [{"name": "x", "date": "2028-01-01", "isOffDay": true}]}`,
		"too early":       `{"year": 2027, "papers": [], "days": [{"name": "x", "date": "2026-11-30", "isOffDay": true}]}`,
		"duplicate":       `{"year": 2027, "papers": [], "days": [{"name": "x", "date": "2027-01-01", "isOffDay": true}, {"name": "y", "date": "2027-01-01", "isOffDay": false}]}`,
		"bad date":        `{"year": 2027, "papers": [], "days": [{"name": "x", "date": "2027-02-30", "isOffDay": true}]}`,
		"missing field":   `{"year": 2027, "papers": [], "days": [{"name": "x", "date": "2027-01-01"}]}`,
	} {
		if _, err := ImportHolidayCN(context.Background(), db, strings.NewReader(doc), name); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	vs, err := ListVersions(context.Background(), db)
	if err != nil || len(vs) != 0 {
		t.Fatalf("rejected imports left %+v %v", vs, err)
	}
}

func TestOverridesAndCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := EnsureShipped(ctx, db); err != nil {
			t.Fatal(err)
		}
		cache := NewCache(db, 0)
		ft := "/gd/sz/sz-ft-tax/"
		c1, err := cache.Calendar(ctx, ft)
		if err != nil {
			t.Fatal(err)
		}
		if c2, _ := cache.Calendar(ctx, ft); c2 != c1 {
			t.Error("unchanged data reloaded")
		}
		start := at(t, "2025-03-13T10:00:00+08:00")
		base, err := c1.Add(start, calendar.WorkingDaysBudget(1))
		if err != nil || base.DueDate != "2025-03-14" || base.CalendarVersion != "cn-2025.1" {
			t.Fatalf("before overrides: %+v %v", base, err)
		}

		ch, err := SetOverride(ctx, db, OverrideInput{UnitPath: "/gd/sz/", Date: "2025-03-14", OffDay: true, Reason: "台风停工", By: "sz-admin"})
		if err != nil || ch.Revision != 1 || !ch.Changed {
			t.Fatalf("set: %+v %v", ch, err)
		}
		ch, err = SetOverride(ctx, db, OverrideInput{UnitPath: "/gd/sz/", Date: "2025-03-14", OffDay: true, Reason: "台风停工", By: "sz-admin"})
		if err != nil || ch.Revision != 1 || ch.Changed {
			t.Fatalf("same override again: %+v %v", ch, err)
		}
		c3, err := cache.Calendar(ctx, ft)
		if err != nil {
			t.Fatal(err)
		}
		if c3 == c1 {
			t.Fatal("cache not invalidated by an override")
		}
		r, err := c3.Add(start, calendar.WorkingDaysBudget(1))
		if err != nil || r.DueDate != "2025-03-17" || r.CalendarVersion != "cn-2025.1+sz.1" {
			t.Fatalf("with override: %+v %v", r, err)
		}
		// Other subtrees are unaffected; a deeper scope wins over a shallower one.
		gz, err := cache.Calendar(ctx, "/gd/gz/")
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := gz.IsWorkingDay("2025-03-14"); !w {
			t.Error("override leaked to /gd/gz/")
		}
		if _, err := SetOverride(ctx, db, OverrideInput{UnitPath: ft, Date: "2025-03-14", OffDay: false, Reason: "窗口照常", By: "ft-admin"}); err != nil {
			t.Fatal(err)
		}
		c4, err := Load(ctx, db, ft)
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := c4.IsWorkingDay("2025-03-14"); !w || c4.Version() != "cn-2019.1,2020.1,2021.1,2022.1,2023.1,2024.1,2025.1,2026.1+sz.1+sz-ft-tax.1" {
			t.Errorf("nearest override: working %v, version %s", w, c4.Version())
		}
		list, err := ListOverrides(ctx, db, ft, false)
		if err != nil || len(list) != 2 || list[0].UnitPath != "/gd/sz/" || list[1].UnitPath != ft {
			t.Fatalf("list: %+v %v", list, err)
		}
		list, err = ListOverrides(ctx, db, "/gd/", true)
		if err != nil || len(list) != 2 {
			t.Fatalf("subtree list: %+v %v", list, err)
		}

		// Remove: revision 2; removing again fails; revision 1 stays recomputable.
		ch, err = RemoveOverride(ctx, db, "/gd/sz/", "2025-03-14", "sz-admin")
		if err != nil || ch.Revision != 2 {
			t.Fatalf("remove: %+v %v", ch, err)
		}
		if _, err := RemoveOverride(ctx, db, "/gd/sz/", "2025-03-14", "sz-admin"); !errors.Is(err, calendar.ErrOverrideNotFound) {
			t.Fatalf("remove again: %v", err)
		}
		sz, err := cache.Calendar(ctx, "/gd/sz/x/")
		if err != nil {
			t.Fatal(err)
		}
		r2, err := sz.Add(start, calendar.WorkingDaysBudget(1))
		if err != nil || r2.DueDate != "2025-03-14" || r2.CalendarVersion != "cn-2025.1+sz.2" {
			t.Fatalf("after removal: %+v %v", r2, err)
		}
		old, err := LoadVersion(ctx, db, "/gd/sz/x/", r.CalendarVersion)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := old.Add(start, calendar.WorkingDaysBudget(1)); err != nil || again != r {
			t.Fatalf("recompute %s: %+v %v, want %+v", r.CalendarVersion, again, err, r)
		}
		if _, err := LoadVersion(ctx, db, "/gd/gz/", r.CalendarVersion); err == nil {
			t.Error("a version naming a scope off the unit's path was accepted")
		}

		view, err := ListYear(ctx, db, 2025, ft)
		if err != nil {
			t.Fatal(err)
		}
		if d := view.Days[72]; d.Date != "2025-03-14" || d.Source != calendar.SourceOverride || d.OffDay {
			t.Errorf("year view %+v", d)
		}

		for _, in := range []OverrideInput{
			{UnitPath: "gd/sz", Date: "2025-03-14", Reason: "x", By: "a"},
			{UnitPath: "/", Date: "2025-03-14", Reason: "x", By: "a"},
			{UnitPath: "/gd//", Date: "2025-03-14", Reason: "x", By: "a"},
			{UnitPath: "/gd/", Date: "2025-3-14", Reason: "x", By: "a"},
			{UnitPath: "/gd/", Date: "2025-03-14", Reason: " ", By: "a"},
			{UnitPath: "/gd/", Date: "2025-03-14", Reason: "x"},
		} {
			if _, err := SetOverride(ctx, db, in); err == nil {
				t.Errorf("accepted %+v", in)
			}
		}
	})
}

// Several processes starting at once must all succeed and load each year once.
func TestEnsureShippedConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			go func() { _, err := EnsureShipped(ctx, db); errs <- err }()
		}
		for i := 0; i < 4; i++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		vs, err := ListVersions(ctx, db)
		if err != nil || len(vs) != 8 {
			t.Fatalf("versions %d %v", len(vs), err)
		}
	})
}

// Revisions tell the calendar watcher what changed: a national year concerns every unit, an
// override its scope only; their stamp is the Stamp (issue 16, fan-out by unit).
func TestRevisionsTellWhatChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		read := func() Revisions {
			t.Helper()
			r, err := LoadRevisions(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if s, err := Stamp(ctx, db); err != nil || r.Stamp() != s {
				t.Fatalf("revisions' stamp %q, Stamp %q (%v)", r.Stamp(), s, err)
			}
			return r
		}
		set := func(path, date string) {
			t.Helper()
			if _, err := SetOverride(ctx, db, OverrideInput{UnitPath: path, Date: date, OffDay: true, Reason: "停工", By: "sz-admin"}); err != nil {
				t.Fatal(err)
			}
		}
		prev := read()
		for _, step := range []struct {
			name   string
			change func()
			all    bool
			scopes string
		}{
			{"nothing", func() {}, false, ""},
			{"national years", func() {
				if _, err := EnsureShipped(ctx, db); err != nil {
					t.Fatal(err)
				}
			}, true, ""},
			{"one scope", func() { set("/gd/sz/sz-ft/", "2025-03-14") }, false, "/gd/sz/sz-ft/"},
			{"two scopes", func() { set("/gd/sz/sz-ns/", "2025-03-14"); set("/gd/gz/", "2025-03-14") }, false, "/gd/gz/ /gd/sz/sz-ns/"},
			{"the same scope again", func() { set("/gd/sz/sz-ft/", "2025-03-17") }, false, "/gd/sz/sz-ft/"},
		} {
			step.change()
			cur := read()
			all, scopes := cur.ChangedSince(prev)
			if all != step.all || strings.Join(scopes, " ") != step.scopes {
				t.Errorf("%s: changed all=%v scopes %q, want all=%v %q", step.name, all, scopes, step.all, step.scopes)
			}
			prev = cur
		}
		if all, _ := prev.ChangedSince(Revisions{}); !all {
			t.Error("a change from unknown revisions must concern every unit")
		}
	})
}
