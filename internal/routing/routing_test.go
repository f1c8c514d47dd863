package routing

import (
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func window(t *testing.T, day time.Weekday, open, close string) Window {
	t.Helper()
	o, err := ParseClock(open)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseClock(close)
	if err != nil {
		t.Fatal(err)
	}
	return Window{Day: day, Open: o, Close: c}
}

// A clinic open mornings and afternoons with a lunch break, on weekdays.
func weekdays(t *testing.T, loc *time.Location) *Hours {
	h := &Hours{Zone: loc}
	for d := time.Monday; d <= time.Friday; d++ {
		h.Weekly = append(h.Weekly, window(t, d, "08:00", "12:00"), window(t, d, "13:00", "17:30"))
	}
	return h
}

func TestOpenAtFollowsWindowsInTheClinicsZone(t *testing.T) {
	ny := zone(t, "America/New_York")
	h := weekdays(t, ny)
	for _, c := range []struct {
		at   string
		open bool
	}{
		{"2026-12-02 07:59", false}, // Wednesday, before opening
		{"2026-12-02 08:00", true},
		{"2026-12-02 11:59", true},
		{"2026-12-02 12:00", false}, // lunch
		{"2026-12-02 13:00", true},
		{"2026-12-02 17:29", true},
		{"2026-12-02 17:30", false},
		{"2026-12-05 10:00", false}, // Saturday
	} {
		if got := h.OpenAt(at(t, ny, c.at)); got != c.open {
			t.Errorf("open at %s New York time: %v, want %v", c.at, got, c.open)
		}
	}
	// The same instant seen from another zone is judged in the clinic's.
	if !h.OpenAt(at(t, time.UTC, "2026-12-02 14:00")) { // 09:00 in New York
		t.Error("14:00 UTC (09:00 in New York) is not open")
	}
}

func TestAWindowMayCrossMidnight(t *testing.T) {
	la := zone(t, "America/Los_Angeles")
	h := &Hours{Zone: la, Weekly: []Window{window(t, time.Friday, "22:00", "02:00")}}
	for _, c := range []struct {
		at   string
		open bool
	}{
		{"2026-12-04 21:59", false}, // Friday
		{"2026-12-04 22:00", true},
		{"2026-12-04 23:59", true},
		{"2026-12-05 00:00", true}, // Saturday's small hours belong to Friday's window
		{"2026-12-05 01:59", true},
		{"2026-12-05 02:00", false},
		{"2026-12-06 01:00", false}, // Sunday: Saturday has no window
	} {
		if got := h.OpenAt(at(t, la, c.at)); got != c.open {
			t.Errorf("open at %s: %v, want %v", c.at, got, c.open)
		}
	}
	next, ok := h.NextOpening(at(t, la, "2026-12-05 03:00"))
	if want := at(t, la, "2026-12-11 22:00"); !ok || !next.Equal(want) {
		t.Errorf("next opening after Saturday 03:00: %v %v, want %v", next, ok, want)
	}
}

// Both daylight-saving changes of 2026 in New York: 8 March (02:00 becomes 03:00) and
// 1 November (02:00 becomes 01:00). Windows keep their wall-clock hours.
func TestDaylightSavingTransitions(t *testing.T) {
	ny := zone(t, "America/New_York")
	// A Sunday night line 01:00–04:00 spans both changes.
	h := &Hours{Zone: ny, Weekly: []Window{window(t, time.Sunday, "01:00", "04:00"), window(t, time.Sunday, "09:00", "17:00")}}

	spring := time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC) // 01:30 EST, before the change
	if !h.OpenAt(spring) {
		t.Error("01:30 EST on 8 March is not open")
	}
	afterJump := time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC) // 03:30 EDT: 02:30 never happened
	if !h.OpenAt(afterJump) {
		t.Error("03:30 EDT on 8 March is not open")
	}
	if h.OpenAt(time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC)) { // 04:00 EDT
		t.Error("04:00 EDT on 8 March is open")
	}
	// 09:00 on the day of the change is 09:00 EDT, 13:00 UTC (not 14:00 as in winter).
	if !h.OpenAt(time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC)) || h.OpenAt(time.Date(2026, 3, 8, 12, 59, 0, 0, time.UTC)) {
		t.Error("the clinic does not open at 09:00 EDT on 8 March")
	}
	next, ok := h.NextOpening(time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC); !ok || !next.Equal(want) {
		t.Errorf("next opening after 04:00 EDT: %v, want %v", next, want)
	}

	// 1 November: 01:30 happens twice, both open; 03:59 EST is open, 04:00 EST is not.
	for _, u := range []time.Time{
		time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), // 01:30 EDT
		time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), // 01:30 EST
		time.Date(2026, 11, 1, 8, 59, 0, 0, time.UTC), // 03:59 EST
	} {
		if !h.OpenAt(u) {
			t.Errorf("%v (%v in New York) is not open", u, u.In(ny))
		}
	}
	if h.OpenAt(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)) {
		t.Error("04:00 EST on 1 November is open")
	}
	// 09:00 EST is 14:00 UTC after the change.
	next, ok = h.NextOpening(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 11, 1, 14, 0, 0, 0, time.UTC); !ok || !next.Equal(want) {
		t.Errorf("next opening after 04:00 EST: %v, want %v", next, want)
	}
	// A window opening inside the skipped hour opens at the change, 03:00 EDT, the first
	// instant the clock is past its opening.
	skipped := &Hours{Zone: ny, Weekly: []Window{window(t, time.Sunday, "02:30", "05:00")}}
	next, ok = skipped.NextOpening(time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC); !ok || !next.Equal(want) || !skipped.OpenAt(want) || skipped.OpenAt(want.Add(-time.Second)) {
		t.Errorf("opening at the skipped 02:30: %v, want %v (03:00 EDT)", next, want)
	}
}

