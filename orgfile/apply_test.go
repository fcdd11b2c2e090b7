package orgfile

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"redress/migrations"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

func mustParse(t *testing.T, doc string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustApply(t *testing.T, db *store.DB, f *File) Summary {
	t.Helper()
	s, err := Apply(context.Background(), db, f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func unitPaths(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	var units []models.Unit
	if err := db.Find(&units).Error; err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, u := range units {
		m[u.Code] = u.Path
	}
	return m
}

func rolesOf(t *testing.T, db *store.DB, login string) []string {
	t.Helper()
	var out []string
	err := db.Table("role_assignments").
		Select("role_assignments.role || '@' || units.code").
		Joins("JOIN users ON users.id = role_assignments.user_id").
		Joins("JOIN units ON units.id = role_assignments.unit_id").
		Where("users.login = ?", login).Scan(&out).Error
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestApplyDemoTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := Demo()
		s := mustApply(t, db, f)
		want := Summary{
			Units: Counts{Created: len(f.Units)}, Staff: Counts{Created: len(f.Staff)},
			Users: Counts{Created: len(f.Users)}, Policies: Counts{Created: len(f.Policies)},
			RolesAdded: len(f.Users),
		}
		if s != want {
			t.Fatalf("first apply: %v\nwant %v", s, want)
		}
		paths := unitPaths(t, db)
		for code, p := range map[string]string{"gd": "/gd/", "sz": "/gd/sz/", "sz-ft-tax": "/gd/sz/sz-ft/sz-ft-tax/", "sz-platform": "/gd/sz/sz-platform/", "sz-ns-hrss": "/gd/sz/sz-ns/sz-ns-hrss/"} {
			if paths[code] != p {
				t.Errorf("path of %s = %q, want %q", code, paths[code], p)
			}
		}
		if got := rolesOf(t, db, "sz-admin"); !slices.Equal(got, []string{"administrator@sz"}) {
			t.Errorf("sz-admin roles %v", got)
		}
		var pol models.Policy
		if err := db.Joins("JOIN units ON units.id = policies.unit_id").Where("units.code = ?", "sz").First(&pol).Error; err != nil {
			t.Fatal(err)
		}
		if h := pol.Doc.V.Deadlines["sign"].Hours; h == nil || *h != 24 || pol.Doc.V.RemindBefore != "25%" {
			t.Errorf("sz policy %+v", pol.Doc.V)
		}
		var staff models.Staff
		if err := db.First(&staff, "id = ?", "S0001").Error; err != nil {
			t.Fatal(err)
		}
		var tax models.Unit
		if err := db.First(&tax, "code = ?", "sz-ft-tax").Error; err != nil {
			t.Fatal(err)
		}
		if staff.UnitID != tax.ID || staff.Name == "" {
			t.Errorf("S0001 %+v, sz-ft-tax id %d", staff, tax.ID)
		}

		var before models.Unit
		db.First(&before, "code = ?", "sz")
		s = mustApply(t, db, Demo())
		want = Summary{
			Units: Counts{Unchanged: len(f.Units)}, Staff: Counts{Unchanged: len(f.Staff)},
			Users: Counts{Unchanged: len(f.Users)}, Policies: Counts{Unchanged: len(f.Policies)},
		}
		if s != want || s.Changed() {
			t.Fatalf("second apply: %v\nwant %v", s, want)
		}
		var after models.Unit
		db.First(&after, "code = ?", "sz")
		if !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("unchanged unit's updated_at moved: %v → %v", before.UpdatedAt, after.UpdatedAt)
		}
	})
}

const treeDoc = `{
  "units": [
    {"code": "gd", "name": "省局", "kind": "administration"},
    {"code": "sz", "name": "市局", "parent": "gd", "kind": "administration"},
    {"code": "gz", "name": "广州市局", "parent": "gd", "kind": "administration"},
    {"code": "sz-ft", "name": "福田区", "parent": "sz", "kind": "administration"},
    {"code": "sz-ft-tax", "name": "福田区税务局", "parent": "sz-ft"},
    {"code": "sz-ft-tax-1", "name": "第一税务所", "parent": "sz-ft-tax"}
  ],
  "staff": [{"id": "S1", "name": "李四", "unit": "sz-ft-tax"}],
  "users": [
    {"login": "a", "name": "甲", "roles": [{"role": "officer", "unit": "sz-ft-tax"}, {"role": "unit_leader", "unit": "sz-ft-tax"}]},
    {"login": "b", "name": "乙", "roles": [{"role": "administrator", "unit": "sz"}]}
  ],
  "policies": [{"unit": "sz", "deadlines": {"callback": {"working_days": 3}}}]
}`

