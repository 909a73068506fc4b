// Command forwardload measures `flowmask forward` on loopback: proxied
// requests per second for plain HTTP (record mode), HTTPS tunnelled blind,
// HTTPS intercepted (record mode) and HTTPS intercepted with
// redact-responses, each against a direct request to the same destination.
//
// flowmask is built from the repository and run as a separate process with
// a fresh CA (`flowmask ca init`); the destinations (HTTP and HTTPS) run in
// this process. Each request POSTs a JSON body of -size bytes holding
// secrets and gets a JSON body of the same size back. -clients concurrent
// clients keep their connections alive (so the CONNECT and TLS handshakes
// are amortised); -fresh adds a case that opens a new connection per
// request through the interception path (handshake and cached leaf).
//
// -bigheader N (MiB, default 100; 0 skips) then sends one request whose
// header is N MiB inside an intercepted CONNECT tunnel and reports what
// the client got (431 expected), how much the proxy read before closing,
// whether any of it reached the audit records, and flowmask's resident
// memory before and at its peak (sampled from /proc every 5ms, and the
// kernel's VmHWM). -load=false skips the throughput cases.
//
//	cd bench && go run ./cmd/forwardload -duration 5s
//	cd bench && go run ./cmd/forwardload -load=false -bigheader 100
//	cd bench && go run ./cmd/forwardload -load=false -bigheader 0 -gzipbomb 1024 -bombs 8
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "forwardload:", err)
		os.Exit(1)
	}
}

type options struct {
	clients  int
	duration time.Duration
	warmup   time.Duration
	size     int
	repo     string
	bin      string
	fresh    bool
	load     bool
	bigMiB   int
	bombMiB  int
	bombs    int
	targets  string
}

