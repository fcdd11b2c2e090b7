package models

import "strings"

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

// Roles lists every assignable role.
var Roles = []string{RoleOfficer, RoleUnitLeader, RoleAdministrator, RoleSupervisor, RoleAuditor, RoleIntegration, RoleSysadmin}

// CoversSubtree reports whether a role held on a unit covers the unit's whole subtree
// (administrator, supervisor, auditor, sysadmin) rather than that unit alone.
func CoversSubtree(role string) bool {
	switch role {
	case RoleAdministrator, RoleSupervisor, RoleAuditor, RoleSysadmin:
		return true
	}
	return false
}

// ReachesSubtree extends CoversSubtree with integration: a channel system registered on a
// jurisdiction posts the cases of all its units.
func ReachesSubtree(role string) bool {
	return CoversSubtree(role) || role == RoleIntegration
}

// GrantCovers reports whether a role held on the unit at grantPath reaches the unit at path:
// the sysadmin every unit, in every tree; a subtree role (ReachesSubtree) the unit's whole
// subtree; any other role that unit alone. It is the one rule of jurisdiction: the data
// layer's scopes (store.Grant, store.Scope) and the work-order validators (who may act on an
// order, and where an order may be sent) all decide with it, so they cannot drift apart.
func GrantCovers(role, grantPath, path string) bool {
	switch {
	case path == "":
		return false
	case role == RoleSysadmin:
		return true
	case grantPath == "":
		return false
	case ReachesSubtree(role):
		return strings.HasPrefix(path, grantPath)
	}
	return path == grantPath
}
