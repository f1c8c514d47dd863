package devenv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/internal/tenant"
)

// What `make run` does on a machine that has never seen the project: a cluster under the
// data directory, a signing key, and tokens the service accepts; a second start reuses all.
func TestPrepareStartsClusterAndPrintsWorkingTokens(t *testing.T) {
	dir := t.TempDir()
	// The server may run as the postgres OS user, which must reach the directory.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	env, err := Prepare(context.Background(), filepath.Join(dir, ".data"), "", &out)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if env.Stop != nil {
			env.Stop()
		}
	}()

	conn, err := pgx.Connect(context.Background(), env.DatabaseURL)
	if err != nil {
		t.Fatalf("the development database does not answer: %v", err)
	}
	conn.Close(context.Background())

	tokens := regexp.MustCompile(`export TOKEN=(\S+)`).FindAllStringSubmatch(out.String(), -1)
	if len(tokens) != len(DemoTenants) {
		t.Fatalf("printed %d tokens, want %d:\n%s", len(tokens), len(DemoTenants), out.String())
	}
	v, err := tenant.NewVerifier(tenant.VerifierConfig{JWTKey: env.ClerkJWTKey})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range tokens {
		id, err := v.Verify(context.Background(), m[1])
		if err != nil || string(id.Tenant) != DemoTenants[i] {
			t.Errorf("token %d verifies as %q, %v; want %s", i, id, err, DemoTenants[i])
		}
	}

	// Started again, it keeps the key, so tokens printed before still work.
	again, err := Prepare(context.Background(), filepath.Join(dir, ".data"), "", &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if again.ClerkJWTKey != env.ClerkJWTKey || again.DatabaseURL != env.DatabaseURL {
		t.Error("a second start changed the key or the database")
	}
}