func TestApplyMoveUnit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mustApply(t, db, mustParse(t, treeDoc))
		if p := unitPaths(t, db)["sz-ft-tax-1"]; p != "/gd/sz/sz-ft/sz-ft-tax/sz-ft-tax-1/" {
			t.Fatalf("path %q", p)
		}
		// Move sz-ft under gz; its descendants (sz-ft-tax-1 is not even in this file) follow.
		s := mustApply(t, db, mustParse(t, `{"units": [
			{"code": "gd", "name": "省局", "kind": "administration"},
			{"code": "gz", "name": "广州市局", "parent": "gd", "kind": "administration"},
			{"code": "sz-ft", "name": "福田区", "parent": "gz", "kind": "administration"},
			{"code": "sz-ft-tax", "name": "福田区税务局", "parent": "sz-ft"}]}`))
		if s.Units != (Counts{Updated: 3, Unchanged: 2}) {
			t.Errorf("units %v, want 3 updated (sz-ft, sz-ft-tax, sz-ft-tax-1), 2 unchanged", s.Units)
		}
		want := map[string]string{
			"gd": "/gd/", "sz": "/gd/sz/", "gz": "/gd/gz/", "sz-ft": "/gd/gz/sz-ft/",
			"sz-ft-tax": "/gd/gz/sz-ft/sz-ft-tax/", "sz-ft-tax-1": "/gd/gz/sz-ft/sz-ft-tax/sz-ft-tax-1/",
		}
		got := unitPaths(t, db)
		for c, p := range want {
			if got[c] != p {
				t.Errorf("path of %s = %q, want %q", c, got[c], p)
			}
		}
		var ft, gz models.Unit
		db.First(&ft, "code = ?", "sz-ft")
		db.First(&gz, "code = ?", "gz")
		if ft.ParentID == nil || *ft.ParentID != gz.ID {
			t.Errorf("sz-ft parent %v, want %d", ft.ParentID, gz.ID)
		}

		// Make sz-ft a root; then rename and re-kind it.
		mustApply(t, db, mustParse(t, `{"units": [{"code": "sz-ft", "name": "福田区政务服务数据管理局", "parent": null, "kind": "administration"}]}`))
		got = unitPaths(t, db)
		if got["sz-ft"] != "/sz-ft/" || got["sz-ft-tax-1"] != "/sz-ft/sz-ft-tax/sz-ft-tax-1/" {
			t.Errorf("after making sz-ft a root: %v", got)
		}
		db.First(&ft, "code = ?", "sz-ft")
		if ft.ParentID != nil || ft.Name != "福田区政务服务数据管理局" {
			t.Errorf("sz-ft %+v", ft)
		}

		// And back again, in one go with a new intermediate unit.
		s = mustApply(t, db, mustParse(t, `{"units": [
			{"code": "gd", "name": "省局", "kind": "administration"},
			{"code": "sz", "name": "市局", "parent": "gd", "kind": "administration"},
			{"code": "sz-ft", "name": "福田区", "parent": "sz-new", "kind": "administration"},
			{"code": "sz-new", "name": "新区", "parent": "sz", "kind": "administration"}]}`))
		if s.Units != (Counts{Created: 1, Updated: 3, Unchanged: 2}) {
			t.Errorf("units %v", s.Units)
		}
		got = unitPaths(t, db)
		if got["sz-ft-tax-1"] != "/gd/sz/sz-new/sz-ft/sz-ft-tax/sz-ft-tax-1/" || got["sz-new"] != "/gd/sz/sz-new/" {
			t.Errorf("paths %v", got)
		}
	})
}

