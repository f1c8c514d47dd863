// Package migrations holds the goose migrations, embedded so the binary can apply them.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
