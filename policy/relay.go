package policy

import "time"

// LegAuthor says who wrote a group message that goes out as one leg per
// member of a relay group.
type LegAuthor int

// Authors of a relay leg.
const (
	// LegFromCustomer: another member wrote it. We re-send it; no person of the
	// business typed it, so it is automated and never HUMAN_AGENT (§1.2).
	LegFromCustomer LegAuthor = iota
	// LegFromAgent: a person of the business wrote it in the group; on each leg
	// it is that person's reply, so HUMAN_AGENT applies where the rules allow.
	LegFromAgent
	// LegPoll: a poll we render from the agent's question; automated.
	LegPoll
)

// LegSend is the intent one leg of a relay group (or a poll) is judged as,
// for its own recipient on their own app: the one place this mapping lives.
func LegSend(author LegAuthor) Send {
	switch author {
	case LegFromAgent:
		return Send{Kind: SendHumanReply}
	case LegPoll:
		return Send{Kind: SendPoll, Proactive: true}
	}
	return Send{Kind: SendRelay, Proactive: true}
}

// DecideLeg judges one leg for its recipient's facts.
func DecideLeg(f Facts, author LegAuthor, now time.Time) Decision {
	f.Send = LegSend(author)
	return Decide(f, now)
}
