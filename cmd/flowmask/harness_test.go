package main

// The CLI tests run commands in process through run, the binary's own entry
// point (runBin, startServer), and a few end-to-end tests run the built
// binary (runBinary, startServerBinary; built once per test binary by
// flowmaskBin, stamped with e2eVersion and e2eCommit).

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain makes the process trust httptest's certificate (SSL_CERT_FILE),
// so that in-process commands reach the fake Key Vault and other loopback
// TLS servers as the binary does with the same variable: the system roots
// are read once per process, whichever test comes first.
func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "flowmask-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer os.RemoveAll(dir)
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		srv.Close()
		certFile := filepath.Join(dir, "httptest-ca.pem")
		if err := os.WriteFile(certFile, cert, 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		os.Setenv("SSL_CERT_FILE", certFile)
		os.Setenv("SSL_CERT_DIR", dir)
		code := m.Run()
		if binDir != "" {
			os.RemoveAll(binDir)
		}
		return code
	}())
}

// The version and commit the end-to-end binary is stamped with (-ldflags -X).
const (
	e2eVersion = "v0.0.0-e2e"
	e2eCommit  = "0123456789abcdef0123456789abcdef01234567"
)

var (
	binOnce sync.Once
	binDone = make(chan struct{})
	binDir  string
	binPath string
	binErr  error
)

// prebuild starts building the binary in the background, once. An
// end-to-end test calls it before t.Parallel, so that the build overlaps
// the in-process tests.
func prebuild() {
	binOnce.Do(func() {
		go func() {
			defer close(binDone)
			dir, err := os.MkdirTemp("", "flowmask-bin")
			if err != nil {
				binErr = err
				return
			}
			binDir = dir
			binPath = filepath.Join(dir, "flowmask")
			if runtime.GOOS == "windows" {
				binPath += ".exe"
			}
			// -s -w: no symbol table or DWARF, a cheaper link.
			ldflags := "-s -w -X main.version=" + e2eVersion + " -X main.commit=" + e2eCommit
			out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", binPath, ".").CombinedOutput()
			if err != nil {
				binErr = fmt.Errorf("%v: %s", err, out)
			}
		}()
	})
}

// flowmaskBin returns the built binary, waiting for the one build.
func flowmaskBin(t *testing.T) string {
	t.Helper()
	prebuild()
	<-binDone
	if binErr != nil {
		t.Fatalf("build flowmask: %v", binErr)
	}
	return binPath
}

type result struct {
	stdout, stderr string
	code           int
}

// runBin runs the command line in process: run, the binary's own entry
// point, with buffers for its standard streams and env (NAME=value entries)
// as its whole environment, so CLI tests take milliseconds and can run in
// parallel. Tests that need a separate process (signals, the process's
// memory, the built binary itself) use runBinary.
func runBin(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, testStreams(strings.NewReader(stdin), &out, &errb, env))
	return result{out.String(), errb.String(), code}
}

// testStreams are streams on the given reader and writers with env
// (NAME=value entries) as the whole environment and no signals.
func testStreams(in io.Reader, out, errw io.Writer, env []string) streams {
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return streams{
		In: in, Out: out, Err: errw,
		LookupEnv: func(name string) (string, bool) { v, ok := vars[name]; return v, ok },
		Environ:   func() []string { return slices.Clone(env) },
	}
}

// runBinary runs the built binary as a separate process, with env added to
// the test's environment.
func runBinary(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(flowmaskBin(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// lockedBuf is a bytes.Buffer safe for concurrent writers and readers.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testSignals delivers signals to the commands of one in-process run, as
// signal.Notify does for a process.
type testSignals struct {
	mu   sync.Mutex
	subs map[chan<- os.Signal][]os.Signal
}

func (s *testSignals) notify(c chan<- os.Signal, sig ...os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = map[chan<- os.Signal][]os.Signal{}
	}
	s.subs[c] = append(s.subs[c], sig...)
}

func (s *testSignals) stop(c chan<- os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, c)
}

// send delivers sig to every channel notified of it, without blocking.
func (s *testSignals) send(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, sigs := range s.subs {
		if slices.Contains(sigs, sig) {
			select {
			case c <- sig:
			default:
			}
		}
	}
	return nil
}

// server is a long-running command (proxy, forward, kafka) a test started:
// in process (startServer) or the built binary (startServerBinary).
type server struct {
	stdout, stderr *lockedBuf
	signal         func(os.Signal) error
	pid            int // the process's; 0 in process
	done           chan struct{}
	code           int // the exit code, once done is closed
}

// startServer runs the command line in process with env as its whole
// environment and signals from the test (server.signal); the cleanup stops
// it (as SIGTERM does) if the test did not.
func startServer(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	sig := &testSignals{}
	s := &server{stdout: &lockedBuf{}, stderr: &lockedBuf{}, signal: sig.send, done: make(chan struct{})}
	st := testStreams(strings.NewReader(""), s.stdout, s.stderr, env)
	st.Notify, st.Stop = sig.notify, sig.stop
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(s.done)
		s.code = run(ctx, args, st)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("flowmask %s did not stop", strings.Join(args, " "))
		}
	})
	return s
}

// startServerBinary starts the built binary with env added to the test's
// environment; the cleanup stops it (SIGTERM, then SIGKILL) if the test did
// not.
func startServerBinary(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	s := &server{stdout: &lockedBuf{}, stderr: &lockedBuf{}, done: make(chan struct{})}
	cmd := exec.Command(flowmaskBin(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.pid = cmd.Process.Pid
	s.signal = cmd.Process.Signal
	go func() {
		defer close(s.done)
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			s.code = ee.ExitCode()
		default:
			s.code = -1
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// waitLog waits for a JSON log line on stderr that match accepts and
// returns it; it fails the test when the command exits first.
func (s *server) waitLog(t *testing.T, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for line := range strings.Lines(s.stderr.String()) {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && match(m) {
				return m
			}
		}
		select {
		case <-s.done:
			t.Fatalf("flowmask exited (code %d) before %s:\n%s", s.code, what, s.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s:\n%s", what, s.stderr.String())
		}
	}
}

// listening waits for the "listening" log line of the forward proxy (name
// "forward") or of the other listeners (name "": the reverse proxy, the
// kafka command's admin) and returns it.
func (s *server) listening(t *testing.T, name string) map[string]any {
	t.Helper()
	return s.waitLog(t, "the listening line", func(m map[string]any) bool {
		if name == "" {
			return m["msg"] == "listening" && m["proxy"] != "forward"
		}
		return m["msg"] == "listening" && m["proxy"] == name
	})
}

// stop sends SIGTERM and waits for exit code 0.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.code != 0 {
			t.Errorf("exit %d after SIGTERM; want 0\n%s", s.code, s.stderr.String())
		}
	case <-time.After(45 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

// waitFor polls cond until it holds, failing the test after 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
