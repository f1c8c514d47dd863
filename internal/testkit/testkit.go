// Package testkit holds what tests of several packages share and that is no provider's:
// waiting for a condition without sleeping blind, and a clock a test sets.
package testkit

import (
	"sync"
	"testing"
	"time"
)

// Eventually checks check every 20 ms until it returns true, and fails the test with what
// when within passes first. It is for conditions another goroutine or process brings
// about; the interval only paces the polling, it never stands in for the condition.
func Eventually(t testing.TB, within time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		<-tick.C
	}
}

// Clock is a clock a test sets: what routing decides "now" by. Its zero value reads the
// real time until Set.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Set makes the clock read t from now on.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now()
	}
	return c.now
}
