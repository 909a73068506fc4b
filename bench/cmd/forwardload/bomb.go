package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// bombSecret is planted on every line of a bomb body; the upstream counts
// the bodies in which it arrives unmasked.
const bombSecret = "sk_live_51HbQzR2eZvKYlo2C8sTq9WmXa"

// bombLine is one NDJSON line of a bomb body (122 bytes, so the
// body is text the proxies must scan, not zeros they could skip).
var bombLine = []byte(`{"level":"info","msg":"charge created","api_key":"` + bombSecret + `","password":"Wint3r-Is-Coming-2026"}` + "\n")

// repeatReader yields line over and over, n bytes in all.
type repeatReader struct {
	line []byte
	off  int
	n    int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	total := 0
	for total < len(p) {
		c := copy(p[total:], r.line[r.off:])
		total += c
		r.off = (r.off + c) % len(r.line)
	}
	r.n -= int64(total)
	return total, nil
}

// bombBody gzips mib MiB of bombLine text as it streams (the decoded text
// is never held; only the compressed output, about 1/1000 of it, is). The
// same compressed bytes are then sent by every client.
func bombBody(mib int) ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(zw, &repeatReader{line: bombLine, n: int64(mib) << 20}); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// bombUpstream counts what reaches the destination: bytes of request
// body (decoded) and bodies holding the planted secret unmasked.
type bombUpstream struct {
	requests atomic.Int64
	bytes    atomic.Int64
	leaked   atomic.Int64
	aborted  atomic.Int64 // bodies that ended in an error, not a clean EOF
}

func (u *bombUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.requests.Add(1)
	// flowmask proxy sends a body on in the coding it came in; count and
	// search the decoded text.
	var body io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "bad gzip", http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = zr
	}
	// Search the stream for the secret, keeping only a tail of the
	// previous read so a secret split across reads is still seen.
	buf := make([]byte, 64<<10)
	var tail []byte
	leaked := false
	for {
		n, err := body.Read(buf)
		if n > 0 {
			u.bytes.Add(int64(n))
			if !leaked {
				win := append(tail, buf[:n]...)
				if bytes.Contains(win, []byte(bombSecret)) {
					leaked = true
				}
				k := len(bombSecret) - 1
				if len(win) < k {
					k = len(win)
				}
				tail = append(tail[:0], win[len(win)-k:]...)
			}
		}
		if err != nil {
			if err != io.EOF {
				u.aborted.Add(1)
			}
			break
		}
	}
	if leaked {
		u.leaked.Add(1)
	}
	w.WriteHeader(http.StatusNoContent)
}

// bombCase is one gzip-bomb run against a fresh flowmask process.
type bombCase struct {
	name    string
	args    func(upHostPort, upURL, dir string) ([]string, error)
	forward bool // send through the forward proxy (else to the reverse proxy's listener)
}

// gzipBombs runs k concurrent POSTs of a gzip body that decodes to mib MiB
// through flowmask forward (redact-requests) and flowmask proxy, each in a
// fresh process, and reports statuses, what reached the upstream and the
// process's peak RSS growth.
func gzipBombs(bin, caDir string, mib, k int, targets string) error {
	t0 := time.Now()
	gz, err := bombBody(mib)
	if err != nil {
		return err
	}
	fmt.Printf("gzipbomb: %d concurrent POSTs, each %.2f MiB of gzip decoding to %d MiB of NDJSON with a secret on every line (compressed in %s)\n",
		k, float64(len(gz))/(1<<20), mib, time.Since(t0).Round(time.Millisecond))
	var cases []bombCase
	for _, t := range strings.Split(targets, ",") {
		switch strings.TrimSpace(t) {
		case "forward":
			cases = append(cases, bombCase{name: "flowmask forward, redact-requests, default limits", forward: true,
				args: func(hp, _, dir string) ([]string, error) {
					return []string{"forward", "--listen", "127.0.0.1:0", "--ca-dir", caDir,
						"--audit", filepath.Join(dir, "audit.jsonl"), "--allow", hp, "--redact-requests", hp}, nil
				}})
		case "proxy":
			cases = append(cases, bombCase{name: "flowmask proxy, default limits",
				args: func(_, upURL, dir string) ([]string, error) {
					cfg := filepath.Join(dir, "proxy.yaml")
					yaml := "listen: 127.0.0.1:0\nadmin: \"off\"\nroutes:\n  - upstream: " + upURL + "\n"
					if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
						return nil, err
					}
					return []string{"proxy", "--config", cfg}, nil
				}})
		case "":
		default:
			return fmt.Errorf("-bombtargets: unknown target %q (forward, proxy)", t)
		}
	}
	for _, c := range cases {
		if err := runBombCase(bin, c, gz, mib, k); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return nil
}

