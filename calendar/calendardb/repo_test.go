package calendardb

import (
	"context"
	"errors"
	"strings"
	"testing"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// The repository checks the caller itself: a handler that forgot to resolve the unit within
// the caller's reach still cannot change another unit's calendar or import a national year.
func TestRepositoryChecksTheCaller(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	r := Repository{DB: db}
	szAdmin := store.Caller{Login: "sz-admin", Grants: []store.Grant{{Role: models.RoleAdministrator, UnitPath: "/gd/sz/"}}}
	in := OverrideInput{UnitPath: "/gd/gz/", Date: "2025-03-14", OffDay: true, Reason: "台风停工"}
	if _, err := r.SetOverride(ctx, szAdmin, in); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("override of another city: %v", err)
	}
	if _, err := r.RemoveOverride(ctx, szAdmin, "/gd/gz/", "2025-03-14"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removal in another city: %v", err)
	}
	if _, err := r.Overrides(ctx, szAdmin, "/gd/gz/"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("overrides of another city: %v", err)
	}
	if _, err := r.Import(ctx, szAdmin, strings.NewReader(file2027)); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("a city's administrator imported a national year: %v", err)
	}
	in.UnitPath = "/gd/sz/sz-ft/"
	ch, err := r.SetOverride(ctx, szAdmin, in)
	if err != nil || !ch.Changed {
		t.Fatalf("override within the city: %+v %v", ch, err)
	}
	list, err := r.Overrides(ctx, szAdmin, "/gd/sz/")
	if err != nil || len(list) != 1 || list[0].CreatedBy != "sz-admin" {
		t.Fatalf("overrides %+v %v", list, err)
	}
	province := store.Caller{Login: "gd-admin", Grants: []store.Grant{{Role: models.RoleAdministrator, UnitPath: "/gd/"}}}
	res, err := r.Import(ctx, province, strings.NewReader(file2027))
	if err != nil || res.Version != "2027.1" {
		t.Fatalf("the province's import: %+v %v", res, err)
	}
	vs, err := r.Versions(ctx)
	if err != nil || len(vs) != 1 || vs[0].Source != "api:gd-admin" {
		t.Fatalf("versions %+v %v", vs, err)
	}
}
