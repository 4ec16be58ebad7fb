package adapters

import (
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	msg := func(id string) Event {
		return Event{App: WhatsApp, AccountID: "1065", Type: EventMessage, Timestamp: at, Message: &Message{ExternalID: id}}
	}
	status := func(id string, s StatusValue) Event {
		return Event{App: WhatsApp, AccountID: "1065", Type: EventStatus, Timestamp: at, Status: &Status{ExternalID: id, Status: s}}
	}
	participant := func(id, who string) Event {
		e := status(id, StatusDelivered)
		e.GroupID, e.Status.ParticipantID = "120363025246125486", who
		return e
	}
	react := func(action ReactionAction, at time.Time) Event {
		return Event{App: Messenger, AccountID: "1047", Type: EventReaction, Timestamp: at, Customer: Party{ExternalID: "psid"}, Reaction: &Reaction{TargetExternalID: "m_1", Reaction: "love", Action: action}}
	}
	tests := []struct {
		name string
		a, b Event
		same bool
	}{
		{"same wamid", msg("wamid.1"), msg("wamid.1"), true},
		{"other wamid", msg("wamid.1"), msg("wamid.2"), false},
		{"same status twice", status("wamid.1", StatusRead), status("wamid.1", StatusRead), true},
		{"delivered then read", status("wamid.1", StatusDelivered), status("wamid.1", StatusRead), false},
		{"two participants of a group", participant("wamid.1", "39347"), participant("wamid.1", "39348"), false},
		{"one participant twice", participant("wamid.1", "39347"), participant("wamid.1", "39347"), true},
		{"react then unreact", react(React, at), react(Unreact, at), false},
		{"react again later", react(React, at), react(React, at.Add(time.Minute)), false},
		{"retried reaction", react(React, at), react(React, at), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Key() == tt.b.Key(); got != tt.same {
				t.Errorf("keys %q and %q: same = %v, want %v", tt.a.Key(), tt.b.Key(), got, tt.same)
			}
		})
	}
}
