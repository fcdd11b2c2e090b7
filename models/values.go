package models

// Levels, best first, as stored (by name) everywhere.
const (
	VerySatisfied      = "very_satisfied"
	Satisfied          = "satisfied"
	BasicallySatisfied = "basically_satisfied"
	Dissatisfied       = "dissatisfied"
	VeryDissatisfied   = "very_dissatisfied"
)

// Levels lists the five levels, best first.
var Levels = []string{VerySatisfied, Satisfied, BasicallySatisfied, Dissatisfied, VeryDissatisfied}

// IsLevel reports whether s is one of the five level names.
func IsLevel(s string) bool {
	for _, l := range Levels {
		if l == s {
			return true
		}
	}
	return false
}

// IsBadLevel reports whether a level makes an evaluation a bad review (差评).
func IsBadLevel(s string) bool { return s == Dissatisfied || s == VeryDissatisfied }

// Channels a rating or case may come through; ChannelDefault is the system's own.
const ChannelDefault = "default"

// Channels lists the channels a client may send.
var Channels = []string{"window_device", "qr_code", "pc", "mobile", "terminal", "hotline", "sms"}

// IsChannel reports whether s is a channel a client may send.
func IsChannel(s string) bool {
	for _, c := range Channels {
		if c == s {
			return true
		}
	}
	return false
}

// Work-order states (API.md).
const (
	StatePendingDispatch = "pending_dispatch"
	StateDispatched      = "dispatched"
	StateReturned        = "returned"
	StateSigned          = "signed"
	StateCalledBack      = "called_back"
	StateRectifying      = "rectifying"
	StateAppealing       = "appealing"
	StateReviewing       = "reviewing"
	StateFeedback        = "feedback"
	StateClosed          = "closed"
)

// Roles (API.md). Citizen and public are implicit.
const (
	RoleOfficer       = "officer"
	RoleUnitLeader    = "unit_leader"
	RoleAdministrator = "administrator"
	RoleSupervisor    = "supervisor"
	RoleAuditor       = "auditor"
	RoleIntegration   = "integration"
	RoleSysadmin      = "sysadmin"
)

// Roles lists every assignable role. How far each reaches from the unit it is held on is the
// scheme's rule (scheme.RoleReach).
var Roles = []string{RoleOfficer, RoleUnitLeader, RoleAdministrator, RoleSupervisor, RoleAuditor, RoleIntegration, RoleSysadmin}

// DefaultRun reports one run of the default-rating job: the result of the ApplyDefaultRatings
// activity, recorded in the DefaultRatings workflow's history (its JSON shape is fixed).
type DefaultRun struct {
	WindowsComputed int `json:"windows_computed"` // cases whose window could be computed only now
	Applied         int `json:"applied"`          // default ratings stored
	Pending         int `json:"pending"`          // cases still without a window (calendar missing)
}
