package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
)

// guardInput refuses, before anything reads them, API requests whose query string is not
// valid URL encoding or whose query or JSON body holds text PostgreSQL cannot store
// (invalid UTF-8, NUL characters). A malformed query would otherwise be dropped silently
// (a filter ignored), and such text would fail deep inside a query as a 500. The webhooks
// are not guarded here: what passed their authentication is kept, with bad bytes
// replaced where they are stored.
func guardInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isWebhook(c) {
			return next(c)
		}
		r := c.Request()
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return errs.New(errs.CodeValidationFailed, "The query string is not valid URL encoding (a % must be followed by two hexadecimal digits); encode the parameters' values.")
		}
		for name, values := range query {
			for _, v := range append(values, name) {
				if !pgtext.Storable(v) {
					return errs.New(errs.CodeValidationFailed, "The query parameter "+printable(name)+" holds text that is not UTF-8 or holds a NUL character.")
				}
			}
		}
		if r.Body == nil || r.ContentLength == 0 || !strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
			return next(c)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err // a body over the limit: the body limit's own error
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !utf8.Valid(body) {
			return errs.New(errs.CodeValidationFailed, "The body is not UTF-8 text.")
		}
		var doc any
		if json.Unmarshal(body, &doc) == nil && !storableJSON(doc) {
			return errs.New(errs.CodeValidationFailed, "The body holds a NUL character (\\u0000), which no field accepts.")
		}
		return next(c)
	}
}

// storableJSON reports whether every string and name in a decoded JSON document is
// storable.
func storableJSON(v any) bool {
	switch v := v.(type) {
	case string:
		return pgtext.Storable(v)
	case []any:
		for _, e := range v {
			if !storableJSON(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range v {
			if !pgtext.Storable(k) || !storableJSON(e) {
				return false
			}
		}
	}
	return true
}

// printable quotes a parameter name for a message, whatever bytes it holds.
func printable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "?"), "\x00", "?")
}
