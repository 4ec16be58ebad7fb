package metasim

import (
	"fmt"
	"net/http"
	"strings"
)

// Meta's error codes the simulator answers with (Common Error Codes; WhatsApp error codes).
const (
	CodeUnknown         = 1       // an unknown error occurred (transient)
	CodeService         = 2       // service temporarily unavailable (transient)
	CodeTooManyCalls    = 4       // application request limit reached
	CodePermission      = 10      // permission denied; with a subcode, the messaging window
	CodeParam           = 100     // invalid parameter
	CodeNoToken         = 104     // an access token is required
	CodeToken           = 190     // invalid or expired access token
	CodeCallRate        = 613     // calls to this API have exceeded the rate limit
	CodeUnknownPath     = 2500    // unknown path components
	CodeThroughput      = 130429  // WhatsApp: throughput reached
	CodeGeneric         = 131000  // WhatsApp: something went wrong
	CodeServiceDown     = 131016  // WhatsApp: service unavailable
	CodeInvalidValue    = 131009  // WhatsApp: parameter value is not valid
	CodeUndeliverable   = 131026  // WhatsApp: message undeliverable
	CodeReengagement    = 131047  // WhatsApp: more than 24 hours since the user's last message
	CodeEcosystem       = 131049  // WhatsApp: not delivered to maintain healthy ecosystem engagement
	CodeMarketingOptOut = 131050  // WhatsApp: user stopped marketing messages
	CodeUnsupportedType = 131051  // WhatsApp: unsupported message type (inbound)
	CodePairRate        = 131056  // WhatsApp: (business, consumer) pair rate limit
	CodeTemplateMissing = 132001  // WhatsApp: template does not exist in the translation
	SubWindowMessenger  = 2018278 // outside the allowed window (Messenger)
	SubWindowInstagram  = 2534022 // outside the allowed window (Instagram)
	SubNewsPermission   = 2018065 // needs the news messaging permission
	SubTopicStopped     = 1893015 // the user stopped this topic
	SubTooManyTagged    = 2018338 // too many messages to this person
	SubRateInstagram    = 2534040 // Instagram call rate
	SubUnsupported      = 33      // object does not exist or is not accessible with this token
	SubTokenInvalidated = 460     // session invalidated (token revoked)
)

// metaError is one refusal, worded as Meta words it.
type metaError struct {
	Status    int    // HTTP status
	Code      int    // error.code
	Subcode   int    // error.error_subcode, 0 when Meta sends none
	Type      string // error.type; OAuthException unless set
	Message   string // error.message, "(#code) title"
	UserMsg   string // error.error_user_msg, Meta's longer explanation where it gives one
	Details   string // WhatsApp error_data.details
	Title     string // WhatsApp error title, used in failed-status webhooks
	Transient bool   // error.is_transient
}

// graphErrorBody is Meta's {"error":{...}} body, shared by the three apps; WhatsApp adds error_data.
type graphErrorBody struct {
	Error graphError `json:"error"`
}

type graphError struct {
	Message     string       `json:"message"`
	Type        string       `json:"type"`
	Code        int          `json:"code"`
	Subcode     int          `json:"error_subcode,omitempty"`
	IsTransient bool         `json:"is_transient,omitempty"`
	UserMsg     string       `json:"error_user_msg,omitempty"`
	ErrorData   *waErrorData `json:"error_data,omitempty"`
	FBTraceID   string       `json:"fbtrace_id"`
}

type waErrorData struct {
	MessagingProduct string `json:"messaging_product"`
	Details          string `json:"details"`
}

// writeError answers with Meta's error JSON for the app.
func writeError(w http.ResponseWriter, app App, e *metaError, trace string) {
	body := graphErrorBody{Error: graphError{
		Message:     e.Message,
		Type:        e.Type,
		Code:        e.Code,
		Subcode:     e.Subcode,
		IsTransient: e.Transient,
		UserMsg:     e.UserMsg,
		FBTraceID:   trace,
	}}
	if body.Error.Type == "" {
		body.Error.Type = "OAuthException"
	}
	// Token and path errors come from the Graph layer, before WhatsApp's own error_data exists.
	if app == WhatsApp && e.Code != CodeToken && e.Code != CodeNoToken && e.Code != CodeUnknownPath {
		details := e.Details
		if details == "" {
			details = strings.TrimSpace(e.Message[strings.Index(e.Message, ")")+1:])
		}
		body.Error.ErrorData = &waErrorData{MessagingProduct: "whatsapp", Details: details}
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, body)
}

func errNoToken() *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodeNoToken,
		Message: "An access token is required to request this resource."}
}

func errBadToken() *metaError {
	return &metaError{Status: http.StatusUnauthorized, Code: CodeToken,
		Message: "Invalid OAuth access token - Cannot parse access token"}
}

// Assumption: a revoked token answers like a password change or security reset (subcode 460),
// the subcode Meta documents for sessions it has invalidated.
func errTokenInvalidated() *metaError {
	return &metaError{Status: http.StatusUnauthorized, Code: CodeToken, Subcode: SubTokenInvalidated,
		Message: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."}
}

func errUnsupportedObject(verb, id string) *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodeParam, Subcode: SubUnsupported, Type: "GraphMethodException",
		Message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", verb, id)}
}

