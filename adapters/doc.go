// Package adapters holds the one normalised model that every Meta webhook parser
// produces (Event) and every sender consumes (Outbound), plus the small Sender
// interface the job workers call. It knows nothing of wire formats: those live in
// the per-app packages messenger, instagram and whatsapp, and the shared Graph
// transport in meta.
package adapters
