// Package pricing knows how Meta prices WhatsApp messages: its rate-card CSV,
// the markets recipients' calling codes fall into (dated, as Meta moves
// countries between markets), and quotes answered from memory.
package pricing
