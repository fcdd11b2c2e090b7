package workflows

import (
	"fmt"
	"time"

	"redress/models"
	"redress/notify/message"
)

// Who is told what. Messages ride on the timeline event that causes them and enter the outbox in
// its transaction (see activities.RecordEvent), so an order's notifications are exactly its
// events' notifications, once each.

func staffMsg(template, unitPath, role string, params map[string]string) message.Message {
	return message.Message{Key: "staff:" + role + ":" + unitPath, Channel: message.ChannelInbox, Kind: message.KindStaff,
		UnitPath: unitPath, Role: role, Template: template, Params: params}
}

// toUnit addresses the officers and the leader of the unit holding the order (the
// administration's administrators while it waits for dispatch).
func (w *workOrder) toUnit(template string, params map[string]string) []message.Message {
	if w.Snapshot.Unit == nil {
		return w.toAdmins(template, params)
	}
	return []message.Message{
		staffMsg(template, w.Snapshot.Unit.Path, models.RoleOfficer, params),
		staffMsg(template, w.Snapshot.Unit.Path, models.RoleUnitLeader, params),
	}
}

// toAdmins addresses the administrators of the order's administration.
func (w *workOrder) toAdmins(template string, params map[string]string) []message.Message {
	return []message.Message{staffMsg(template, w.Snapshot.Admin.Path, models.RoleAdministrator, params)}
}

// toSupervision addresses a supervision notice: the unit's leader and the supervisors whose
// subtree covers the unit; listed supervision (level 2) also the auditors (效能监督).
func (w *workOrder) toSupervision(level int, params map[string]string) []message.Message {
	path := w.unitPath()
	out := []message.Message{staffMsg("supervision", path, models.RoleSupervisor, params)}
	if w.Snapshot.Unit != nil {
		out = append(out, staffMsg("supervision", path, models.RoleUnitLeader, params))
	} else {
		out = append(out, staffMsg("supervision", path, models.RoleAdministrator, params))
	}
	if level >= 2 {
		out = append(out, staffMsg("supervision", path, models.RoleAuditor, params))
	}
	return out
}

// toOwner addresses the owner of a clock: the unit's officers and leader, or the
// administration's administrators; nobody for the evaluator's own window.
func (w *workOrder) toOwner(owner models.DeadlineOwner, template string, params map[string]string) []message.Message {
	switch owner.Kind {
	case models.OwnerEvaluator:
		return nil
	case models.OwnerAdministration:
		return []message.Message{staffMsg(template, owner.Path, models.RoleAdministrator, params)}
	case models.OwnerUnit:
		return []message.Message{
			staffMsg(template, owner.Path, models.RoleOfficer, params),
			staffMsg(template, owner.Path, models.RoleUnitLeader, params),
		}
	}
	return w.toUnit(template, params)
}

// toSupervisionOf addresses a supervision notice about a clock to its owner alone: a unit's
// leader and the supervisors over the unit, or, for the administration's own delay, the
// administration's leadership (its unit leader and administrators) and the supervisors of its
// jurisdiction — never the unit's officers. Listed supervision also goes to the auditors.
func (w *workOrder) toSupervisionOf(owner models.DeadlineOwner, level int, params map[string]string) []message.Message {
	if owner.Kind != models.OwnerAdministration {
		return w.toSupervision(level, params)
	}
	path := owner.Path
	out := []message.Message{
		staffMsg("supervision", path, models.RoleSupervisor, params),
		staffMsg("supervision", path, models.RoleUnitLeader, params),
		staffMsg("supervision", path, models.RoleAdministrator, params),
	}
	if level >= 2 {
		out = append(out, staffMsg("supervision", path, models.RoleAuditor, params))
	}
	return out
}

// toEvaluator addresses an SMS to the evaluator; nothing when the rating was anonymous.
func (w *workOrder) toEvaluator(template string, track bool, params map[string]string) []message.Message {
	if !w.RealName {
		return nil
	}
	return []message.Message{{Key: "evaluator:" + template, Channel: message.ChannelSMS, Kind: message.KindEvaluator,
		Template: template, Params: params, Track: track}}
}

// params are the message parameters every template may use.
func (w *workOrder) params(extra ...string) map[string]string {
	p := map[string]string{"order": shortID(w.input.WorkOrderID)}
	if w.Snapshot.Unit != nil {
		p["unit"] = w.Snapshot.Unit.Name
	} else {
		p["unit"] = w.Snapshot.Admin.Name
	}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return p
}

// dueParam renders a deadline's instant for a message ("" when it is not computed).
func (w *workOrder) dueParam(name string) string {
	d := w.current(name)
	if d == nil || !d.computed() {
		return ""
	}
	return fmtCST(d.Calc.DueAt)
}

// fmtCST words an instant for a message in China Standard Time. A deadline that passes at
// midnight ends at 24:00 of the day before (民法典 art. 203): it reads "2026-10-10 24:00", the
// one wording that the tracking page and the staff pages use too, not "2026-10-11 00:00",
// which reads as a day later.
func fmtCST(t time.Time) string {
	c := t.In(time.FixedZone("CST", 8*3600))
	if c.Hour() == 0 && c.Minute() == 0 && c.Second() == 0 && c.Nanosecond() == 0 {
		return c.AddDate(0, 0, -1).Format("2006-01-02") + " 24:00"
	}
	return c.Format("2006-01-02 15:04")
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func deadlineLabel(name string) string {
	if l, ok := message.DeadlineLabels[name]; ok {
		return l
	}
	return name
}

func levelLabel(level int) string { return message.LevelLabels[fmt.Sprint(level)] }

// recipients summarises messages for the timeline (who was told, never an address).
func recipients(msgs []message.Message) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if m.Kind == message.KindEvaluator {
			out = append(out, "evaluator:"+m.Channel)
		} else {
			out = append(out, m.Role+"@"+m.UnitPath)
		}
	}
	return out
}
