package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progress prints bytes, rate and findings to a terminal every half second.
// It prints nothing when stderr is not a terminal.
type progress struct {
	out      io.Writer
	label    string
	bytes    atomic.Int64
	findings atomic.Int64
	start    time.Time
	done     chan struct{}
	once     sync.Once
	active   bool
	// countFindings adds the findings count (scan) to the line.
	countFindings bool
}

func newProgress(out io.Writer, label string, countFindings bool) *progress {
	p := &progress{out: out, label: label, start: time.Now(), done: make(chan struct{}), countFindings: countFindings}
	if f, ok := out.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return p
	}
	p.active = true
	go p.loop()
	return p
}

func (p *progress) loop() {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			if time.Since(p.start) < time.Second {
				continue
			}
			p.print()
		}
	}
}

func (p *progress) print() {
	n := p.bytes.Load()
	secs := time.Since(p.start).Seconds()
	line := fmt.Sprintf("\r%s: %s, %s/s", p.label, human(n), human(int64(float64(n)/secs)))
	if p.countFindings {
		line += fmt.Sprintf(", %d findings", p.findings.Load())
	}
	fmt.Fprint(p.out, line+"   ")
}

func (p *progress) stop() {
	p.once.Do(func() {
		close(p.done)
		if p.active && time.Since(p.start) >= time.Second {
			p.print()
			fmt.Fprintln(p.out)
		}
	})
}

// reader counts what passes through r.
func (p *progress) reader(r io.Reader) io.Reader {
	if !p.active {
		return r
	}
	return &countReader{r: r, n: &p.bytes}
}

type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
