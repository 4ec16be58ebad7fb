package models

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// JSON is a jsonb column kept as raw bytes.
type JSON json.RawMessage

// Value implements driver.Valuer.
func (j JSON) Value() (driver.Value, error) {
	if len(j) == 0 {
		return "{}", nil
	}
	return string(j), nil
}

// Scan implements sql.Scanner.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append((*j)[:0], v...)
	case string:
		*j = JSON(v)
	default:
		return fmt.Errorf("models: cannot scan %T into JSON", src)
	}
	return nil
}

// MarshalJSON keeps the raw document.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("{}"), nil
	}
	return j, nil
}

// UnmarshalJSON keeps the raw document.
func (j *JSON) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

// StringList is a PostgreSQL text[] of simple words (app names, labels).
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) {
	for _, s := range l {
		if strings.ContainsAny(s, `{},"\ `) || s == "" {
			return nil, fmt.Errorf("models: %q cannot be stored in a StringList", s)
		}
	}
	return "{" + strings.Join(l, ",") + "}", nil
}

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	s, null, err := arrayBody(src, "StringList")
	if err != nil {
		return err
	}
	if null {
		*l = nil
		return nil
	}
	if s == "" {
		*l = StringList{}
		return nil
	}
	*l = strings.Split(s, ",")
	return nil
}

// Int64List is a PostgreSQL bigint[].
type Int64List []int64

// Value implements driver.Valuer.
func (l Int64List) Value() (driver.Value, error) {
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = strconv.FormatInt(v, 10)
	}
	return "{" + strings.Join(parts, ",") + "}", nil
}

// Scan implements sql.Scanner.
func (l *Int64List) Scan(src any) error {
	s, null, err := arrayBody(src, "Int64List")
	if err != nil {
		return err
	}
	if null {
		*l = nil
		return nil
	}
	out := Int64List{}
	if s != "" {
		for _, p := range strings.Split(s, ",") {
			v, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return errors.New("models: bad bigint[] element")
			}
			out = append(out, v)
		}
	}
	*l = out
	return nil
}

// arrayBody is the text between the braces of a scanned array literal; null
// when the column is NULL.
func arrayBody(src any, into string) (body string, null bool, err error) {
	var s string
	switch v := src.(type) {
	case nil:
		return "", true, nil
	case []byte:
		s = string(v)
	case string:
		s = v
	default:
		return "", false, fmt.Errorf("models: cannot scan %T into %s", src, into)
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"), false, nil
}

// StringArray is a text[] of arbitrary strings, quoted for PostgreSQL's
// array literal (StringList is for plain words it can also scan).
type StringArray []string

// Value implements driver.Valuer.
func (a StringArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range s {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			if r == 0 {
				continue // PostgreSQL text cannot hold NUL
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}
