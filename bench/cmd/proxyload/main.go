// Command proxyload compares `flowmask proxy` with a plain
// httputil.ReverseProxy on loopback, in one run, on the same machine.
//
// Both proxies run as separate processes (flowmask is built from the
// repository; the plain proxy is this program re-executed with -plain), in
// front of the same upstream, which reads and discards each body. Each
// case sends JSON bodies holding secrets from -clients concurrent clients
// for -duration and reports requests/s, p50/p99 latency and each proxy's
// peak RSS (VmHWM). Both proxies keep at least as many idle upstream
// connections per host as there are clients. With -stream-mib N it also
// streams an N MiB generated NDJSON body through flowmask and reports its
// peak RSS.
//
//	cd bench && go run ./cmd/proxyload -duration 10s
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "proxyload:", err)
		os.Exit(1)
	}
}

type options struct {
	clients   int
	duration  time.Duration
	warmup    time.Duration
	sizes     string
	repo      string
	bin       string
	streamMiB int
	proxyCPUs string
	rate      int
	gzip      bool
}

func run() error {
	var o options
	plain := flag.String("plain", "", "internal: run a plain httputil.ReverseProxy to this upstream URL")
	flag.IntVar(&o.clients, "clients", 32, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per case")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up per case")
	flag.StringVar(&o.sizes, "sizes", "1024,65536", "JSON body sizes in bytes, comma-separated")
	flag.StringVar(&o.repo, "repo", "..", "flowmask repository root (to build the binary)")
	flag.StringVar(&o.bin, "flowmask", "", "flowmask binary (default: build it from -repo)")
	flag.IntVar(&o.rate, "rate", 1000, "also measure latency at this fixed total request rate (below both proxies' capacity); 0 skips it")
	flag.BoolVar(&o.gzip, "gzip", true, "also measure gzip-compressed request bodies (Content-Encoding: gzip)")
	flag.IntVar(&o.streamMiB, "stream-mib", 0, "also stream an N MiB body through flowmask and report its peak RSS")
	flag.StringVar(&o.proxyCPUs, "proxy-cpus", "", "run the proxies under test on these CPUs (taskset -c LIST), so the load generator, run on the others (e.g. taskset -c 0 proxyload -proxy-cpus 1), does not compete with them")
	flag.Parse()
	if *plain != "" {
		return servePlain(*plain, o.clients)
	}
	return compare(o)
}

// servePlain is the baseline: httputil.ReverseProxy with a pool as large as
// flowmask's.
func servePlain(upstream string, clients int) error {
	u, err := url.Parse(upstream)
	if err != nil {
		return err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(clients, 512)
	tr.MaxIdleConns = 0
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport: tr,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("{\"msg\":\"listening\",\"addr\":%q}\n", ln.Addr().String())
	return (&http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}

// proc is a proxy under test.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string
}

func startProc(name string, cmd *exec.Cmd, fromStdout bool) (*proc, error) {
	var pipe io.ReadCloser
	var err error
	if fromStdout {
		pipe, err = cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
	} else {
		pipe, err = cmd.StderrPipe()
		cmd.Stdout = io.Discard
	}
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "listening" {
				a, _ := m["addr"].(string)
				addr <- a
				break
			}
		}
		// Drain the rest (the audit records) without parsing it: parsing
		// would spend the CPU the proxies under test are measured on.
		io.Copy(io.Discard, pipe) //nolint:errcheck
	}()
	select {
	case a := <-addr:
		return &proc{name: name, cmd: cmd, addr: a}, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not start", name)
	}
}

func (p *proc) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
	}
}

