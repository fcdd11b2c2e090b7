package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"redress/migrations"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// evalWithIntake is an evaluation with some of intake's columns (as intake's own row type
// embeds models.Evaluation): an embedded struct, a nullable text beside the model's.
type evalWithIntake struct {
	models.Evaluation `gorm:"embedded"`
	Kind              string
	FollowUpOf        *string
	UnitPath          string
}

func (evalWithIntake) TableName() string { return "evaluations" }

// TestUnnestInsertMatchesGORM: the rows InsertAll stores with its unnest statements on
// PostgreSQL are, column by column, the rows GORM's Create stores from the same values (texts
// with Chinese, NULLs and non-NULLs, JSON, booleans, integers, timestamps to the nanosecond, a
// serial id left to the database). The unnest path is PostgreSQL's only; SQLite's inserts are
// GORM's (TestInsertAll runs both).
func TestUnnestInsertMatchesGORM(t *testing.T) {
	db := storetest.Open(t, migrations.Postgres)
	ctx := context.Background()
	unit := models.Unit{Code: "un-1", Name: "窗口", Kind: "department", Path: "/un-1/"}
	if err := db.Create(&unit).Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"UN-C1", "UN-C2"} {
		if err := db.Create(&models.ServiceCase{ID: c, CaseNo: c, UnitID: unit.ID, CompletedAt: time.Now()}).Error; err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 12, 3, 17, 4, 5, 123456789, time.UTC) // nanoseconds: both must drop the same digits
	wo, up, overall, isBad := "wo-1", "first-1", "差评", true
	rows := func(p string) (*[]evalWithIntake, *[]models.EvaluationCase, *[]models.AuditEntry, *models.AuditEntry) {
		evals := []evalWithIntake{
			{Evaluation: models.Evaluation{ID: p + "e-1", EvaluationID: p + "client-1", Channel: "pc", Overall: "satisfied",
				Levels: models.NewJSON(map[string]string{"overall": "satisfied"}), Tags: models.NewJSON([]string{}),
				Comment: "很好", RatedAt: at, ReceivedAt: at.Add(time.Second), EvaluatorName: "sealed:名", RequestHash: "h1"},
				Kind: "first", UnitPath: "/un-1/"},
			{Evaluation: models.Evaluation{ID: p + "e-2", EvaluationID: p + "client-2", Channel: "app", Overall: "very_dissatisfied",
				Levels: models.NewJSON(map[string]string{"overall": "very_dissatisfied", "speed": "dissatisfied"}),
				Tags:   models.NewJSON([]string{"慢", "it's \"quoted\""}), Bad: true, RatedAt: at.Add(-time.Hour), ReceivedAt: at,
				EvaluatorPhoneHash: "ph", RequestHash: "h2", WorkOrderID: &wo},
				Kind: "follow_up", FollowUpOf: &up},
		}
		links := []models.EvaluationCase{{EvaluationID: p + "e-1", CaseNo: "UN-C1"}, {EvaluationID: p + "e-2", CaseNo: "UN-C1", Overall: &overall, Bad: &isBad}, {EvaluationID: p + "e-2", CaseNo: "UN-C2"}}
		audit := []models.AuditEntry{{At: at, RequestID: p + "r-1", Login: "channel", Roles: "integration@/", Method: "POST", Path: "/api/v1/evaluations", Status: 201, Outcome: "ok", UnitPath: "/", Action: "POST /api/v1/evaluations"},
			{At: at.Add(time.Millisecond), RequestID: p + "r-2", Method: "POST", Path: "/api/v1/evaluations", Target: p + "e-2", Status: 201, Outcome: "ok"}}
		one := models.AuditEntry{At: at, RequestID: p + "r-3", Method: "POST", Path: "/one", Status: 409, Outcome: "refused"}
		return &evals, &links, &audit, &one
	}
	// The rows stored under prefix p, p taken out (the two sets differ only in their keys; the
	// audit log is append-only, so both stay).
	read := func(p string) []string {
		t.Helper()
		var out []string
		for _, q := range []string{
			`SELECT replace(to_jsonb(t)::text, $1, '') FROM evaluations t WHERE id LIKE $1 || '%' ORDER BY id`,
			`SELECT replace(to_jsonb(t)::text, $1, '') FROM evaluation_cases t WHERE evaluation_id LIKE $1 || '%' ORDER BY evaluation_id, case_no`,
			`SELECT replace((to_jsonb(t) - 'id')::text, $1, '') FROM audit_log t WHERE request_id LIKE $1 || '%' ORDER BY request_id`,
		} {
			var part []string
			if err := db.Raw(q, p).Scan(&part).Error; err != nil {
				t.Fatal(err)
			}
			out = append(out, part...)
		}
		return out
	}
	e, l, a, one := rows("gorm-")
	for _, r := range []any{e, l, a, one} {
		if err := db.Create(r).Error; err != nil {
			t.Fatal(err)
		}
	}
	want := read("gorm-")
	if len(want) != 8 {
		t.Fatalf("GORM stored %d rows, want 8", len(want))
	}
	e, l, a, one = rows("unnest-")
	if err := store.InsertAll(ctx, db, e, l, a, one); err != nil {
		t.Fatal(err)
	}
	got := read("unnest-")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("InsertAll stored\n%s\nGORM's Create\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestInsertAllOneStatementPerTable: on PostgreSQL, InsertAll stores any number of one
// table's rows with the same statement text, so the driver prepares it once and PostgreSQL
// plans it once; GORM's Create wrote a text per row count (VALUES (…),(…)…), prepared and
// planned anew for every group size intake's group commit met.
func TestInsertAllOneStatementPerTable(t *testing.T) {
	db := storetest.Open(t, migrations.Postgres)
	db.SQL().SetMaxOpenConns(1) // one session: its prepared statements are the ones counted
	ctx := context.Background()
	for size := 1; size <= 5; size++ {
		entries := make([]models.AuditEntry, size)
		for i := range entries {
			entries[i] = models.AuditEntry{At: time.Now(), RequestID: fmt.Sprintf("r-%d-%d", size, i), Method: "POST", Path: "/sizes", Status: 201, Outcome: "ok"}
		}
		if err := store.InsertAll(ctx, db, &entries); err != nil {
			t.Fatal(err)
		}
	}
	var stored, texts int64
	if err := db.Raw(`SELECT count(*) FROM audit_log WHERE path = '/sizes'`).Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Raw(`SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO "audit_log"%'`).Scan(&texts).Error; err != nil {
		t.Fatal(err)
	}
	if stored != 15 || texts != 1 {
		t.Fatalf("%d rows stored with %d statement texts, want 15 with 1", stored, texts)
	}
}
