package proxy

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// recordPoster sends records to an HTTP endpoint as NDJSON batches: at
// least once a second, or sooner when 1 MiB is waiting, without
// credentials (a local collector, or a `flowmask proxy` route in front of
// one). A failed batch is
// retried twice; beyond 16 MiB waiting, new records are dropped and
// counted in the logs. Nothing is buffered on disk.
type recordPoster struct {
	url     string
	client  *http.Client
	logger  *zap.Logger
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

const (
	postBatchBytes = 1 << 20
	postMaxBytes   = 16 << 20
)

func isAuditURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func newRecordPoster(u string, logger *zap.Logger) *recordPoster {
	p := &recordPoster{
		url: u, logger: logger,
		// Never through a proxy: HTTP_PROXY may point at this very process.
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}},
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go p.loop()
	return p
}

func (p *recordPoster) add(line []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf.Len()+len(line) > postMaxBytes {
		p.dropped++
		return
	}
	p.buf.Write(line)
	if p.buf.Len() >= postBatchBytes {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

func (p *recordPoster) loop() {
	defer close(p.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-p.kick:
		case <-p.stop:
			p.flush()
			return
		}
		p.flush()
	}
}

// flush sends what is waiting.
func (p *recordPoster) flush() {
	p.mu.Lock()
	if p.buf.Len() == 0 && p.dropped == 0 {
		p.mu.Unlock()
		return
	}
	body := bytes.Clone(p.buf.Bytes())
	p.buf.Reset()
	dropped := p.dropped
	p.dropped = 0
	p.mu.Unlock()
	if dropped > 0 {
		p.logger.Error("audit endpoint too slow: records dropped", zap.Int("dropped", dropped))
	}
	if len(body) == 0 {
		return
	}
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 250 * time.Millisecond)
		}
		if err = p.post(body); err == nil {
			return
		}
	}
	p.logger.Error("audit records not delivered", zap.Int("bytes", len(body)), zap.Error(err))
}

func (p *recordPoster) post(body []byte) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("post records: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post records: status %d", resp.StatusCode)
	}
	return nil
}

// close sends what is waiting and stops.
func (p *recordPoster) close() {
	close(p.stop)
	<-p.done
}
