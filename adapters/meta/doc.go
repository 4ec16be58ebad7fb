// Package meta is what Messenger, Instagram and WhatsApp share on the wire:
// webhook signatures and the verify handshake, the Graph API client, Graph
// errors and the one table that classifies them for retries.
package meta
