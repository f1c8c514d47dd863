// Package phonenumbers holds a clinic's registered lines: normalising what people type to
// E.164, and registering, changing and removing numbers inside the tenant transaction.
package phonenumbers

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/switchboard-health/switchboard/internal/errs"
)

// Normalize parses a number as people write it ("(415) 867-5309", "+1 415-867-5309",
// "00 44 20 7946 0958", …), reading numbers without a country code in region, and
// returns it in E.164. Numbers that cannot be dialled (too short, unassigned ranges,
// fictional 555-01xx numbers) are refused with code invalid_phone_number.
func Normalize(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	num, err := phonenumbers.Parse(raw, region)
	if err == nil && fictional(num) {
		return "", errs.New(errs.CodeInvalidPhoneNumber, "Numbers in the 555 exchange are reserved for fiction and examples; no clinic line is one. Enter the line's real number.")
	}
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", errs.NewCause(errs.CodeInvalidPhoneNumber, "This is not a valid phone number. Include the country code for numbers outside "+region+".", err)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// fictional reports NANP numbers in the 555 exchange. libphonenumber accepts them, but
// they are the range films, documentation and the original product's guide use; no clinic
// line is one, and registering one would only claim calls that never come.
func fictional(num *phonenumbers.PhoneNumber) bool {
	national := phonenumbers.GetNationalSignificantNumber(num)
	return num.GetCountryCode() == 1 && len(national) == 10 && national[3:6] == "555"
}

// Canonical writes a number from a provider's payload in E.164 for matching against
// registered numbers. Unlike Normalize it does not judge validity: a number that matches
// a registered one is valid, and one that does not matches nothing.
func Canonical(raw, region string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}