func runBombCase(bin string, c bombCase, gz []byte, mib, k int) error {
	dir, err := os.MkdirTemp("", "forwardload-bomb")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	up := &bombUpstream{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	hp := srv.Listener.Addr().String()
	args, err := c.args(hp, srv.URL, dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, pid, stop, err := startForward(ctx, bin, args)
	if err != nil {
		return err
	}
	defer stop()

	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: k}
	target := srv.URL + "/ingest"
	if c.forward {
		pu, _ := url.Parse("http://" + addr)
		tr.Proxy = http.ProxyURL(pu)
	} else {
		target = "http://" + addr + "/ingest"
	}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	defer tr.CloseIdleConnections()

	// Warm up with one small clean request, so the baseline is a serving
	// process.
	resp, err := client.Post(target, "application/x-ndjson", strings.NewReader(`{"msg":"warm"}`+"\n"))
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck
	resp.Body.Close()
	time.Sleep(300 * time.Millisecond)
	reqsBefore, bytesBefore := up.requests.Load(), up.bytes.Load()
	before, hwmBefore := procKiB(pid, "VmRSS"), procKiB(pid, "VmHWM")

	var peak atomic.Int64
	peak.Store(before)
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
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

	start := time.Now()
	var (
		mu       sync.Mutex
		statuses = map[string]int{}
		wg       sync.WaitGroup
	)
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(gz))
			req.Header.Set("Content-Type", "application/x-ndjson")
			req.Header.Set("Content-Encoding", "gzip")
			s := ""
			resp, err := client.Do(req)
			if err != nil {
				s = "error: " + shortErr(err)
			} else {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
				resp.Body.Close()
				s = resp.Status
				if reason := errorReason(b); reason != "" {
					s += " " + reason
				}
			}
			mu.Lock()
			statuses[s]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	close(done)
	<-sampled
	hwmAfter := procKiB(pid, "VmHWM")

	keys := make([]string, 0, len(statuses))
	for s := range statuses {
		keys = append(keys, s)
	}
	sort.Strings(keys)
	fmt.Printf("  %s: %d × %d MiB decoded, %s\n", c.name, k, mib, elapsed.Round(time.Millisecond))
	for _, s := range keys {
		fmt.Printf("    client got: %d × %s\n", statuses[s], s)
	}
	fmt.Printf("    upstream: %d requests (%d of them aborted part-way, not a clean end of body), %.1f MiB of decoded body received, %d bodies with the secret unmasked\n",
		up.requests.Load()-reqsBefore, up.aborted.Load(), float64(up.bytes.Load()-bytesBefore)/(1<<20), up.leaked.Load())
	fmt.Printf("    flowmask RSS before: %.1f MiB, peak sampled: %.1f MiB; VmHWM before: %.1f MiB, after: %.1f MiB; growth (VmHWM after - RSS before): %.1f MiB\n",
		float64(before)/1024, float64(peak.Load())/1024, float64(hwmBefore)/1024, float64(hwmAfter)/1024, float64(hwmAfter-before)/1024)
	return nil
}

// errorReason picks the "code" field out of flowmask's JSON error body, if any.
func errorReason(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := sc.Text()
		if i := strings.Index(l, `"code":"`); i >= 0 {
			r := l[i+len(`"code":"`):]
			if j := strings.IndexByte(r, '"'); j >= 0 {
				return "(" + r[:j] + ")"
			}
		}
	}
	return ""
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
