package meta

import (
	"encoding/json"
	"testing"
	"time"
)

func TestEpochs(t *testing.T) {
	want := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		json string
		ms   bool
		want time.Time
	}{
		{"messenger ms number", `1795167000000`, true, want},
		{"ms with fraction", `1795167000123`, true, want.Add(123 * time.Millisecond)},
		{"whatsapp seconds string", `"1795167000"`, false, want},
		{"seconds number", `1795167000`, false, want},
		{"seconds where ms documented", `1795167000`, true, want},
		{"ms where seconds documented", `"1795167000000"`, false, want},
		{"absent", `null`, true, time.Time{}},
		{"zero", `0`, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got time.Time
			if tt.ms {
				var m Millis
				if err := json.Unmarshal([]byte(tt.json), &m); err != nil {
					t.Fatal(err)
				}
				got = m.Time()
			} else {
				var s Seconds
				if err := json.Unmarshal([]byte(tt.json), &s); err != nil {
					t.Fatal(err)
				}
				got = s.Time()
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEpochRejectsText(t *testing.T) {
	var m Millis
	if err := json.Unmarshal([]byte(`"2026-11-20T09:30:00Z"`), &m); err == nil {
		t.Fatal("ISO time accepted as an epoch")
	}
}

func TestID(t *testing.T) {
	tests := []struct{ json, want string }{
		{`"104729588123456"`, "104729588123456"},
		{`1517776481860111`, "1517776481860111"},
		{`null`, ""},
	}
	for _, tt := range tests {
		var id ID
		if err := json.Unmarshal([]byte(tt.json), &id); err != nil || string(id) != tt.want {
			t.Errorf("ID(%s) = %q, %v; want %q", tt.json, id, err, tt.want)
		}
	}
	var id ID
	if err := json.Unmarshal([]byte(`{"x":1}`), &id); err == nil {
		t.Error("object accepted as an id")
	}
}