// peakRSS is the process's VmHWM in bytes.
func (p *proc) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// upstream reads and discards bodies and counts secrets that got through.
type upstream struct {
	leaks atomic.Int64
	reqs  atomic.Int64
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = zr
	}
	buf := make([]byte, 32<<10)
	var tail []byte
	for {
		n, err := r.Body.Read(buf)
		chunk := append(tail, buf[:n]...)
		if bytes.Contains(chunk, []byte(secret)) {
			u.leaks.Add(1)
		}
		tail = append(tail[:0], chunk[max(0, len(chunk)-len(secret)):]...)
		if err != nil {
			break
		}
	}
	u.reqs.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true}`))
}

const secret = "hunter2-hunter2"

// body returns a JSON array of log records of about size bytes; every
// record holds a password.
func body(size int) []byte {
	var b bytes.Buffer
	b.WriteString("[")
	for i := 0; ; i++ {
		rec := fmt.Sprintf(`{"time":"2026-01-01T00:00:%02dZ","level":"info","host":"web-%d","msg":"user login ok","password":%q,"pad":"`, i%60, i, secret)
		if i > 0 {
			rec = "," + rec
		}
		rest := size - b.Len() - len(rec) - 3
		if rest < 0 && i > 0 {
			break
		}
		pad := min(max(rest, 0), 900)
		b.WriteString(rec)
		b.WriteString(strings.Repeat("x", pad))
		b.WriteString(`"}`)
		if b.Len() >= size-2 {
			break
		}
	}
	b.WriteString("]")
	return b.Bytes()
}