func errUnknownPath(path string) *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodeUnknownPath,
		Message: "Unknown path components: " + path}
}

// errParam is Meta's catch-all (#100), also used for retired tags and spent tokens.
func errParam(msg string) *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodeParam, Message: "(#100) " + msg, Details: msg}
}

func errMalformed() *metaError {
	return errParam("The request body could not be parsed as JSON.")
}

func errWindow(app App) *metaError {
	sub := SubWindowMessenger
	if app == Instagram {
		sub = SubWindowInstagram
	}
	return &metaError{Status: http.StatusBadRequest, Code: CodePermission, Subcode: sub,
		Message: "(#10) This message is sent outside of allowed window."}
}

func errRetiredTag(tag string) *metaError {
	e := errParam("Invalid parameter")
	e.UserMsg = "The " + tag + " message tag was retired on 27 April 2026; outside the 24-hour window use HUMAN_AGENT or a utility template."
	return e
}

func errNewsPermission() *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodePermission, Subcode: SubNewsPermission,
		Message: "(#10) This Page is not eligible to send NON_PROMOTIONAL_SUBSCRIPTION messages."}
}

func errTopicStopped() *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodePermission, Subcode: SubTopicStopped,
		Message: "(#10) The person has stopped notifications for this topic."}
}

func errTooManyToPerson() *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodeCallRate, Subcode: SubTooManyTagged,
		Message: "(#613) Too many messages to this person."}
}

// errRate is the per-account throughput refusal: 130429 on WhatsApp, 613 on Messenger and Instagram.
func errRate(app App, status int) *metaError {
	switch app {
	case WhatsApp:
		return &metaError{Status: status, Code: CodeThroughput, Message: "(#130429) Rate limit hit",
			Details: "Cloud API message throughput has been reached."}
	case Instagram:
		return &metaError{Status: status, Code: CodeCallRate, Subcode: SubRateInstagram, Transient: true,
			Message: "(#613) Calls to this api have exceeded the rate limit."}
	default:
		return &metaError{Status: status, Code: CodeCallRate, Transient: true,
			Message: "(#613) Calls to this api have exceeded the rate limit."}
	}
}

func errPairRate() *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodePairRate,
		Message: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
		Details: "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."}
}

func errReengagement() *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodeReengagement, Title: "Re-engagement message",
		Message: "(#131047) Re-engagement message",
		Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}
}

func errTemplateMissing(name, lang string) *metaError {
	return &metaError{Status: http.StatusNotFound, Code: CodeTemplateMissing,
		Message: "(#132001) Template name does not exist in the translation",
		Details: fmt.Sprintf("template name (%s) does not exist in %s", name, lang)}
}

func errInvalidValue(details string) *metaError {
	return &metaError{Status: http.StatusBadRequest, Code: CodeInvalidValue,
		Message: "(#131009) Parameter value is not valid", Details: details}
}

// asyncOptOut is the failed status of a marketing template to a user who stopped marketing.
func asyncOptOut() *metaError {
	return &metaError{Code: CodeMarketingOptOut,
		Title:   "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
		Message: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
		Details: "Message failed to send because the user has chosen to stop receiving marketing messages from this business."}
}

// asyncEcosystem is the failed status Meta gives marketing it will not deliver (caps, the US pause).
func asyncEcosystem() *metaError {
	return &metaError{Code: CodeEcosystem,
		Title:   "This message was not delivered to maintain healthy ecosystem engagement.",
		Message: "This message was not delivered to maintain healthy ecosystem engagement.",
		Details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."}
}

// injectedError is what FailNext answers: Meta's wording for the code when the simulator knows it.
func injectedError(status, code int) *metaError {
	e := &metaError{Status: status, Code: code}
	switch code {
	case CodeUnknown:
		e.Message, e.Transient = "An unknown error has occurred.", true
	case CodeService:
		e.Message, e.Transient = "An unexpected error has occurred. Please retry your request later.", true
	case CodeTooManyCalls:
		e.Message, e.Transient = "(#4) Application request limit reached", true
	case CodeCallRate:
		e.Message, e.Transient = "(#613) Calls to this api have exceeded the rate limit.", true
	case CodeThroughput:
		e.Message, e.Details = "(#130429) Rate limit hit", "Cloud API message throughput has been reached."
	case CodeGeneric:
		e.Message, e.Details = "(#131000) Something went wrong", "Something went wrong."
	case CodeServiceDown:
		e.Message, e.Details = "(#131016) Service unavailable", "A service is temporarily unavailable."
	case CodeToken:
		return errBadToken()
	case CodeMarketingOptOut: // Meta's words for it, answered at send time
		opt := asyncOptOut()
		opt.Status = status
		e = opt
	default:
		e.Message = fmt.Sprintf("(#%d) Simulated failure", code)
	}
	if e.Status == 0 {
		e.Status = http.StatusInternalServerError
	}
	return e
}
