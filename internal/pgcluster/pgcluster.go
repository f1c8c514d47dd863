// Package pgcluster starts a private PostgreSQL cluster from the server binaries found on
// the machine. Tests use it for a throwaway cluster, `switchboard dev` for the local one
// under ./.data. The cluster listens on a unix socket only, so it never competes for a
// TCP port with a PostgreSQL the machine already runs.
package pgcluster

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// InstallHint tells a newcomer how to get the binaries.
const InstallHint = "PostgreSQL's server binaries (initdb, pg_ctl) were not found. Install them " +
	"(Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql), put their " +
	"folder on PATH or in PG_BIN, or set TEST_DATABASE_URL / DATABASE_URL to a server you have."

// Options describe the cluster to start.
type Options struct {
	// DataDir holds the cluster; it is created by initdb when empty or missing.
	DataDir string
	// SocketDir is where the server's unix socket is made.
	SocketDir string
	// Durable keeps fsync on. Throwaway test clusters turn it off for speed.
	Durable bool
	// Settings are more server settings, as name=value.
	Settings []string
}

// Cluster is a running server.
type Cluster struct {
	opts   Options
	binDir string
	cred   *syscall.Credential
}

// BinDir finds the directory that holds initdb and pg_ctl: $PG_BIN, then PATH, then
// Debian's /usr/lib/postgresql/<version>/bin (newest version first), which Debian does not
// put on PATH.
func BinDir() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if isExecutable(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
		return "", fmt.Errorf("PG_BIN=%s holds no initdb. %s", dir, InstallHint)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", errors.New(InstallHint)
}

// Start initialises the data directory when needed and starts the server, or reuses the
// server already running on that directory.
func Start(opts Options) (*Cluster, error) {
	binDir, err := BinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, binDir: binDir}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root; run them as the postgres OS user.
		cred, err := postgresUser()
		if err != nil {
			return nil, err
		}
		c.cred = cred
	}
	for _, dir := range []string{opts.DataDir, opts.SocketDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if c.cred != nil {
			if err := reachable(filepath.Dir(dir), c.cred); err != nil {
				return nil, err
			}
		}
		if c.cred != nil {
			if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return nil, err
			}
		}
	}
	if _, err := os.Stat(filepath.Join(opts.DataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.run("initdb", "-D", opts.DataDir, "-U", "postgres", "--auth=trust",
			"--encoding=UTF8", "--no-locale", "--no-sync"); err != nil {
			return nil, err
		}
	}
	if c.run("pg_ctl", "-D", opts.DataDir, "status") == nil {
		return c, nil
	}
	settings := fmt.Sprintf("-k %s -c listen_addresses='' -c max_connections=200", opts.SocketDir)
	for _, kv := range opts.Settings {
		settings += " -c " + kv
	}
	if !opts.Durable {
		settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	if err := c.run("pg_ctl", "-D", opts.DataDir, "-l", filepath.Join(opts.DataDir, "server.log"),
		"-w", "-t", "60", "-o", settings, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(opts.DataDir, "server.log"))
		return nil, fmt.Errorf("%w\nserver log:\n%s", err, lastLines(string(log), 20))
	}
	return c, nil
}

// URL is a connection string for database name as the cluster's superuser.
func (c *Cluster) URL(database string) string {
	q := url.Values{"host": {c.opts.SocketDir}, "user": {"postgres"}, "sslmode": {"disable"}}
	return "postgres:///" + url.PathEscape(database) + "?" + q.Encode()
}

// Stop stops the server; immediate skips the shutdown checkpoint (for throwaway clusters).
func (c *Cluster) Stop(immediate bool) error {
	mode := "fast"
	if immediate {
		mode = "immediate"
	}
	return c.run("pg_ctl", "-D", c.opts.DataDir, "-m", mode, "-w", "stop")
}

func (c *Cluster) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.binDir, name), args...)
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	// The binaries must not inherit a working directory the postgres user cannot read.
	cmd.Dir = os.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, lastLines(out.String(), 20))
	}
	return nil
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres OS user, which does not exist: %w. %s", err, InstallHint)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// reachable checks that the postgres OS user can traverse every directory down to dir,
// which is not so for a checkout under a root-only home directory.
func reachable(dir string, cred *syscall.Credential) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for d := abs; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		sys, _ := st.Sys().(*syscall.Stat_t)
		ok := st.Mode()&0o001 != 0 ||
			(sys != nil && sys.Uid == cred.Uid && st.Mode()&0o100 != 0) ||
			(sys != nil && sys.Gid == cred.Gid && st.Mode()&0o010 != 0)
		if !ok {
			return fmt.Errorf("PostgreSQL runs as the postgres OS user here, which cannot enter %s; "+
				"make it traversable (chmod o+x %s), work from another directory, or set DATABASE_URL", d, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
