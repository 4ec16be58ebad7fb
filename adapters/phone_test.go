package adapters

import "testing"

func TestPhoneFromWaID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"16505551234", "+16505551234"},
		{"5511987654321", "+5511987654321"},
		{"US.13491208655302741918", ""},
		{"", ""},
		{"+16505551234", ""},
		{"1234567890123456", ""},
	}
	for _, tt := range tests {
		if got := PhoneFromWaID(tt.in); got != tt.want {
			t.Errorf("PhoneFromWaID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCountryOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+16505551234", "US"},
		{"+14165550123", "CA"},
		{"+442079460958", "GB"},
		{"+447700900123", "GB"}, // drama range, not valid: falls back to +44's main region
		{"+4915112345678", "DE"},
		{"+5511987654321", "BR"},
		{"+919876543210", "IN"},
		{"+80012345678", ""},
		{"", ""},
		{"not a number", ""},
	}
	for _, tt := range tests {
		if got := CountryOf(tt.in); got != tt.want {
			t.Errorf("CountryOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
