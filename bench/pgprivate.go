package bench

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// PrivatePostgres is a PostgreSQL server of the harness's own: a fresh cluster in a temporary
// directory on a free port. The restart scenario restarts this one and no other: the harness
// never stops or restarts a server it did not start (the machine's shared cluster, whose other
// users would lose their connections).
type PrivatePostgres struct {
	Dir  string
	Port int
	bin  string
}

// pgBinDir returns dir, the directory of the server binaries named by the caller, once it
// holds initdb and pg_ctl; or, with dir empty, the newest installed server's bin directory
// (Debian's layout).
func pgBinDir(dir string) (string, error) {
	if dir != "" {
		for _, b := range []string{"initdb", "pg_ctl"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				return "", fmt.Errorf("PostgreSQL server binaries: %w", err)
			}
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
}

// run runs a server binary as the postgres user when this process is root (initdb and
// the server refuse to run as root).
func (p *PrivatePostgres) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, name)}, args...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// CanRunPrivatePostgres says why a private cluster cannot be started here with the server
// binaries of binDir ("" for the newest installed), or nil.
func CanRunPrivatePostgres(binDir string) error {
	if _, err := pgBinDir(binDir); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("runuser"); err != nil {
			return errors.New("running as root without runuser")
		}
	}
	return nil
}

// StartPrivatePostgres creates and starts a cluster under parent (trust authentication,
// listening on 127.0.0.1 only) with the server binaries of binDir ("" for the newest
// installed).
func StartPrivatePostgres(parent, binDir string) (*PrivatePostgres, error) {
	if err := CanRunPrivatePostgres(binDir); err != nil {
		return nil, err
	}
	bin, err := pgBinDir(binDir)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "pg-")
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// The postgres user must own the cluster and reach it through the parents.
		if err := exec.Command("chown", "postgres:postgres", dir).Run(); err != nil {
			return nil, fmt.Errorf("chown %s: %w", dir, err)
		}
		for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(d, fi.Mode().Perm()|0o011)
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close() // the listener only proved the port free
	p := &PrivatePostgres{Dir: dir, Port: port, bin: bin}
	data := filepath.Join(dir, "data")
	if err := p.run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"); err != nil {
		return nil, err
	}
	if err := p.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *PrivatePostgres) opts() string {
	return fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.Port, p.Dir)
}

// Start starts the server and waits until it accepts connections.
func (p *PrivatePostgres) Start() error {
	return p.run("pg_ctl", "-D", filepath.Join(p.Dir, "data"), "-o", p.opts(), "-l", filepath.Join(p.Dir, "log"), "-w", "-t", "60", "start")
}

// Restart stops the server at once (every connection is cut, as in a crash of the database
// host's service) and starts it again.
func (p *PrivatePostgres) Restart() error {
	return p.run("pg_ctl", "-D", filepath.Join(p.Dir, "data"), "-o", p.opts(), "-l", filepath.Join(p.Dir, "log"), "-m", "fast", "-w", "-t", "60", "restart")
}

// Stop stops the server and removes its files.
func (p *PrivatePostgres) Stop() error {
	err := p.run("pg_ctl", "-D", filepath.Join(p.Dir, "data"), "-m", "immediate", "-w", "stop")
	_ = os.RemoveAll(p.Dir)
	return err
}

// AdminURL is the URL of the cluster's postgres database.
func (p *PrivatePostgres) AdminURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
}
