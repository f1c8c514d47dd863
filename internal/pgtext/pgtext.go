// Package pgtext says what text PostgreSQL can store: a text or jsonb value holds valid
// UTF-8 without NUL characters. API input that is not storable is refused; provider text
// that passed authentication is kept with those bytes replaced.
package pgtext

import (
	"strings"
	"unicode/utf8"
)

// Storable reports whether PostgreSQL can keep s as text.
func Storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// Clean returns s with invalid UTF-8 and NUL characters replaced by U+FFFD, so that
// PostgreSQL can keep it; storable text comes back as it is, without a copy.
func Clean(s string) string {
	if Storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Optional is a nullable text column's value: nil (SQL NULL) for the empty string.
func Optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
