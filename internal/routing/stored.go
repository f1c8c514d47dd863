package routing

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-health/switchboard/internal/errs"
)

// Stored is a policy as routing_policies keeps it and the API reads and writes it: times
// as HH:MM, dates as YYYY-MM-DD, days as mon…sun. Stored values were checked by Check when
// they were written.
type Stored struct {
	ClinicName            *string         `json:"clinic_name"`
	TimeZone              *string         `json:"time_zone"`
	WeeklyHours           []StoredWindow  `json:"weekly_hours"`
	Closures              []StoredClosure `json:"closures"`
	ClosedAction          ClosedAction    `json:"closed_action"`
	AfterHoursAssistantID *string         `json:"after_hours_assistant_id"`
	OnCallNumber          *string         `json:"on_call_number"`
	FallbackNumber        *string         `json:"fallback_number"`
	VoicemailGreeting     *string         `json:"voicemail_greeting"`
	SpamPolicy            SpamPolicy      `json:"spam_policy"`
}

// StoredWindow is a Window as stored.
type StoredWindow struct {
	Day   string `json:"day"`
	Open  string `json:"open"`
	Close string `json:"close"`
}

// StoredClosure is a Closure as stored.
type StoredClosure struct {
	From string  `json:"from"`
	To   string  `json:"to"`
	Note *string `json:"note"`
}

// Days are the stored names of the weekdays, Sunday first as time.Weekday counts.
var Days = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var errInvalid = func(format string, args ...any) error {
	return errs.New(errs.CodeInvalidRouting, fmt.Sprintf(format, args...))
}

// Policy reads s. Returns Unprocessable (invalid_routing) for content that cannot route:
// an unknown zone, hours without a zone, a malformed time or date, a window that opens
// and closes at once, a closure that ends before it starts, a closed action without what
// it needs.
func (s Stored) Policy() (Policy, error) {
	p := Policy{
		ClosedAction: s.ClosedAction, SpamPolicy: s.SpamPolicy,
		ClinicName: deref(s.ClinicName), AfterHoursAssistantID: deref(s.AfterHoursAssistantID),
		OnCallNumber: deref(s.OnCallNumber), FallbackNumber: deref(s.FallbackNumber),
		VoicemailGreeting: deref(s.VoicemailGreeting),
	}
	if p.ClosedAction == "" {
		p.ClosedAction = ClosedVoicemail
	}
	if p.SpamPolicy == "" {
		p.SpamPolicy = SpamAllow
	}
	if s.TimeZone == nil {
		if len(s.WeeklyHours) > 0 || len(s.Closures) > 0 {
			return Policy{}, errInvalid("weekly_hours and closures need a time_zone.")
		}
		return p, nil
	}
	zone, err := loadZone(*s.TimeZone)
	if err != nil {
		return Policy{}, errInvalid("time_zone: %q is not an IANA time zone.", *s.TimeZone)
	}
	h := &Hours{Zone: zone}
	for i, w := range s.WeeklyHours {
		day := slices.Index(Days, w.Day)
		open, oerr := ParseClock(w.Open)
		closing, cerr := ParseClock(w.Close)
		switch {
		case day < 0:
			return Policy{}, errInvalid("weekly_hours[%d].day: %q is not one of mon…sun.", i, w.Day)
		case oerr != nil || open == 24*60:
			return Policy{}, errInvalid("weekly_hours[%d].open: %q is not a time of day (00:00–23:59).", i, w.Open)
		case cerr != nil:
			return Policy{}, errInvalid("weekly_hours[%d].close: %q is not a time of day (00:00–24:00).", i, w.Close)
		case open == closing:
			return Policy{}, errInvalid("weekly_hours[%d]: opens and closes at %s; a whole day is 00:00–24:00.", i, w.Open)
		}
		h.Weekly = append(h.Weekly, Window{Day: time.Weekday(day), Open: open, Close: closing % (24 * 60)})
	}
	for i, c := range s.Closures {
		from, ferr := ParseDate(c.From)
		to, terr := ParseDate(c.To)
		switch {
		case ferr != nil:
			return Policy{}, errInvalid("closures[%d].from: %v.", i, ferr)
		case terr != nil:
			return Policy{}, errInvalid("closures[%d].to: %v.", i, terr)
		case to.before(from):
			return Policy{}, errInvalid("closures[%d]: ends before it starts.", i)
		}
		h.Closures = append(h.Closures, Closure{From: from, To: to})
	}
	p.Hours = h
	return p, nil
}

// Check reports whether s can route, as Policy does, and whether its closed action has
// what it needs.
func (s Stored) Check() error {
	if _, err := s.Policy(); err != nil {
		return err
	}
	switch {
	case s.ClosedAction == ClosedAfterHoursAssistant && deref(s.AfterHoursAssistantID) == "":
		return errInvalid("closed_action after_hours_assistant needs an after_hours_assistant_id.")
	case s.ClosedAction == ClosedForward && deref(s.OnCallNumber) == "":
		return errInvalid("closed_action forward needs an on_call_number.")
	}
	return nil
}

// zones caches loaded zones: time.LoadLocation reads and parses the zone's file each time.
var zones sync.Map

func loadZone(name string) (*time.Location, error) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	// "Local" names this machine's zone, which is no clinic's.
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("no zone")
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, z)
	return z, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
