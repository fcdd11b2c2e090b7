package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// TestInsertAll: rows of several tables go in together, a serial id and JSON included, and a
// violation anywhere stores none of them.
func TestInsertAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		count := func(table, where string, args ...any) int64 {
			t.Helper()
			var n int64
			if err := db.Table(table).Where(where, args...).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		units := []models.Unit{{Code: "ia-1", Name: "一", Kind: "department", Path: "/ia-1/"}, {Code: "ia-2", Name: "二", Kind: "department", Path: "/ia-2/"}}
		audit := models.AuditEntry{Method: "POST", Path: "/insert-all", Status: 201, Outcome: "ok"}
		user := models.User{Login: "ia-user", Name: "三"}
		if err := store.InsertAll(ctx, db, &units, &audit, &user); err != nil {
			t.Fatal(err)
		}
		if n := count("units", "code LIKE ?", "ia-%"); n != 2 {
			t.Fatalf("%d units stored, want 2", n)
		}
		if count("audit_log", "path = ?", "/insert-all") != 1 || count("users", "login = ?", "ia-user") != 1 {
			t.Fatal("audit entry or user not stored")
		}
		// A duplicate code in the last part: the first parts must not stay either.
		more := models.AuditEntry{Method: "POST", Path: "/insert-all-2", Status: 201, Outcome: "ok"}
		dup := []models.Unit{{Code: "ia-3", Name: "三", Kind: "department", Path: "/ia-3/"}, {Code: "ia-1", Name: "again", Kind: "department", Path: "/x/"}}
		if err := store.InsertAll(ctx, db, &more, &dup); err == nil {
			t.Fatal("a duplicate code was stored")
		}
		if count("audit_log", "path = ?", "/insert-all-2") != 0 || count("units", "code = ?", "ia-3") != 0 {
			t.Fatal("a failed InsertAll left rows behind")
		}
		// One row alone.
		one := models.AuditEntry{Method: "POST", Path: "/insert-all-3", Status: 201, Outcome: "ok"}
		if err := store.InsertAll(ctx, db, &one); err != nil || count("audit_log", "path = ?", "/insert-all-3") != 1 {
			t.Fatalf("one row: %v", err)
		}
	})
}

// TestCommitter: concurrent requests' rows are written together, and a request whose rows are
// refused (here a unit code taken) fails alone: every other request's rows are stored.
func TestCommitter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Create(&models.Unit{Code: "cm-taken", Name: "占", Kind: "department", Path: "/cm-taken/"}).Error; err != nil {
			t.Fatal(err)
		}
		c := &store.Committer{DB: db, MaxGroup: 16, Writers: 2}
		const n = 60
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code := fmt.Sprintf("cm-%d", i)
				if i == 17 {
					code = "cm-taken"
				}
				u := models.Unit{Code: code, Name: "单位", Kind: "department", Path: "/" + code + "/"}
				a := []models.AuditEntry{{Method: "POST", Path: "/committer", Target: code, Status: 201, Outcome: "ok"}}
				errs[i] = c.Insert(ctx, &u, &a)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if (err != nil) != (i == 17) {
				t.Errorf("request %d: %v", i, err)
			}
		}
		var units, audits int64
		db.Table("units").Where("code LIKE ? AND code <> ?", "cm-%", "cm-taken").Count(&units)
		db.Table("audit_log").Where("path = ?", "/committer").Count(&audits)
		if units != n-1 || audits != n-1 {
			t.Fatalf("stored %d units and %d audit entries, want %d each", units, audits, n-1)
		}
	})
}
