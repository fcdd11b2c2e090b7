package migrations_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"redress/calendar"
	"redress/migrations"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
)

// TestSlotFoldedIntoCaseLink: 00029 moves every evaluator slot onto its rating's case link and
// drops evaluation_slots, the unique index on the links keeps one slot per case, evaluator and
// number, a link stored without a slot claims none, Down gives the slots back as they were,
// and a slot whose link is missing stops the upgrade with nothing changed rather than be lost.
func TestSlotFoldedIntoCaseLink(t *testing.T) {
	ctx := context.Background()
	const slotsQ = "SELECT case_no, evaluator_key, slot, evaluation_id FROM evaluation_slots ORDER BY case_no, evaluator_key, slot"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		statstest.Seed(t, db)
		statstest.Generate(t, db, 29, 60, time.Date(2025, 3, 2, 0, 0, 0, 0, calendar.Zone()), 20*24*time.Hour)
		if err := migrations.DownTo(ctx, db.SQL(), db.Dialect, 28); err != nil {
			t.Fatalf("down to 28: %v", err)
		}
		exec := func(q string, args ...any) error {
			t.Helper()
			return db.WithContext(ctx).Exec(q, args...).Error
		}
		// Slots as intake stores them, first ratings and follow-ups, for every link but one.
		if err := exec(`INSERT INTO evaluation_slots (case_no, evaluator_key, slot, evaluation_id)
			SELECT case_no, 'phone:' || evaluation_id, CASE WHEN evaluation_id < (SELECT max(evaluation_id) FROM evaluation_cases) THEN 0 ELSE 2 END, evaluation_id
			  FROM evaluation_cases WHERE evaluation_id <> (SELECT min(evaluation_id) FROM evaluation_cases)`); err != nil {
			t.Fatal(err)
		}
		slots := storetest.QueryLines(t, db, slotsQ)
		if len(slots) < 50 {
			t.Fatalf("only %d slots seeded", len(slots))
		}
		if _, err := migrations.Up(ctx, db.SQL(), db.Dialect); err != nil {
			t.Fatalf("up from 28: %v", err)
		}
		if got := storetest.QueryLines(t, db, "SELECT case_no, evaluator_key, slot, evaluation_id FROM evaluation_cases WHERE evaluator_key IS NOT NULL ORDER BY case_no, evaluator_key, slot"); !slices.Equal(got, slots) {
			t.Fatalf("the links carry other slots than were stored:\nlinks %v\nslots %v", got, slots)
		}
		if got := storetest.QueryLines(t, db, "SELECT count(*) FROM evaluation_cases WHERE evaluator_key IS NULL AND slot IS NULL"); !slices.Equal(got, []string{"1"}) {
			t.Errorf("links without a slot: %v, want the one stored without", got)
		}
		if err := exec("SELECT count(*) FROM evaluation_slots"); err == nil {
			t.Error("evaluation_slots is still there")
		}
		// A second first rating of a case by the same evaluator, from another rating: refused.
		var caseNo, key, other string
		if err := db.SQL().QueryRowContext(ctx, `SELECT c.case_no, c.evaluator_key, (SELECT min(o.evaluation_id) FROM evaluation_cases o
			  WHERE NOT EXISTS (SELECT 1 FROM evaluation_cases p WHERE p.evaluation_id = o.evaluation_id AND p.case_no = c.case_no))
			FROM evaluation_cases c WHERE c.slot = 0 ORDER BY c.evaluation_id LIMIT 1`).Scan(&caseNo, &key, &other); err != nil {
			t.Fatal(err)
		}
		if err := exec("INSERT INTO evaluation_cases (evaluation_id, case_no, evaluator_key, slot) VALUES (?, ?, ?, 0)", other, caseNo, key); err == nil {
			t.Errorf("a second slot 0 of case %s and %s was stored", caseNo, key)
		}
		if err := exec("INSERT INTO evaluation_cases (evaluation_id, case_no, evaluator_key, slot) VALUES (?, ?, ?, 1)", other, caseNo, key); err != nil {
			t.Errorf("a follow-up's slot 1 beside the first rating's: %v", err)
		}
		if err := exec("DELETE FROM evaluation_cases WHERE evaluation_id = ? AND case_no = ?", other, caseNo); err != nil {
			t.Fatal(err)
		}

		if err := migrations.DownTo(ctx, db.SQL(), db.Dialect, 28); err != nil {
			t.Fatalf("down to 28 again: %v", err)
		}
		if got := storetest.QueryLines(t, db, slotsQ); !slices.Equal(got, slots) {
			t.Fatalf("Down gave back other slots:\ngot  %v\nwant %v", got, slots)
		}
		// A slot without its link: the upgrade stops, the slots stay, the schema stays at 28.
		var evalID string
		if err := db.SQL().QueryRowContext(ctx, "SELECT max(evaluation_id) FROM evaluation_slots").Scan(&evalID); err != nil {
			t.Fatal(err)
		}
		if err := exec("DELETE FROM evaluation_cases WHERE evaluation_id = ?", evalID); err != nil {
			t.Fatal(err)
		}
		if _, err := migrations.Up(ctx, db.SQL(), db.Dialect); err == nil {
			t.Fatal("the upgrade folded a slot without its case link")
		}
		if got := storetest.QueryLines(t, db, slotsQ); !slices.Equal(got, slots) {
			t.Fatalf("the failed upgrade changed the slots:\ngot  %v\nwant %v", got, slots)
		}
		if err := exec("SELECT evaluator_key FROM evaluation_cases"); err == nil {
			t.Error("the failed upgrade left its columns on the links")
		}
	})
}
