// Package spool keeps webhook requests on local disk while the database cannot take them.
// Each record is one file, written to a temporary name, fsync'd, renamed into place and
// the directory fsync'd, so a record that Put returned for survives a crash or power loss.
package spool

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Record is one spooled request.
type Record struct {
	ReceivedAt time.Time         `json:"received_at"`
	Headers    map[string]string `json:"headers"`
	Body       []byte            `json:"body"`
}

// Spool is a directory of records.
type Spool struct {
	dir string
}

const suffix = ".json"

// Open uses dir, creating it when missing.
func Open(dir string) (*Spool, error) {
	if dir == "" {
		return nil, errors.New("spool: no directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Spool{dir: dir}, nil
}

// Put stores r durably and returns its name.
func (s *Spool) Put(r Record) (string, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	// Names sort in arrival order.
	name := fmt.Sprintf("%020d-%s%s", r.ReceivedAt.UnixNano(), hex.EncodeToString(rnd[:]), suffix)
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, name)); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	return name, syncDir(s.dir)
}

// Names lists the records, oldest first.
func (s *Spool) Names() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), suffix) && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Get reads a record.
func (s *Spool) Get(name string) (Record, error) {
	var r Record
	data, err := os.ReadFile(filepath.Join(s.dir, filepath.Base(name)))
	if err != nil {
		return r, fmt.Errorf("spool: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("spool: %s is damaged: %w", name, err)
	}
	return r, nil
}

// Remove deletes a record once it is safely elsewhere.
func (s *Spool) Remove(name string) error {
	if err := os.Remove(filepath.Join(s.dir, filepath.Base(name))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return syncDir(s.dir)
}

// Len counts the records waiting.
func (s *Spool) Len() int {
	names, _ := s.Names()
	return len(names)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}
