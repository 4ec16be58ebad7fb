package meta

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Class is what a failed send means for the caller.
type Class string

// Classes of send failure.
const (
	// WindowClosed: the messaging window is shut; send a template or a tag, or wait for the customer.
	WindowClosed Class = "window_closed"
	// RateLimited: Meta wants us to slow down; retry later with backoff and jitter.
	RateLimited Class = "rate_limited"
	// Transient: Meta never got the request; it is safe to send it again.
	Transient Class = "transient"
	// Ambiguous: Meta may have accepted the message (5xx, timeout after the request
	// left). Reconcile (wait for its echo or status) before sending again.
	Ambiguous Class = "ambiguous"
	// AuthExpired: the token is dead; the channel needs re-authorisation.
	AuthExpired Class = "auth_expired"
	// Permanent: sending the same thing again will fail the same way.
	Permanent Class = "permanent"
)

// Retryable reports whether the same request may be sent again later.
func (c Class) Retryable() bool {
	return c == RateLimited || c == Transient || c == Ambiguous
}

// MaybeDelivered reports whether the customer may already have the message.
func (c Class) MaybeDelivered() bool { return c == Ambiguous }

// CodeMarketingOptedOut is WhatsApp's refusal of a marketing message to a
// customer who stopped them: the opt-out is recorded wherever it is seen.
const CodeMarketingOptedOut = 131050

// codeRule is one line of the classification table. Subcode 0 matches any subcode.
type codeRule struct {
	code, subcode int
	class         Class
}

// rules is the one table of Meta error codes (https://developers.facebook.com/docs/messenger-platform/error-codes,
// https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
// Codes not listed are Permanent.
var rules = []codeRule{
	{10, 2018278, WindowClosed}, // Messenger: sent outside the allowed window
	{10, 2534022, WindowClosed}, // Instagram: sent outside the allowed window
	{131047, 0, WindowClosed},   // WhatsApp re-engagement: >24h since the customer's last message

	// "This person isn't available right now": blocked us, deactivated, or cannot
	// be reached. No template or tag reaches them, so it is Permanent, not
	// WindowClosed, although one Meta page labels 1545041 "window closed".
	{551, 0, Permanent},
	{200, 1545041, Permanent},

	{4, 0, RateLimited},      // application request limit
	{17, 0, RateLimited},     // user request limit
	{32, 0, RateLimited},     // page request limit
	{613, 0, RateLimited},    // call rate; 613/2018338 tagged-message cap; 613/2534040 Instagram
	{80007, 0, RateLimited},  // WhatsApp business account rate limit
	{130429, 0, RateLimited}, // WhatsApp throughput reached
	{131056, 0, RateLimited}, // WhatsApp pair rate limit (one message per 6 s to one user)

	{190, 0, AuthExpired}, // access token expired, revoked or invalidated
	{102, 0, AuthExpired}, // session key invalid

	{1, 0, Ambiguous},      // unknown error; Meta says retry
	{2, 0, Ambiguous},      // service temporarily unavailable
	{131000, 0, Ambiguous}, // WhatsApp: something went wrong
	{131016, 0, Ambiguous}, // WhatsApp: service unavailable

	// Listed to say so: these never succeed on retry.
	{100, 0, Permanent},    // invalid parameter, incl. retired tags and dead notification tokens
	{131026, 0, Permanent}, // undeliverable
	{131048, 0, Permanent}, // spam rate limit: retrying deepens the quality problem
	{131049, 0, Permanent}, // marketing cap / US marketing pause
	{CodeMarketingOptedOut, 0, Permanent},
}

// ClassOf classifies a Meta error code, as found in a Graph answer or in the
// errors of a failed WhatsApp status.
func ClassOf(code, subcode int) Class {
	for _, r := range rules {
		if r.code == code && r.subcode == subcode && subcode != 0 {
			return r.class
		}
	}
	for _, r := range rules {
		if r.code == code && r.subcode == 0 {
			return r.class
		}
	}
	return Permanent
}

// Classify says what a send error means. A nil error has no class ("").
func Classify(err error) Class {
	if err == nil {
		return ""
	}
	var ge *GraphError
	if errors.As(err, &ge) {
		return classifyGraph(ge)
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		if ne.RequestSent {
			return Ambiguous
		}
		return Transient
	}
	return Permanent // local errors (invalid outbound, encoding) repeat identically
}

func classifyGraph(ge *GraphError) Class {
	if ge.Code != 0 {
		if c := ClassOf(ge.Code, ge.Subcode); c != Permanent || listed(ge.Code) {
			return c
		}
	}
	switch {
	case ge.HTTPStatus == 429:
		return RateLimited
	case ge.HTTPStatus >= 500:
		return Ambiguous // Meta may have accepted it before failing
	case ge.IsTransient:
		return Ambiguous
	}
	return Permanent
}

func listed(code int) bool {
	for _, r := range rules {
		if r.code == code {
			return true
		}
	}
	return false
}

// Backoff is how long to wait before attempt number attempt (1-based) of a
// retryable class: exponential, capped, with jitter so that many workers hit
// by the same rate limit do not return together. Zero for other classes.
func Backoff(c Class, attempt int) time.Duration {
	if !c.Retryable() {
		return 0
	}
	base, ceiling := 2*time.Second, 5*time.Minute
	if c == RateLimited {
		base, ceiling = 30*time.Second, 30*time.Minute
	}
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	// Equal jitter: at least half the delay, so backoff still grows.
	return d/2 + rand.N(d/2+1)
}
