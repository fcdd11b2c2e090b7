package store

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"
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

	once sync.Once
	jobs chan *commitJob
}

type commitJob struct {
	rows []any
	done chan error
}

// Insert stores rows (as InsertAll takes them) with those of concurrent callers and returns
// once they are committed or refused. The write does not depend on ctx once handed over: a
// caller that goes away does not cancel the rows of the others.
func (c *Committer) Insert(ctx context.Context, rows ...any) error {
	c.once.Do(c.start)
	j := &commitJob{rows: rows, done: make(chan error, 1)}
	select {
	case c.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-j.done
}

func (c *Committer) start() {
	if c.MaxGroup <= 0 {
		c.MaxGroup = 64
	}
	if c.Writers <= 0 {
		c.Writers = 4
	}
	c.jobs = make(chan *commitJob, 4*c.MaxGroup)
	// The writers live as long as the process: a Committer belongs to a long-lived service.
	for range c.Writers {
		go c.write()
	}
}

func (c *Committer) write() {
	for j := range c.jobs {
		group := []*commitJob{j}
	gather:
		for len(group) < c.MaxGroup {
			select {
			case j := <-c.jobs:
				group = append(group, j)
			default:
				break gather
			}
		}
		c.commit(group)
	}
}

func (c *Committer) commit(group []*commitJob) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if len(group) > 1 {
		merged, err := mergeRows(group)
		if err == nil {
			err = InsertAll(ctx, c.DB, merged...)
		}
		if err == nil {
			for _, j := range group {
				j.done <- nil
			}
			return
		}
	}
	for _, j := range group {
		j.done <- InsertAll(ctx, c.DB, j.rows...)
	}
}

// mergeRows joins the rows of a group per model type, in the order the types first appear
// (parents before children, as each request lists them): a pointer to one slice per type.
func mergeRows(group []*commitJob) ([]any, error) {
	var order []reflect.Type
	byType := map[reflect.Type]reflect.Value{}
	add := func(v reflect.Value) {
		t := v.Type()
		s, ok := byType[t]
		if !ok {
			s = reflect.MakeSlice(reflect.SliceOf(t), 0, len(group))
			order = append(order, t)
		}
		byType[t] = reflect.Append(s, v)
	}
	for _, j := range group {
		for _, r := range j.rows {
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
