package models

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// The inbox list reads fifty threads a page, a thread a row, and pgx's
// generic Scan (a scan plan, an interface call and often an allocation per
// column) cost more than the query. decodeThreadRow reads the row's binary
// columns directly: the same values Scan gives (fast_test.go compares them
// with gorm's), with one allocation for a thread's optional fields and
// none for the few words kind, status and the like take; a row that only
// adds a participant or label to the thread before it is not re-read.

// textOID is text's type: its text and binary formats are the same bytes
// (pgx asks for text in the text format).
const textOID = 25

// threadRowOIDs are the column types of queue's statement, in order.
var threadRowOIDs = []uint32{
	20, 20, 20, 25, 25, 20, 25, 25, 1009, 25, 1184, 20, 1184, 25, 25, 1184, 23, 1184, 1184, // threadColumns
	16, 20, 20, 25, 25, 25, 25, // x.participant, id, contact_id, app, external_id, name, extra
}

// decodable reports whether rows are the binary columns decodeThreadRow reads.
func decodable(rows pgx.Rows) bool {
	fds := rows.FieldDescriptions()
	if len(fds) != len(threadRowOIDs) {
		return false
	}
	for i, fd := range fds {
		if fd.DataTypeOID != threadRowOIDs[i] || (fd.Format != pgx.BinaryFormatCode && fd.DataTypeOID != textOID) {
			return false
		}
	}
	return true
}

// threadOptional holds a thread's nullable columns, so one allocation
// backs all its pointers.
type threadOptional struct {
	channelID, directIdentityID, assigneeID int64
	externalGroupID                         string
	snoozedUntil, lastCustomerAt            time.Time
}

// threadExtra is the participant or label a row carries besides its thread.
type threadExtra struct {
	participant, isNull                bool
	id, contactID                      int64
	app, externalID, name, roleOrColor string
}

var errBadBinary = errors.New("models: malformed binary column")

// rowDecoder reads binary column values, keeping the first error.
type rowDecoder struct{ err error }

func (d *rowDecoder) int8(b []byte) int64 {
	if len(b) != 8 {
		d.err = errBadBinary
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

func (d *rowDecoder) int4(b []byte) int {
	if len(b) != 4 {
		d.err = errBadBinary
		return 0
	}
	return int(int32(binary.BigEndian.Uint32(b)))
}

// time decodes a timestamptz exactly as pgx does (local time zone).
func (d *rowDecoder) time(b []byte) time.Time {
	us := d.int8(b)
	if us == infinityMicroseconds || us == -infinityMicroseconds-1 {
		d.err = errors.New("models: cannot read an infinite timestamp")
		return time.Time{}
	}
	const unixToY2K = 946_684_800 * 1_000_000
	return time.Unix(unixToY2K/1_000_000+us/1_000_000, (unixToY2K%1_000_000*1_000)+(us%1_000_000*1_000))
}

const infinityMicroseconds = 9223372036854775807

// word returns b as a string, without allocating for the values the
// schema's enumerations and apps take.
func word(b []byte) string {
	switch string(b) {
	case "direct":
		return "direct"
	case "group":
		return "group"
	case "native":
		return "native"
	case "relay":
		return "relay"
	case "open":
		return "open"
	case "pending":
		return "pending"
	case "snoozed":
		return "snoozed"
	case "closed":
		return "closed"
	case "in":
		return "in"
	case "out":
		return "out"
	case "":
		return ""
	case "messenger":
		return "messenger"
	case "instagram":
		return "instagram"
	case "whatsapp":
		return "whatsapp"
	case "customer":
		return "customer"
	case "member":
		return "member"
	case "admin":
		return "admin"
	}
	return string(b)
}

// words decodes a one-dimensional text[] of words.
func (d *rowDecoder) words(b []byte) []string {
	if len(b) < 12 {
		d.err = errBadBinary
		return nil
	}
	ndim := binary.BigEndian.Uint32(b)
	if ndim == 0 {
		return []string{}
	}
	if ndim != 1 || len(b) < 20 {
		d.err = errBadBinary
		return nil
	}
	n := int(int32(binary.BigEndian.Uint32(b[12:])))
	b = b[20:]
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if len(b) < 4 {
			d.err = errBadBinary
			return nil
		}
		l := int(int32(binary.BigEndian.Uint32(b)))
		if l < 0 || len(b) < 4+l {
			d.err = errBadBinary // NULL elements never occur in apps
			return nil
		}
		out = append(out, word(b[4:4+l]))
		b = b[4+l:]
	}
	return out
}

// decodeThread reads the thread columns of a row of queue's statement.
func decodeThread(v [][]byte, t *Thread) error {
	var d rowDecoder
	opt := &threadOptional{}
	t.ID, t.BusinessID = d.int8(v[0]), d.int8(v[1])
	if v[2] != nil {
		opt.channelID = d.int8(v[2])
		t.ChannelID = &opt.channelID
	}
	t.Kind, t.Origin = word(v[3]), word(v[4])
	if v[5] != nil {
		opt.directIdentityID = d.int8(v[5])
		t.DirectIdentityID = &opt.directIdentityID
	}
	if v[6] != nil {
		opt.externalGroupID = string(v[6])
		t.ExternalGroupID = &opt.externalGroupID
	}
	t.Title = string(v[7])
	t.Apps = StringList(d.words(v[8]))
	t.Status = word(v[9])
	if v[10] != nil {
		opt.snoozedUntil = d.time(v[10])
		t.SnoozedUntil = &opt.snoozedUntil
	}
	if v[11] != nil {
		opt.assigneeID = d.int8(v[11])
		t.AssigneeID = &opt.assigneeID
	}
	t.LastMessageAt = d.time(v[12])
	t.LastMessagePreview = string(v[13])
	t.LastMessageDirection = word(v[14])
	if v[15] != nil {
		opt.lastCustomerAt = d.time(v[15])
		t.LastCustomerAt = &opt.lastCustomerAt
	}
	t.UnreadCount = d.int4(v[16])
	t.CreatedAt, t.UpdatedAt = d.time(v[17]), d.time(v[18])
	return d.err
}

// decodeExtra reads the participant or label a row carries, if any.
func decodeExtra(v [][]byte) (threadExtra, error) {
	var d rowDecoder
	x := threadExtra{isNull: v[19] == nil}
	if !x.isNull {
		x.participant = len(v[19]) == 1 && v[19][0] == 1
		x.id = d.int8(v[20])
		if v[21] != nil {
			x.contactID = d.int8(v[21])
		}
		x.app, x.externalID, x.name, x.roleOrColor = word(v[22]), string(v[23]), string(v[24]), word(v[25])
	}
	return x, d.err
}

// sameThread reports whether a row's first column is thread id, so a row
// continuing the previous thread is not decoded again.
func sameThread(v [][]byte, id int64) bool {
	return len(v[0]) == 8 && int64(binary.BigEndian.Uint64(v[0])) == id
}
