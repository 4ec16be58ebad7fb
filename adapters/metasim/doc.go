// Package metasim is a local stand-in for Meta: the Graph API send endpoints of Messenger,
// Instagram Direct and the WhatsApp Cloud API, the signed status webhooks Meta emits after a
// send, and a generator of signed inbound webhooks from a fixed, seeded customer population.
//
// It is written from Meta's documents (the pages under https://developers.facebook.com/documentation/business-messaging/
// and https://developers.facebook.com/docs/whatsapp/cloud-api/), not from our code,
// and imports only the standard library: it answers with Meta's wire shapes and error codes,
// enforces Meta's rules by its own injectable clock (windows, retired tags, OTN single use,
// marketing opt-outs, the paused US marketing), and throttles each account with an honest
// token bucket. Tests, benchmarks and the demo point GRAPH_API_URL at it.
//
// Where Meta's documents are silent or contradictory, the simulator makes one choice and says
// so in a comment marked "Assumption:".
package metasim
