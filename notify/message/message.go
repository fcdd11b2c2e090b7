// Package message is what a workflow asks the notifications outbox to send: the Message a
// timeline event carries, its channels and recipient kinds, and the registered templates that
// render it. It imports nothing that stores or sends (no database, no HTTP), so that workflow
// code, which must stay deterministic and never touch storage, can build messages without
// linking the outbox that delivers them (package notify).
package message

// Channels.
const (
	ChannelSMS   = "sms"   // to the evaluator's phone
	ChannelInbox = "inbox" // in-system message to staff
)

// Recipient kinds.
const (
	KindEvaluator = "evaluator"
	KindStaff     = "staff"
)

// Message is a notification a timeline event asks for. Key names the recipient within the
// event (the outbox id is notify.Key(event id, Key)). Its JSON is part of the RecordEvent
// activity's input, recorded in workflow histories: keep the tags.
type Message struct {
	Key      string            `json:"key"`
	Channel  string            `json:"channel"`
	Kind     string            `json:"kind"`
	UnitPath string            `json:"unit_path,omitempty"` // staff: the unit whose role holders receive it
	Role     string            `json:"role,omitempty"`
	Template string            `json:"template"`
	Params   map[string]string `json:"params,omitempty"`
	// Track asks for a fresh tracking token for the evaluator: only its hash is stored, and the
	// message carries the token until it is sent.
	Track bool `json:"track,omitempty"`
}