func TestClosuresCloseWholeDays(t *testing.T) {
	ny := zone(t, "America/New_York")
	h := weekdays(t, ny)
	h.Closures = []Closure{
		{From: Date{2026, 12, 24}, To: Date{2026, 12, 26}},
		{From: Date{2026, 12, 31}, To: Date{2026, 12, 31}},
	}
	for _, c := range []struct {
		at   string
		open bool
	}{
		{"2026-12-23 10:00", true},
		{"2026-12-24 10:00", false},
		{"2026-12-25 10:00", false},
		{"2026-12-28 10:00", true},
		{"2026-12-31 10:00", false},
	} {
		if got := h.OpenAt(at(t, ny, c.at)); got != c.open {
			t.Errorf("open at %s: %v, want %v", c.at, got, c.open)
		}
	}
	// Christmas Eve evening: next opening skips the closure and the weekend.
	next, ok := h.NextOpening(at(t, ny, "2026-12-23 18:00"))
	if want := at(t, ny, "2026-12-28 08:00"); !ok || !next.Equal(want) {
		t.Errorf("next opening: %v, want %v", next, want)
	}
	// The lunch break's end is the next opening, not the morning's continuation.
	next, _ = h.NextOpening(at(t, ny, "2026-12-23 12:10"))
	if want := at(t, ny, "2026-12-23 13:00"); !next.Equal(want) {
		t.Errorf("next opening over lunch: %v, want %v", next, want)
	}
	// A closure also closes the small hours of a window opened the evening before.
	night := &Hours{Zone: ny, Weekly: []Window{window(t, time.Wednesday, "22:00", "02:00")},
		Closures: []Closure{{From: Date{2026, 12, 24}, To: Date{2026, 12, 24}}}}
	if night.OpenAt(at(t, ny, "2026-12-24 01:00")) {
		t.Error("the small hours of a closed day are open")
	}
}

