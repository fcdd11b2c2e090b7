package store

import (
	"context"
	"fmt"
	"reflect"
	"sync"
)

// Committer writes the inserts of concurrent requests together: what requests hand it while a
// write is under way goes into the next one, as one InsertAll of multi-row inserts and one
// commit (group commit). Each request still gets its answer only after its rows are committed.
// Intake stores every rating through it: a statement and a commit per rating were the largest
// cost left in intake's profile (BENCHMARKS.md, point 1).
//
// When a group's write fails (a unique key refusing a repeat, usually), every request of the
// group is written again on its own, so each gets its own answer and no request's rows fail
// because of another's.
type Committer struct {
	DB *DB
	// MaxGroup bounds how many requests' rows go into one write (default 64).
	MaxGroup int
	// Writers is how many groups may be written at once (default 4).
	Writers int

	once  sync.Once
	batch Batch[[]any, error]
}

// Insert stores rows (as InsertAll takes them) with those of concurrent callers and returns
// once they are committed or refused. The write does not depend on ctx once handed over: a
// caller that goes away does not cancel the rows of the others.
func (c *Committer) Insert(ctx context.Context, rows ...any) error {
	c.once.Do(func() {
		c.batch = Batch[[]any, error]{Max: c.MaxGroup, Runners: c.Writers, Run: func(ctx context.Context, groups [][]any) ([]error, error) {
			return InsertGroups(ctx, c.DB, groups), nil
		}}
	})
	err, batchErr := c.batch.Do(ctx, rows)
	if batchErr != nil {
		return batchErr
	}
	return err
}

// InsertGroups stores groups of rows (each as InsertAll takes them) in one InsertAll of
// multi-row inserts, and if that is refused, each group on its own, so that every group is
// answered by its own rows only. The answer's i-th error is groups[i]'s.
func InsertGroups(ctx context.Context, db *DB, groups [][]any) []error {
	errs := make([]error, len(groups))
	if len(groups) > 1 {
		merged, err := MergeRows(groups)
		if err == nil {
			err = InsertAll(ctx, db, merged...)
		}
		if err == nil {
			return errs
		}
	}
	for i, g := range groups {
		errs[i] = InsertAll(ctx, db, g...)
	}
	return errs
}

// MergeRows joins the rows of groups (each as InsertAll takes them) per model type, in the
// order the types first appear (parents before children, as each group lists them): a pointer
// to one slice per type, for one InsertAll of multi-row inserts.
func MergeRows(groups [][]any) ([]any, error) {
	var order []reflect.Type
	byType := map[reflect.Type]reflect.Value{}
	add := func(v reflect.Value) {
		t := v.Type()
		s, ok := byType[t]
		if !ok {
			s = reflect.MakeSlice(reflect.SliceOf(t), 0, len(groups))
			order = append(order, t)
		}
		byType[t] = reflect.Append(s, v)
	}
	for _, g := range groups {
		for _, r := range g {
			v := reflect.ValueOf(r)
			if v.Kind() != reflect.Pointer || v.IsNil() {
				return nil, fmt.Errorf("committer: %T is not a pointer to a model or to a slice of them", r)
			}
			v = v.Elem()
			if v.Kind() == reflect.Slice {
				for i := range v.Len() {
					add(v.Index(i))
				}
				continue
			}
			add(v)
		}
	}
	out := make([]any, len(order))
	for i, t := range order {
		p := reflect.New(reflect.SliceOf(t))
		p.Elem().Set(byType[t])
		out[i] = p.Interface()
	}
	return out, nil
}
