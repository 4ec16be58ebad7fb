package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/tidwall/gjson"
	"strconv"
	"time"
)

// Millis is a Meta epoch in milliseconds (Messenger and Instagram timestamps,
// watermarks). It accepts a JSON number or a numeric string.
type Millis int64

// UnmarshalJSON implements json.Unmarshaler.
func (m *Millis) UnmarshalJSON(b []byte) error {
	n, err := parseEpoch(b)
	*m = Millis(n)
	return err
}

// Time is the instant in UTC, or the zero time when Meta sent none.
func (m Millis) Time() time.Time { return epochTime(int64(m)) }

// Seconds is a Meta epoch in seconds (WhatsApp sends these as strings).
// It accepts a JSON number or a numeric string.
type Seconds int64

// UnmarshalJSON implements json.Unmarshaler.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	n, err := parseEpoch(b)
	*s = Seconds(n)
	return err
}

// Time is the instant in UTC, or the zero time when Meta sent none.
func (s Seconds) Time() time.Time { return epochTime(int64(s)) }

// secondsBelow separates the two units: 1e11 s is the year 5138, 1e11 ms is
// 1973. Meta's test tools send seconds where milliseconds are documented (and
// the reverse), so the magnitude, not the field, decides.
const secondsBelow = 100_000_000_000

func epochTime(n int64) time.Time {
	switch {
	case n == 0:
		return time.Time{}
	case n > -secondsBelow && n < secondsBelow:
		return time.Unix(n, 0).UTC()
	default:
		return time.UnixMilli(n).UTC()
	}
}

func parseEpoch(b []byte) (int64, error) {
	b = bytes.Trim(bytes.TrimSpace(b), `"`)
	if len(b) == 0 || string(b) == "null" {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		// Some test tools send floats; keep the whole part.
		f, ferr := strconv.ParseFloat(string(b), 64)
		if ferr != nil || f < -1<<53 || f > 1<<53 {
			return 0, fmt.Errorf("meta: epoch %q is not a number", b)
		}
		n = int64(f)
	}
	return n, nil
}

// ID is a Meta id, which is a string on the wire except where it is a number
// (Messenger's app_id, some test payloads).
type ID string

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*id = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("meta: id %s is neither string nor number", b)
	}
	*id = ID(n.String())
	return nil
}

// IDOf reads an id as ID.UnmarshalJSON does (a string or a number, as Meta
// sends either) from a gjson result; ok is false for any other JSON value.
func IDOf(r gjson.Result) (id ID, ok bool) {
	switch r.Type {
	case gjson.String:
		return ID(r.Str), true
	case gjson.Number:
		return ID(r.Raw), true
	case gjson.Null:
		return "", true
	}
	return "", false
}