func TestNoHoursIsAlwaysOpen(t *testing.T) {
	d := Decide(Policy{}, Call{AssistantID: "asst_1"}, time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	if d.Handling != Assistant || d.AssistantID != "asst_1" || !d.Open || d.Reason != ReasonOpen {
		t.Fatalf("a clinic without hours at 3 am on a Sunday: %+v", d)
	}
	var none Hours
	none.Zone = time.UTC
	if _, ok := none.NextOpening(time.Now()); ok {
		t.Fatal("hours without windows have a next opening")
	}
}

func TestDecideEveryBranch(t *testing.T) {
	ny := zone(t, "America/New_York")
	open := at(t, ny, "2026-12-02 10:00")
	closed := at(t, ny, "2026-12-02 20:00")
	holiday := at(t, ny, "2026-12-25 10:00")
	base := Policy{ClinicName: "Elm Street", Hours: weekdays(t, ny), SpamPolicy: SpamAllow}
	base.Hours.Closures = []Closure{{From: Date{2026, 12, 25}, To: Date{2026, 12, 25}}}
	with := func(f func(*Policy)) Policy {
		p := base
		f(&p)
		return p
	}
	asst := Call{AssistantID: "asst_day"}
	for _, c := range []struct {
		name     string
		policy   Policy
		call     Call
		now      time.Time
		handling Handling
		reason   string
		target   string // assistant or forward number
	}{
		{"open", base, asst, open, Assistant, ReasonOpen, "asst_day"},
		{"open without an assistant, no fallback", base, Call{}, open, Voicemail, ReasonNoAssistant, ""},
		{"open without an assistant, fallback", with(func(p *Policy) { p.FallbackNumber = "+12125550100" }), Call{}, open, Forwarded, ReasonNoAssistant, "+12125550100"},
		{"blocked caller", base, Call{AssistantID: "asst_day", CallerBlocked: true}, open, Blocked, ReasonBlockedCaller, ""},
		{"blocked caller while closed", base, Call{CallerBlocked: true}, closed, Blocked, ReasonBlockedCaller, ""},
		{"failed caller id, reject", with(func(p *Policy) { p.SpamPolicy = SpamReject }), Call{AssistantID: "a", StirVerstat: "TN-Validation-Failed-B"}, open, SpamRejected, ReasonSpam, ""},
		{"no caller id validation, voicemail", with(func(p *Policy) { p.SpamPolicy = SpamVoicemail }), Call{AssistantID: "a", StirVerstat: "No-TN-Validation"}, open, Voicemail, ReasonSpam, ""},
		{"passed caller id, reject policy", with(func(p *Policy) { p.SpamPolicy = SpamReject }), Call{AssistantID: "a", StirVerstat: "TN-Validation-Passed-A"}, open, Assistant, ReasonOpen, "a"},
		{"failed caller id, allow", base, Call{AssistantID: "a", StirVerstat: "TN-Validation-Failed-C"}, open, Assistant, ReasonOpen, "a"},
		{"closed, voicemail", base, asst, closed, Voicemail, ReasonClosed, ""},
		{"closed, after-hours assistant", with(func(p *Policy) {
			p.ClosedAction, p.AfterHoursAssistantID = ClosedAfterHoursAssistant, "asst_night"
		}), asst, closed, AfterHoursAssistant, ReasonClosed, "asst_night"},
		{"closed, after-hours assistant removed", with(func(p *Policy) { p.ClosedAction = ClosedAfterHoursAssistant }), asst, closed, Voicemail, ReasonClosed, ""},
		{"closed, forward to on-call", with(func(p *Policy) {
			p.ClosedAction, p.OnCallNumber = ClosedForward, "+12125550199"
		}), asst, closed, Forwarded, ReasonClosed, "+12125550199"},
		{"closed, reject", with(func(p *Policy) { p.ClosedAction = ClosedReject }), asst, closed, ClosedRejected, ReasonClosed, ""},
		{"holiday", base, asst, holiday, Voicemail, ReasonClosure, ""},
	} {
		d := Decide(c.policy, c.call, c.now)
		target := d.AssistantID + d.ForwardTo
		if d.Handling != c.handling || d.Reason != c.reason || target != c.target {
			t.Errorf("%s: %s (%s) to %q, want %s (%s) to %q", c.name, d.Handling, d.Reason, target, c.handling, c.reason, c.target)
		}
	}
}

func TestTheAssistantLearnsWhereTheClinicStands(t *testing.T) {
	ny := zone(t, "America/New_York")
	p := Policy{ClinicName: "Elm Street", Hours: weekdays(t, ny)}
	d := Decide(p, Call{}, at(t, ny, "2026-12-02 20:00"))
	v := p.Variables(d)
	if v["clinic_name"] != "Elm Street" || v["clinic_open"] != "false" || v["time_zone"] != "America/New_York" ||
		v["next_open"] != "Thursday 3 December at 08:00" || v["next_open_at"] != "2026-12-03T08:00:00-05:00" {
		t.Fatalf("variables when closed: %v", v)
	}
	v = p.Variables(Decide(p, Call{}, at(t, ny, "2026-12-03 09:00")))
	if v["clinic_open"] != "true" || v["next_open"] != "" {
		t.Fatalf("variables when open: %v", v)
	}
}

func TestParseClock(t *testing.T) {
	for s, want := range map[string]int{"00:00": 0, "08:30": 510, "24:00": 1440} {
		if got, err := ParseClock(s); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"8:30", "24:01", "12:60", "noon", "-1:00", ""} {
		if _, err := ParseClock(s); err == nil {
			t.Errorf("ParseClock(%q) accepted", s)
		}
	}
}