type result struct {
	Proxy    string  `json:"proxy"`
	Size     int     `json:"size"`
	Requests int     `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	PeakRSS  int64   `json:"peak_rss_bytes"`
}

// load sends bodies from o.clients goroutines for warm-up plus duration.
func load(o options, target string, data []byte, rate int, gzipped bool) (result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: o.clients * 2, MaxIdleConns: 0, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var errs atomic.Int64
	lat := make([][]time.Duration, o.clients)
	start := time.Now()
	measureFrom := start.Add(o.warmup)
	end := measureFrom.Add(o.duration)
	var wg sync.WaitGroup
	for c := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tick *time.Ticker
			if rate > 0 {
				// Paced: each client sends every clients/rate seconds, so the
				// latency is measured below saturation.
				tick = time.NewTicker(time.Duration(float64(time.Second) * float64(o.clients) / float64(rate)))
				defer tick.Stop()
			}
			for {
				if tick != nil {
					<-tick.C
				}
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(data))
				req.Header.Set("Content-Type", "application/json")
				if gzipped {
					req.Header.Set("Content-Encoding", "gzip")
				}
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = errors.New(resp.Status)
					}
				}
				d := time.Since(t0)
				if err != nil {
					errs.Add(1)
					continue
				}
				if t0.After(measureFrom) && t0.Add(d).Before(end) {
					lat[c] = append(lat[c], d)
				}
			}
		}()
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return result{}, fmt.Errorf("no successful requests (%d errors)", errs.Load())
	}
	slices.Sort(all)
	ms := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000 }
	return result{Size: len(data), Requests: len(all), Errors: errs.Load(), RPS: float64(len(all)) / o.duration.Seconds(), P50: ms(.50), P99: ms(.99)}, nil
}

func compare(o options) error {
	up := &upstream{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go (&http.Server{Handler: up, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	upURL := "http://" + ln.Addr().String()

	bin := o.bin
	if bin == "" {
		dir, err := os.MkdirTemp("", "proxyload")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "flowmask")
		build := exec.Command("go", "build", "-o", bin, "./cmd/flowmask")
		build.Dir = o.repo
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build flowmask: %v\n%s", err, out)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	plain, err := startProc("plain", o.command(self, "-plain", upURL, "-clients", strconv.Itoa(o.clients)), true)
	if err != nil {
		return err
	}
	defer plain.stop()
	fm, err := startProc("flowmask", o.command(bin, "proxy", "--listen", "127.0.0.1:0", "--admin", "off", "--upstream", upURL), false)
	if err != nil {
		return err
	}
	defer fm.stop()

	fmt.Printf("proxyload: %d clients, %v per case (+%v warm-up), GOMAXPROCS %d, %s\n", o.clients, o.duration, o.warmup, runtime.GOMAXPROCS(0), cpuModel())
	fmt.Printf("%-9s %8s %6s %10s %9s %9s %9s %8s\n", "proxy", "body", "load", "req/s", "p50 ms", "p99 ms", "peak RSS", "errors")
	var results []result
	type kase struct {
		size, rate int
		gzip       bool
	}
	var cases []kase
	for _, s := range strings.Split(o.sizes, ",") {
		size, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-sizes: %v", err)
		}
		cases = append(cases, kase{size, 0, false})
		if o.gzip {
			cases = append(cases, kase{size, 0, true})
		}
		if o.rate > 0 {
			cases = append(cases, kase{size, o.rate, false})
		}
	}
	for _, k := range cases {
		size := k.size
		data := body(size)
		if k.gzip {
			var zb bytes.Buffer
			zw := gzip.NewWriter(&zb)
			zw.Write(data) //nolint:errcheck // bytes.Buffer
			zw.Close()
			data = zb.Bytes()
		}
		loadName := "max"
		if k.gzip {
			loadName = "max/gz"
		}
		if k.rate > 0 {
			loadName = strconv.Itoa(k.rate)
		}
		for _, p := range []*proc{plain, fm} {
			leaksBefore := up.leaks.Load()
			r, err := load(o, "http://"+p.addr+"/ingest", data, k.rate, k.gzip)
			if err != nil {
				return fmt.Errorf("%s, %d bytes: %w", p.name, size, err)
			}
			r.Proxy, r.PeakRSS = p.name, p.peakRSS()
			if p == fm && up.leaks.Load() != leaksBefore {
				return fmt.Errorf("flowmask let %d secrets through", up.leaks.Load()-leaksBefore)
			}
			results = append(results, r)
			fmt.Printf("%-9s %8d %6s %10.0f %9.3f %9.3f %8.1fM %8d\n", r.Proxy, r.Size, loadName, r.RPS, r.P50, r.P99, float64(r.PeakRSS)/(1<<20), r.Errors)
		}
		n := len(results)
		pl, fl := results[n-2], results[n-1]
		fmt.Printf("  flowmask/plain, %d bytes, load %s: %.0f%% of req/s, p50 %+.3f ms, p99 %+.3f ms\n", size, loadName, 100*fl.RPS/pl.RPS, fl.P50-pl.P50, fl.P99-pl.P99)
	}
	if o.streamMiB > 0 {
		// A fresh process with limits large enough for the stream, so its
		// peak RSS is the stream's alone.
		dir, err := os.MkdirTemp("", "proxyload-stream")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg := filepath.Join(dir, "proxy.yaml")
		yaml := "listen: 127.0.0.1:0\nadmin: \"off\"\nroutes:\n  - upstream: " + upURL + "\n    limits: {max_body_bytes: 64GiB, max_decoded_bytes: 64GiB}\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			return err
		}
		fs, err := startProc("flowmask", o.command(bin, "proxy", "--config", cfg), false)
		if err != nil {
			return err
		}
		defer fs.stop()
		leaksBefore := up.leaks.Load()
		if err := stream(fs, o.streamMiB); err != nil {
			return err
		}
		if n := up.leaks.Load() - leaksBefore; n != 0 {
			return fmt.Errorf("flowmask let %d secrets through", n)
		}
	}
	return nil
}

// stream posts an n MiB generated NDJSON body through flowmask.
func stream(fm *proc, mib int) error {
	line := []byte(`{"ts":"2026-01-01T00:00:00Z","level":"info","msg":"user login ok","password":"` + secret + `","pad":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}` + "\n")
	size := int64(mib) << 20
	pr, pw := io.Pipe()
	go func() {
		block := bytes.Repeat(line, (64<<10)/len(line))
		var sent int64
		for sent < size {
			n := min(int64(len(block)), size-sent)
			if _, err := pw.Write(block[:n]); err != nil {
				return
			}
			sent += n
		}
		pw.Close()
	}()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+fm.addr+"/stream", pr)
	req.Header.Set("Content-Type", "application/x-ndjson")
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	d := time.Since(t0)
	fmt.Printf("stream: %d MiB through flowmask in %v (%.0f MiB/s), status %d, flowmask peak RSS %.1f MiB\n",
		mib, d.Round(time.Millisecond), float64(mib)/d.Seconds(), resp.StatusCode, float64(fm.peakRSS())/(1<<20))
	return nil
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}

// command runs a proxy under test, pinned to -proxy-cpus when set.
func (o *options) command(name string, args ...string) *exec.Cmd {
	if o.proxyCPUs == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", o.proxyCPUs, name}, args...)...)
}
