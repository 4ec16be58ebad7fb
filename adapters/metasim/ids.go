package metasim

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// idSource mints Meta-looking identifiers; every id embeds a unique sequence number, so no two repeat.
type idSource struct {
	seq  atomic.Uint64
	salt uint64
}

// splitmix is the SplitMix64 finaliser: a bijection on uint64, so distinct inputs stay distinct.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// noise returns size (≥8) bytes whose first eight are unique to this call.
func (g *idSource) noise(size int) []byte {
	x := splitmix(g.seq.Add(1) ^ g.salt)
	b := binary.BigEndian.AppendUint64(make([]byte, 0, size+8), x)
	for len(b) < size {
		x = splitmix(x)
		b = binary.BigEndian.AppendUint64(b, x)
	}
	return b[:size]
}

// numericID is a unique decimal id of the given width (Page ids, PSIDs, media ids…).
func (g *idSource) numericID(width int) string { return fixedDigits(g.seq.Add(1)^g.salt, width) }

// fixedDigits maps n to a width-digit decimal without leading zero; injective for n < 9·10^(width-1).
func fixedDigits(n uint64, width int) string {
	lo := uint64(1)
	for range width - 1 {
		lo *= 10
	}
	// 982451653 is prime and coprime with 9·10^k, so multiplying permutes the residues.
	return strconv.FormatUint(lo+(n*982451653)%(9*lo), 10)
}

// messengerMID looks like Messenger's "m_…" message ids.
func (g *idSource) messengerMID() string {
	return "m_" + base64.RawURLEncoding.EncodeToString(g.noise(66))
}

// instagramMID looks like Instagram's mids: base64 of "ig_message_item:…", hence the "aWdf" prefix.
func (g *idSource) instagramMID(igID string) string {
	n := g.noise(16)
	raw := fmt.Sprintf("ig_message_item:1:IGMessageThread:%s:%d%d", igID, binary.BigEndian.Uint64(n), binary.BigEndian.Uint64(n[8:]))
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// mid is the message id format of a Messenger or Instagram account.
func (g *idSource) mid(app App, accountID string) string {
	if app == Instagram {
		return g.instagramMID(accountID)
	}
	return g.messengerMID()
}

// wamid looks like WhatsApp's ids: "wamid." + base64 of a small record holding the user's number.
func (g *idSource) wamid(user string) string {
	b := []byte{0x1c, 0x18, byte(len(user))}
	b = append(b, user...)
	b = append(b, 0x15, 0x02, 0x00, 0x12, 0x18, 0x14)
	b = append(b, strings.ToUpper(hex.EncodeToString(g.noise(10)))...)
	b = append(b, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}

// traceID looks like an fbtrace_id.
func (g *idSource) traceID() string {
	return base64.RawURLEncoding.EncodeToString(g.noise(17))[:23]
}

// token is an opaque Meta token (OTN, notification_messages).
func (g *idSource) token() string {
	return base64.RawURLEncoding.EncodeToString(g.noise(36))
}