func TestApplyUpdatesAndRoleReplacement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mustApply(t, db, mustParse(t, treeDoc))
		if got := rolesOf(t, db, "a"); !slices.Equal(got, []string{"officer@sz-ft-tax", "unit_leader@sz-ft-tax"}) {
			t.Fatalf("a: %v", got)
		}
		next := mustParse(t, `{
		  "units": [
		    {"code": "gd", "name": "省局", "kind": "administration"},
		    {"code": "sz", "name": "深圳市局", "parent": "gd", "kind": "administration"},
		    {"code": "sz-ft", "name": "福田区", "parent": "sz", "kind": "administration"},
		    {"code": "sz-ft-tax", "name": "福田区税务局", "parent": "sz-ft"}
		  ],
		  "staff": [{"id": "S1", "name": "李四", "unit": "sz-ft"}, {"id": "S2", "name": "王五", "unit": "sz-ft-tax"}],
		  "users": [
		    {"login": "a", "name": "甲", "roles": [{"role": "unit_leader", "unit": "sz-ft-tax"}, {"role": "supervisor", "unit": "sz"}]},
		    {"login": "c", "name": "丙", "roles": []}
		  ],
		  "policies": [{"unit": "sz", "deadlines": {"callback": {"working_days": 2}}},
		               {"unit": "gd", "deadlines": {"callback": {"working_days": 3}}}]
		}`)
		s := mustApply(t, db, next)
		want := Summary{
			Units:      Counts{Updated: 1, Unchanged: 3},
			Staff:      Counts{Created: 1, Updated: 1},
			Users:      Counts{Created: 1, Updated: 1},
			Policies:   Counts{Created: 1, Updated: 1},
			RolesAdded: 1, RolesRemoved: 1,
		}
		if s != want {
			t.Fatalf("summary %v\nwant    %v", s, want)
		}
		if got := rolesOf(t, db, "a"); !slices.Equal(got, []string{"supervisor@sz", "unit_leader@sz-ft-tax"}) {
			t.Errorf("a: %v", got)
		}
		if got := rolesOf(t, db, "b"); !slices.Equal(got, []string{"administrator@sz"}) {
			t.Errorf("b, absent from the file, lost roles: %v", got)
		}
		if got := rolesOf(t, db, "c"); len(got) != 0 {
			t.Errorf("c: %v", got)
		}
		var s1 models.Staff
		var ft models.Unit
		db.First(&s1, "id = ?", "S1")
		db.First(&ft, "code = ?", "sz-ft")
		if s1.UnitID != ft.ID {
			t.Errorf("S1 unit %d, want %d", s1.UnitID, ft.ID)
		}
		var pol models.Policy
		db.Joins("JOIN units ON units.id = policies.unit_id").Where("units.code = ?", "sz").First(&pol)
		if w := pol.Doc.V.Deadlines["callback"].WorkingDays; w == nil || *w != 2 {
			t.Errorf("sz policy %+v", pol.Doc.V)
		}

		// Dropping every role: an empty list replaces the assignments with none.
		s = mustApply(t, db, mustParse(t, `{"units": [{"code": "sz", "name": "深圳市局", "parent": "gd"}, {"code": "gd", "name": "省局", "kind": "administration"}],
			"users": [{"login": "a", "name": "甲"}]}`))
		if s.RolesRemoved != 2 || s.Users != (Counts{Updated: 1}) {
			t.Errorf("summary %v", s)
		}
		if got := rolesOf(t, db, "a"); len(got) != 0 {
			t.Errorf("a: %v", got)
		}
		// sz's kind was not given: it defaults to department.
		var sz models.Unit
		db.First(&sz, "code = ?", "sz")
		if sz.Kind != DefaultKind {
			t.Errorf("sz kind %q", sz.Kind)
		}

		// Applying the same file twice changes nothing the second time.
		mustApply(t, db, next)
		if s := mustApply(t, db, next); s.Changed() {
			t.Errorf("second apply changed: %v", s)
		}
	})
}

func TestApplyRefusesInvalidFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := Demo()
		f.Staff[0].Unit = "nowhere"
		_, err := Apply(context.Background(), db, f)
		if err == nil || !strings.Contains(err.Error(), `staff "S0001": unit "nowhere" is not in the file`) {
			t.Fatalf("err = %v", err)
		}
		var n int64
		db.Model(&models.Unit{}).Count(&n)
		if n != 0 {
			t.Errorf("%d units written", n)
		}
	})
}

func TestApplyRollsBackOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// Units are written first; the first staff row then fails. Nothing may remain.
		err := db.Callback().Create().Before("gorm:create").Register("test:fail_staff", func(tx *gorm.DB) {
			if tx.Statement.Table == "staff" {
				_ = tx.AddError(errors.New("boom")) // AddError returns the error it records; the statement carries it
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Apply(context.Background(), db, Demo())
		if err == nil || !strings.Contains(err.Error(), `staff "S0001": create: boom`) {
			t.Fatalf("err = %v", err)
		}
		var n int64
		db.Model(&models.Unit{}).Count(&n)
		if n != 0 {
			t.Errorf("%d units written", n)
		}
	})
}