func run() error {
	var o options
	flag.IntVar(&o.clients, "clients", 16, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per case")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up per case")
	flag.IntVar(&o.size, "size", 1024, "request and response JSON body size in bytes")
	flag.StringVar(&o.repo, "repo", "..", "flowmask repository root (to build the binary)")
	flag.StringVar(&o.bin, "flowmask", "", "flowmask binary (default: build it from -repo)")
	flag.BoolVar(&o.fresh, "fresh", true, "also measure a new connection per request through interception")
	flag.BoolVar(&o.load, "load", true, "run the throughput cases")
	flag.IntVar(&o.bigMiB, "bigheader", 100, "MiB of request header to send inside an intercepted tunnel, measuring flowmask's RSS (0 skips)")
	flag.IntVar(&o.bombMiB, "gzipbomb", 0, "MiB that each gzip bomb decodes to; POSTs -bombs of them at once through each of -bombtargets in a fresh process, measuring its RSS (0 skips)")
	flag.IntVar(&o.bombs, "bombs", 8, "concurrent gzip bombs (with -gzipbomb)")
	flag.StringVar(&o.targets, "bombtargets", "forward,proxy", "where to send the gzip bombs: forward (redact-requests), proxy (flowmask proxy), or both, comma-separated")
	flag.Parse()

	dir, err := os.MkdirTemp("", "forwardload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := o.bin
	if bin == "" {
		bin = filepath.Join(dir, "flowmask")
		build := exec.Command("go", "build", "-o", bin, "./cmd/flowmask")
		build.Dir = o.repo
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build flowmask: %v\n%s", err, out)
		}
	}
	body := jsonBody(o.size)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck
		w.Header().Set("Content-Type", "application/json")
		w.Write(body) //nolint:errcheck
	})
	plain := httptest.NewServer(handler)
	defer plain.Close()
	tunnelled := httptest.NewTLSServer(handler)
	defer tunnelled.Close()
	inter := httptest.NewTLSServer(handler)
	defer inter.Close()
	redacted := httptest.NewTLSServer(handler)
	defer redacted.Close()
	hp := func(s *httptest.Server) string { return s.Listener.Addr().String() }

	upCA := filepath.Join(dir, "upstream.pem")
	var pems []byte
	for _, s := range []*httptest.Server{tunnelled, inter, redacted} {
		pems = append(pems, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})...)
	}
	if err := os.WriteFile(upCA, pems, 0o600); err != nil {
		return err
	}
	caDir := filepath.Join(dir, "ca")
	if out, err := exec.Command(bin, "ca", "init", "--out", caDir).CombinedOutput(); err != nil {
		return fmt.Errorf("ca init: %v\n%s", err, out)
	}
	args := []string{"forward", "--listen", "127.0.0.1:0", "--ca-dir", caDir, "--upstream-ca", upCA,
		"--audit", filepath.Join(dir, "audit.jsonl")}
	for _, s := range []*httptest.Server{plain, tunnelled, inter, redacted} {
		args = append(args, "--allow", hp(s))
	}
	args = append(args, "--intercept", hp(inter), "--intercept", hp(redacted), "--redact-responses", hp(redacted))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	proxyAddr, pid, stop, err := startForward(ctx, bin, args)
	if err != nil {
		return err
	}
	defer stop()
	proxyURL, _ := url.Parse("http://" + proxyAddr)

	caPEM, err := os.ReadFile(filepath.Join(caDir, "ca.crt"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	pool.AppendCertsFromPEM(pems)

	type tcase struct {
		name  string
		url   string
		proxy bool
		fresh bool
	}
	cases := []tcase{
		{"http direct", plain.URL, false, false},
		{"http via forward (record)", plain.URL, true, false},
		{"https direct", tunnelled.URL, false, false},
		{"https via forward (blind tunnel)", tunnelled.URL, true, false},
		{"https via forward (intercepted, record)", inter.URL, true, false},
		{"https via forward (intercepted, redact-responses)", redacted.URL, true, false},
	}
	if o.fresh {
		cases = append(cases,
			tcase{"https direct, new connection per request", tunnelled.URL, false, true},
			tcase{"https via forward (blind tunnel), new connection per request", tunnelled.URL, true, true},
			tcase{"https via forward (intercepted, record), new connection per request", inter.URL, true, true})
	}
	if o.bigMiB > 0 {
		if err := bigHeader(proxyAddr, pid, hp(inter), pool, o.bigMiB, filepath.Join(dir, "audit.jsonl")); err != nil {
			return fmt.Errorf("bigheader: %w", err)
		}
	}
	if o.bombMiB > 0 {
		if err := gzipBombs(bin, caDir, o.bombMiB, o.bombs, o.targets); err != nil {
			return fmt.Errorf("gzipbomb: %w", err)
		}
	}
	if !o.load {
		return nil
	}
	fmt.Printf("forwardload: %d clients, %d B JSON request and response, %s per case (after %s warm-up)\n",
		o.clients, o.size, o.duration, o.warmup)
	fmt.Printf("machine: %s, %d CPUs (%s/%s), %s; destinations, clients and flowmask share the machine\n\n",
		cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Printf("%-70s %10s %9s %9s\n", "case", "req/s", "p50 ms", "p99 ms")
	var base float64
	for _, c := range cases {
		tr := &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool},
			MaxIdleConnsPerHost: o.clients,
			DisableKeepAlives:   c.fresh,
			DisableCompression:  true,
		}
		if c.proxy {
			tr.Proxy = http.ProxyURL(proxyURL)
		}
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		res, err := load(client, c.url+"/ingest?api_key=sk_live_abcdefghijklmnop1234", body, o.clients, o.warmup, o.duration)
		tr.CloseIdleConnections()
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		rel := ""
		if strings.Contains(c.name, "direct") {
			base = res.rps
		} else if base > 0 {
			rel = fmt.Sprintf("  (%.0f%% of direct)", 100*res.rps/base)
		}
		fmt.Printf("%-70s %10.0f %9.2f %9.2f%s\n", c.name, res.rps, res.p50, res.p99, rel)
	}
	return nil
}

