package phonenumbers

import (
	"testing"

	"github.com/switchboard-health/switchboard/internal/errs"
)

func TestNormalizeAcceptsCommonFormats(t *testing.T) {
	t.Parallel()
	cases := []struct{ raw, region, want string }{
		{"(415) 867-5309", "US", "+14158675309"},
		{"+1 415-867-5309", "US", "+14158675309"},
		{"415.867.5309", "US", "+14158675309"},
		{"4158675309", "US", "+14158675309"},
		{"1-415-867-5309", "US", "+14158675309"},
		{"  +1 (415) 867 5309  ", "US", "+14158675309"},
		{"+44 20 7946 0018", "US", "+442079460018"},
		{"020 7946 0018", "GB", "+442079460018"},
		{"011 44 20 7946 0018", "US", "+442079460018"},
	}
	for _, c := range cases {
		got, err := Normalize(c.raw, c.region)
		if err != nil || got != c.want {
			t.Errorf("Normalize(%q, %s) = %q, %v; want %q", c.raw, c.region, got, err, c.want)
		}
	}
}

func TestNormalizeRefusesInvalidNumbers(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"", "hello", "123", "+1 415 867 530", // too short
		"(415) 555-0100", "+1 212 555 0199", // the fictional 555 range
		"+1 000 867 5309", // no such area code
		"+999 1234 5678",  // no such country
	} {
		got, err := Normalize(raw, "US")
		if !errs.Is(err, errs.Unprocessable) || errs.As(err).Code != "invalid_phone_number" {
			t.Errorf("Normalize(%q) = %q, %v; want invalid_phone_number", raw, got, err)
		}
	}
}