// TestApplyBesideAnotherWriter checks that Apply, on an SQLite file that another process is
// writing, waits for the writer instead of failing, and that it takes the write lock with its
// first statement.
func TestApplyBesideAnotherWriter(t *testing.T) {
	ctx := context.Background()
	u := storetest.URL(t, migrations.SQLite)
	open := func() *store.DB {
		db, err := store.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := db.Close(); err != nil {
				t.Errorf("close the database: %v", err)
			}
		})
		return db
	}
	a, b := open(), open()
	if _, err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	// lockForImport holds the write lock: a second writer with a short timeout is refused.
	tx := a.Begin()
	if err := lockForImport(tx, a.Dialect); err != nil {
		t.Fatal(err)
	}
	conn, err := b.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 50"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err == nil {
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		t.Error("a second writer got the lock while an import held it")
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 10000"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()

	// Another process writes for a while; Apply waits for it and succeeds.
	tx = a.Begin()
	if err := tx.Create(&models.Unit{Code: "other", Name: "别处", Kind: "department", Path: "/other/"}).Error; err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Apply(ctx, b, Demo())
		done <- err
	}()
	// Commit only once Apply is seen waiting inside lockForImport for this writer, so that
	// the wait is what is tested (not an Apply that happened to start after the commit).
	deadline := time.Now().Add(10 * time.Second)
	for !goroutineIn("orgfile.lockForImport") {
		select {
		case err := <-done:
			t.Fatalf("Apply finished (%v) while another writer held the database", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("Apply never reached lockForImport")
		}
		time.Sleep(time.Millisecond)
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Apply beside a writer: %v", err)
	}
	paths := unitPaths(t, a)
	if paths["other"] != "/other/" || paths["sz-ft-tax"] != "/gd/sz/sz-ft/sz-ft-tax/" {
		t.Errorf("paths %v", paths)
	}
}

// goroutineIn reports whether some goroutine is running or blocked in a function whose
// qualified name contains fn.
func goroutineIn(fn string) bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), fn+"(")
}

// TestApplyNationalDataItems: a unit's 行政区划代码 and 行使层级 are stored on both databases,
// updated when the file changes them, and a file without them clears them (the file is the
// truth, as for names and kinds).
func TestApplyNationalDataItems(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mustApply(t, db, mustParse(t, `{"units": [
			{"code": "gd", "name": "广东省政务服务数据管理局", "parent": null, "kind": "administration", "division_code": "440000000", "level": 2},
			{"code": "sz", "name": "深圳市政务服务数据管理局", "parent": "gd", "kind": "administration", "division_code": "440300000", "level": 3},
			{"code": "ft-sq", "name": "福田区沙头街道某社区工作站", "parent": "sz", "division_code": "440304001", "level": 7}]}`))
		var got []models.Unit
		if err := db.Order("path").Find(&got).Error; err != nil {
			t.Fatal(err)
		}
		want := map[string][2]any{"gd": {"440000000", 2}, "sz": {"440300000", 3}, "ft-sq": {"440304001", 7}}
		for _, u := range got {
			if w := want[u.Code]; u.DivisionCode != w[0] || u.Level != w[1] {
				t.Fatalf("unit %s: %q level %d, want %v", u.Code, u.DivisionCode, u.Level, w)
			}
		}
		sum := mustApply(t, db, mustParse(t, `{"units": [
			{"code": "gd", "name": "广东省政务服务数据管理局", "parent": null, "kind": "administration", "division_code": "440000000", "level": 2},
			{"code": "sz", "name": "深圳市政务服务数据管理局", "parent": "gd", "kind": "administration", "division_code": "440300000", "level": 3},
			{"code": "ft-sq", "name": "福田区沙头街道某社区工作站", "parent": "sz", "division_code": "440304002", "level": 6}]}`))
		if sum.Units.Updated != 1 || sum.Units.Unchanged != 2 {
			t.Fatalf("second apply: %+v", sum.Units)
		}
		var u models.Unit
		db.Where("code = ?", "ft-sq").Take(&u)
		if u.DivisionCode != "440304002" || u.Level != 6 {
			t.Fatalf("after the update: %+v", u)
		}
	})
}
