// Package routing decides what happens to a call before any assistant is asked: whether the
// clinic is open, whether the caller is declined, and where a call goes when the assistant
// cannot take it. It reads no clock and no database: callers pass the time and the policy,
// so every branch is a plain function of its inputs.
package routing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Window is one weekly opening: from Open to Close (minutes after midnight, local wall
// time) on Day. A Close at or before Open runs past midnight into the next day, so a
// night service of 22:00–02:00 is one window.
type Window struct {
	Day         time.Weekday
	Open, Close int
}

// crossesMidnight reports whether w ends on the day after it opens.
func (w Window) crossesMidnight() bool { return w.Close <= w.Open }

// Date is a calendar date in the clinic's zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// before orders dates.
func (d Date) before(o Date) bool {
	return d.Year < o.Year || d.Year == o.Year && (d.Month < o.Month || d.Month == o.Month && d.Day < o.Day)
}

// Closure closes the clinic for whole days, From to To inclusive (a holiday, a week off).
type Closure struct {
	From, To Date
}

func (c Closure) covers(d Date) bool { return !d.before(c.From) && !c.To.before(d) }

// Hours are when a clinic is open: weekly windows in its zone, less its closures. A closure
// closes the whole of each of its days, the small hours of a window opened the evening
// before included.
type Hours struct {
	Zone     *time.Location
	Weekly   []Window
	Closures []Closure
}

// ParseClock reads HH:MM (00:00 to 24:00) as minutes after midnight.
func ParseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, herr := strconv.Atoi(h)
	mm, merr := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || herr != nil || merr != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	return hh*60 + mm, nil
}

// Clock writes minutes after midnight as HH:MM.
func Clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// closed reports whether d is in a closure.
func (h Hours) closed(d Date) bool {
	return slices.ContainsFunc(h.Closures, func(c Closure) bool { return c.covers(d) })
}

// OpenAt reports whether the clinic is open at t. Wall-clock times decide, so a window
// keeps its hours across daylight-saving changes (09:00–17:00 is 09:00–17:00 on both
// sides of one), and a window that spans a change is as long as the clock says it is.
func (h Hours) OpenAt(t time.Time) bool {
	local := t.In(h.Zone)
	if h.closed(DateOf(local)) {
		return false
	}
	minute := local.Hour()*60 + local.Minute()
	day := local.Weekday()
	yesterday := (day + 6) % 7
	for _, w := range h.Weekly {
		switch {
		case w.Day == day && minute >= w.Open && (w.crossesMidnight() || minute < w.Close):
			return true
		case w.Day == yesterday && w.crossesMidnight() && minute < w.Close:
			return true
		}
	}
	return false
}

// NextOpening is the first instant after t at which the clinic opens, looking a year and
// a week ahead; ok is false when it never does in that time (no windows, or closed for
// good).
func (h Hours) NextOpening(t time.Time) (time.Time, bool) {
	local := t.In(h.Zone)
	y, m, d := local.Date()
	for i := 0; i <= 372; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, h.Zone) // time.Date normalises the day

		if h.closed(DateOf(day)) {
			continue
		}
		var best time.Time
		for _, w := range h.Weekly {
			if w.Day != day.Weekday() {
				continue
			}
			at := wallTime(y, m, d+i, w.Open, h.Zone)
			// An opening counts when the clinic is closed just before it: a window that
			// continues an earlier one (08:00–12:00 and 12:00–13:00) is no opening.
			if at.After(t) && !h.OpenAt(at.Add(-time.Minute)) && (best.IsZero() || at.Before(best)) {
				best = at
			}
		}
		if !best.IsZero() {
			return best, true
		}
	}
	return time.Time{}, false
}

// wallTime is the instant the clock in zone first shows minute on the day: for a wall time
// the zone skips (a spring-forward hour), the change itself, which is when OpenAt starts
// to see the window open.
func wallTime(y int, m time.Month, d, minute int, zone *time.Location) time.Time {
	t := time.Date(y, m, d, minute/60, minute%60, 0, 0, zone)
	if t.Hour()*60+t.Minute() != minute%(24*60) {
		_, end := t.ZoneBounds()
		if !end.IsZero() {
			return end
		}
	}
	return t
}
