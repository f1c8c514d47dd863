package spool

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPutListGetRemove(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "spool")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	second, err := s.Put(Record{ReceivedAt: t0.Add(time.Second), Body: []byte(`{"b":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Put(Record{ReceivedAt: t0, Headers: map[string]string{"user-agent": "vapi"}, Body: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	// A temporary file left by a crash mid-write is not a record.
	if err := os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	names, err := s.Names()
	if err != nil || len(names) != 2 || names[0] != first || names[1] != second {
		t.Fatalf("Names = %v, %v; want oldest first [%s %s]", names, err, first, second)
	}
	r, err := s.Get(first)
	if err != nil || string(r.Body) != `{"a":1}` || r.Headers["user-agent"] != "vapi" || !r.ReceivedAt.Equal(t0) {
		t.Fatalf("Get = %+v, %v", r, err)
	}
	if err := s.Remove(first); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d after removing one of two", s.Len())
	}
	if err := s.Remove(first); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
}
