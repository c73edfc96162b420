package pki_test

import (
	"math/big"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
)

func TestParseReason(t *testing.T) {
	tests := []struct {
		name, in string
		want     pki.Reason
		wantErr  string
	}{
		{"an RFC 5280 name is read", "keyCompromise", pki.ReasonKeyCompromise, ""},
		{"case does not matter", "CACOMPROMISE", pki.ReasonCACompromise, ""},
		{"aACompromise has code 10", "aACompromise", pki.ReasonAACompromise, ""},
		{"privilegeWithdrawn has code 9", "privilegeWithdrawn", pki.ReasonPrivilegeWithdrawn, ""},
		{"an unknown name lists the valid ones", "stolen", 0, "valid reasons: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise"},
		{"removeFromCRL is refused with the reason why", "removeFromCRL", 0, "delta CRLs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pki.ParseReason(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseReason(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseReason(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	for _, name := range pki.ReasonNames() {
		r, err := pki.ParseReason(name)
		if err != nil || r.String() != name {
			t.Errorf("name %q does not round-trip: %v %v", name, r, err)
		}
	}
}

func TestParseSerial(t *testing.T) {
	tests := []struct {
		name, in string
		want     int64
		ok       bool
	}{
		{"colons are ignored", "0A:1B:2C", 0x0a1b2c, true},
		{"plain hex is read", "a1b2c3", 0xa1b2c3, true},
		{"a 0x prefix is accepted", "0x10", 16, true},
		{"zero is not a serial", "00", 0, false},
		{"non-hex is refused", "xyz", 0, false},
		{"empty is refused", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pki.ParseSerial(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseSerial(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && got.Cmp(big.NewInt(tt.want)) != 0 {
				t.Errorf("ParseSerial(%q) = %X, want %X", tt.in, got, tt.want)
			}
		})
	}
	if got := pki.FormatSerial(big.NewInt(0xabc)); got != "0ABC" {
		t.Errorf("FormatSerial(0xabc) = %q, want 0ABC", got)
	}
}
