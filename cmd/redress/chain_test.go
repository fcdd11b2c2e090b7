//go:build unix

package main

import (
	"fmt"
	"testing"
	"time"

	"redress/models"
)

// TestDevKill9WithTimerPending: `redress dev` is killed with SIGKILL while an order's short
// timers are pending (a sign deadline of {"duration": "8s"}: reminder at 6 s, breach at 8 s),
// stays down past the reminder's instant, and is started again: the timers still fire — the
// reminder at once on restart, the breach and its supervision notice on time — and the
// notifications reach the local inbox.
func TestDevKill9WithTimerPending(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server in child processes")
	}
	cleanEnv(t)
	dir := prepareDataDir(t)
	db := openData(t, dir)
	var unit models.Unit
	if err := db.Where("code = ?", "sz-ft-tax").Take(&unit).Error; err != nil {
		t.Fatal(err)
	}
	eight := "8s"
	doc := models.PolicyDoc{Deadlines: map[string]models.Budget{"sign": {Duration: &eight}}, RemindBefore: "25%"}
	if err := db.Create(&models.Policy{UnitID: unit.ID, Doc: models.NewJSON(doc)}).Error; err != nil {
		t.Fatal(err)
	}

	c := startChild(t, dir)
	channel, officer := token(t, dir, "channel"), token(t, dir, "ft-officer")
	id := newBadRating("kill-timer").post(t, c.base, channel)
	waitState(t, c.base, officer, id, "dispatched")
	var wo models.WorkOrder
	if err := db.Where("id = ?", id).Take(&wo).Error; err != nil {
		t.Fatal(err)
	}
	var start time.Time
	for _, d := range wo.Deadlines.V {
		if d.Name == "sign" {
			start = d.Start
		}
	}
	if start.IsZero() || time.Since(start) > 5*time.Second {
		t.Fatalf("sign clock started at %s (now %s): too late to kill before the reminder", start, time.Now())
	}
	c.kill(t)
	if n := count(t, db, "SELECT COUNT(*) FROM timeline_events WHERE work_order_id = ? AND type = 'reminder'", id); n != 0 {
		t.Fatalf("reminder before the kill")
	}
	// Down past the reminder's instant (6 s), up again before the breach (8 s) if the start is
	// quick, after it if not: either way both must fire.
	time.Sleep(time.Until(start.Add(6500 * time.Millisecond)))
	restarted := time.Now()
	c = startChild(t, dir)

	type ev struct {
		Type string
		At   time.Time
		Data models.JSON[map[string]any]
	}
	var evs []ev
	deadline := time.Now().Add(waitLimit)
	for {
		evs = nil
		if err := db.Table("timeline_events").Where("work_order_id = ?", id).Order("seq").Find(&evs).Error; err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range evs {
			seen[e.Type] = true
		}
		if seen["reminder"] && seen["supervision"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timers did not fire after restart: %+v", evs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, e := range evs {
		switch e.Type {
		case "reminder":
			if e.At.Before(start.Add(6*time.Second)) || e.At.After(restarted.Add(waitLimit)) {
				t.Errorf("reminder at +%s", e.At.Sub(start))
			}
		case "supervision":
			due := start.Add(8 * time.Second)
			late := e.At.Sub(due)
			if restarted.After(due) {
				late = e.At.Sub(restarted)
			}
			if e.At.Before(due) || late > 20*time.Second {
				t.Errorf("supervision at +%s (due +8s, restarted at +%s)", e.At.Sub(start), restarted.Sub(start))
			}
			if fmt.Sprint(e.Data.V["level"]) != "1" {
				t.Errorf("supervision level %v", e.Data.V["level"])
			}
		}
	}
	// Each timer fired once, whatever the kill interrupted.
	if n := count(t, db, "SELECT COUNT(*) FROM timeline_events WHERE work_order_id = ? AND type = 'reminder'", id); n != 1 {
		t.Errorf("%d reminders", n)
	}
	deadline = time.Now().Add(waitLimit)
	for count(t, db, "SELECT COUNT(*) FROM notification_inbox WHERE work_order_id = ? AND template = 'supervision' AND role = 'unit_leader'", id) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the supervision notice did not reach the unit leader's inbox")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM notification_inbox WHERE work_order_id = ? AND template = 'new_order'", id); n != 2 {
		t.Errorf("%d new-order messages (officer and leader expected)", n)
	}
	sign(t, c.base, officer, id)
	// Without an SMS gateway, dev keeps the evaluator's SMS in the local inbox, masked.
	deadline = time.Now().Add(waitLimit)
	for count(t, db, "SELECT COUNT(*) FROM notification_inbox WHERE work_order_id = ? AND template = 'callback_notice' AND address = '138****1234' AND body NOT LIKE '%13800001234%'", id) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the callback notice SMS is not in the dev inbox, masked")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
