package secrets

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowmask/flowmask/redactor"
)

// maxFileSize caps any file read as a source; secrets are small and a
// larger file is almost certainly misconfigured.
const maxFileSize = 4 << 20

// source is one configured place values come from.
type source struct {
	// name identifies the source in logs, metrics, errors and reports:
	// kind:location, never a value.
	name string
	kind string
	// optional sources may fail at startup and never affect readiness.
	optional bool
	// watch lists the files and directories whose changes trigger a re-read.
	watch []string
	load  func(ctx context.Context) ([]redactor.Literal, error)
}

// sources turns c into its sources, in config order.
func (m *Manager) sources(c Config) []*source {
	var out []*source
	if len(c.Env) > 0 {
		names := append([]string(nil), c.Env...)
		out = append(out, &source{name: "env", kind: "env", load: func(context.Context) ([]redactor.Literal, error) {
			return loadEnv(m.lookupEnv, names)
		}})
	}
	for _, p := range c.EnvPrefix {
		out = append(out, &source{name: "env_prefix:" + p, kind: "env_prefix", load: func(context.Context) ([]redactor.Literal, error) {
			return loadEnvPrefix(m.environ(), p), nil
		}})
	}
	for _, f := range c.Files {
		out = append(out, &source{name: "file:" + f, kind: "file", watch: []string{f}, load: func(context.Context) ([]redactor.Literal, error) {
			return loadLines(f)
		}})
	}
	for _, f := range c.Dotenv {
		out = append(out, &source{name: "dotenv:" + f, kind: "dotenv", watch: []string{f}, load: func(context.Context) ([]redactor.Literal, error) {
			return loadDotenv(f)
		}})
	}
	for _, d := range c.Dirs {
		out = append(out, &source{name: "dir:" + d, kind: "dir", watch: []string{d}, load: func(context.Context) ([]redactor.Literal, error) {
			return loadDir(d)
		}})
	}
	for _, f := range c.Solutions {
		out = append(out, &source{name: "solution:" + f, kind: "solution", watch: []string{f}, load: func(context.Context) ([]redactor.Literal, error) {
			return m.loadSolution(f)
		}})
	}
	for _, kv := range c.KeyVaults {
		v := m.newVault(kv)
		out = append(out, &source{name: "keyvault:" + v.base, kind: "keyvault", optional: kv.Optional, load: v.load})
	}
	return out
}

// loadEnv reads the named variables; a variable that is not set is an error.
func loadEnv(lookupEnv func(string) (string, bool), names []string) ([]redactor.Literal, error) {
	lits := make([]redactor.Literal, 0, len(names))
	var missing []string
	for _, n := range names {
		v, ok := lookupEnv(n)
		if !ok {
			missing = append(missing, n)
			continue
		}
		lits = append(lits, redactor.Literal{Source: "env:" + n, Value: v})
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("variable not set: %s", strings.Join(missing, ", "))
	}
	return lits, nil
}

// loadEnvPrefix reads every variable of environ (NAME=value entries) whose
// name starts with prefix, sorted by name.
func loadEnvPrefix(environ []string, prefix string) []redactor.Literal {
	var lits []redactor.Literal
	for _, kv := range environ {
		n, v, ok := strings.Cut(kv, "=")
		if ok && n != "" && strings.HasPrefix(n, prefix) {
			lits = append(lits, redactor.Literal{Source: "env:" + n, Value: v})
		}
	}
	sort.Slice(lits, func(i, j int) bool { return lits[i].Source < lits[j].Source })
	return lits
}

// lookupEnv reads an environment variable through Options.LookupEnv, or
// the process's.
func (m *Manager) lookupEnv(name string) (string, bool) {
	if m.opts.LookupEnv != nil {
		return m.opts.LookupEnv(name)
	}
	return os.LookupEnv(name)
}

// environ lists the environment through Options.Environ, or the process's.
func (m *Manager) environ() []string {
	if m.opts.Environ != nil {
		return m.opts.Environ()
	}
	return os.Environ()
}

// readSmall reads a file of at most maxFileSize bytes.
func readSmall(name string) ([]byte, error) { return readSmallN(name, maxFileSize) }

// readSmallN reads a regular file of at most limit bytes.
func readSmallN(name string, limit int64) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, larger than the %d-byte limit for a secrets file", name, st.Size(), limit)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(fh); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// loadLines reads a file of one value per line. Empty lines are ignored and
// a trailing \r is removed. Each value's source is file:NAME:LINE.
func loadLines(name string) ([]redactor.Literal, error) {
	data, err := readSmall(name)
	if err != nil {
		return nil, err
	}
	var lits []redactor.Literal
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxFileSize)
	line := 0
	for sc.Scan() {
		line++
		v := strings.TrimRight(sc.Text(), "\r")
		if v == "" {
			continue
		}
		lits = append(lits, redactor.Literal{Source: fmt.Sprintf("file:%s:%d", name, line), Value: v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return lits, nil
}

// loadDir reads a directory of one value per file, as Kubernetes mounts a
// secret or a projected volume:
//
//	DIR/..2026_11_27_10_00_00.123456789/KEY   the data, in a timestamped dir
//	DIR/..data -> ..2026_11_27_10_00_00.123456789
//	DIR/KEY -> ..data/KEY
//
// Names starting with ".." are kubelet's own and skipped (the keys are
// reached through their top-level links). Other dotfiles are keys only when
// they link into ..data (a key such as .dockerconfigjson); elsewhere they are
// editor or OS litter and skipped. Subdirectories (items with a path such as
// a/b) are read too. One trailing newline is trimmed from each value. Each
// value's source is dir:DIR/KEY.
func loadDir(dir string) ([]redactor.Literal, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	var lits []redactor.Literal
	err = walkDir(dir, dir, 0, &lits)
	return lits, err
}

func walkDir(root, dir string, depth int, lits *[]redactor.Literal) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "..") {
			continue
		}
		full := filepath.Join(dir, name)
		if strings.HasPrefix(name, ".") && !linksIntoData(full) {
			continue
		}
		st, err := os.Stat(full) // follows kubelet's links
		if err != nil {
			if os.IsNotExist(err) {
				continue // a dangling link while kubelet swaps ..data
			}
			return err
		}
		switch {
		case st.IsDir():
			if depth < 8 {
				if err := walkDir(root, full, depth+1, lits); err != nil {
					return err
				}
			}
		case st.Mode().IsRegular():
			data, err := readSmall(full)
			if err != nil {
				return err
			}
			v := string(data)
			v = strings.TrimSuffix(v, "\n")
			v = strings.TrimSuffix(v, "\r")
			if v == "" {
				continue
			}
			rel, _ := filepath.Rel(root, full)
			*lits = append(*lits, redactor.Literal{Source: "dir:" + filepath.Join(root, rel), Value: v})
		}
	}
	return nil
}

// linksIntoData reports whether name is a symlink into kubelet's ..data.
func linksIntoData(name string) bool {
	target, err := os.Readlink(name)
	if err != nil {
		return false
	}
	return target == "..data" || strings.HasPrefix(filepath.ToSlash(target), "..data/")
}