// jsonBody is a JSON object of about n bytes with a password, a bearer
// token and filler.
func jsonBody(n int) []byte {
	head := `{"user":"svc-connector","password":"hunter2-hunter2","auth":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl","items":[`
	var b bytes.Buffer
	b.WriteString(head)
	for i := 0; b.Len() < n-40; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"status":"ok"}`, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

type result struct {
	rps, p50, p99 float64
}

// load runs clients goroutines posting body to u for warmup+dur and
// reports the measured part.
func load(c *http.Client, u string, body []byte, clients int, warmup, dur time.Duration) (result, error) {
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		count     atomic.Int64
		mu        sync.Mutex
		lat       []time.Duration
		firstErr  error
		wg        sync.WaitGroup
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for !stop.Load() {
				start := time.Now()
				resp, err := c.Post(u, "application/json", bytes.NewReader(body))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					stop.Store(true)
					return
				}
				if measuring.Load() {
					count.Add(1)
					mine = append(mine, time.Since(start))
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	time.Sleep(warmup)
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(dur)
	measuring.Store(false)
	elapsed := time.Since(t0)
	stop.Store(true)
	wg.Wait()
	if firstErr != nil {
		return result{}, firstErr
	}
	if len(lat) == 0 {
		return result{}, errors.New("no request completed")
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	return result{rps: float64(count.Load()) / elapsed.Seconds(), p50: q(0.50), p99: q(0.99)}, nil
}

// startForward runs flowmask forward and waits for its "listening" line;
// it returns the address and the process id.
func startForward(ctx context.Context, bin string, args []string) (string, int, func(), error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "listening" {
				a, _ := m["addr"].(string)
				addr <- a
			} else if !strings.Contains(sc.Text(), `"level":"info"`) && !strings.Contains(sc.Text(), `"msg":"exchange"`) {
				fmt.Fprintln(os.Stderr, "flowmask:", sc.Text())
			}
		}
		// Keep draining (a line too long for the scanner must not leave
		// flowmask blocked writing its log).
		io.Copy(io.Discard, pipe) //nolint:errcheck
	}()
	stop := func() {
		cmd.Process.Signal(os.Interrupt) //nolint:errcheck
		cmd.Wait()                       //nolint:errcheck
	}
	select {
	case a := <-addr:
		return a, cmd.Process.Pid, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", 0, nil, errors.New("flowmask forward did not start")
	}
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// procKiB reads a "VmRSS"/"VmHWM"-style line of /proc/PID/status in KiB.
func procKiB(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			var n int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &n) //nolint:errcheck
			return n
		}
	}
	return -1
}

// bigHeader sends a request with a header of mib MiB inside an intercepted
// tunnel to host and reports flowmask's memory and answer.
func bigHeader(proxyAddr string, pid int, host string, pool *x509.CertPool, mib int, auditFile string) error {
	// Warm the interception path (leaf minted, TLS set up) so the baseline
	// is a serving proxy, not a fresh one.
	proxyURL, _ := url.Parse("http://" + proxyAddr)
	warm := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	if resp, err := warm.Get("https://" + host + "/warm"); err == nil {
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		resp.Body.Close()
	} else {
		return fmt.Errorf("warm-up: %w", err)
	}
	warm.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
	before, hwmBefore := procKiB(pid, "VmRSS"), procKiB(pid, "VmHWM")

	var peak atomic.Int64
	peak.Store(before)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if r := procKiB(pid, "VmRSS"); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()

	conn, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CONNECT: %v %v", resp, err)
	}
	h, _, _ := net.SplitHostPort(host)
	tc := tls.Client(conn, &tls.Config{RootCAs: pool, ServerName: h})
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("TLS: %w", err)
	}
	status := make(chan string, 1)
	go func() {
		r, err := http.ReadResponse(bufio.NewReader(tc), nil)
		if err != nil {
			status <- "no response (" + err.Error() + ")"
			return
		}
		status <- r.Status
	}()
	fmt.Fprintf(tc, "GET /big HTTP/1.1\r\nHost: %s\r\nX-Big-Header: ", host)
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	var sent int64
	for i := 0; i < mib; i++ {
		tc.SetWriteDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
		n, err := tc.Write(chunk)
		sent += int64(n)
		if err != nil {
			break
		}
	}
	var got string
	select {
	case got = <-status:
	case <-time.After(15 * time.Second):
		got = "no response (timeout)"
	}
	time.Sleep(200 * time.Millisecond)
	close(done)
	hwmAfter := procKiB(pid, "VmHWM")
	audit, _ := os.ReadFile(auditFile)
	recorded := bytes.Contains(audit, []byte("aaaaaaaaaaaaaaaa")) || bytes.Contains(bytes.ToLower(audit), []byte("x-big-header"))
	fmt.Printf("bigheader: %d MiB header inside an intercepted tunnel\n", mib)
	stopped := ""
	if sent < int64(mib)<<20 {
		stopped = " (then the proxy closed the connection)"
	}
	fmt.Printf("  client got: %s; sent %.1f MiB of the header%s\n", got, float64(sent)/(1<<20), stopped)
	fmt.Printf("  header in audit records: %v\n", recorded)
	fmt.Printf("  flowmask RSS before: %.1f MiB, peak sampled: %.1f MiB, growth: %.1f MiB\n",
		float64(before)/1024, float64(peak.Load())/1024, float64(peak.Load()-before)/1024)
	fmt.Printf("  flowmask VmHWM before: %.1f MiB, after: %.1f MiB\n\n", float64(hwmBefore)/1024, float64(hwmAfter)/1024)
	return nil
}
