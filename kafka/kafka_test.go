package kafka_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowmask/flowmask/kafka"
	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// fresh returns n random alphanumerics: every run plants secrets no rule
// was tuned to.
func fresh(t testing.TB, n int) string {
	b := make([]byte, n)
	for i := range b {
		v, err := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = alnum[v.Int64()]
	}
	return string(b)
}

func newRedactor(t testing.TB) *redactor.Redactor {
	t.Helper()
	set, err := patterns.Default()
	if err != nil {
		t.Fatal(err)
	}
	r, err := redactor.New(redactor.Config{Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newCluster(t testing.TB, partitions int32, opts ...kfake.Opt) []string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, "in", "out", "dlq")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func client(t testing.TB, addrs []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// input is one planted record: its secrets, and the sequence number of its
// key, so order per key can be checked on the way out.
type input struct {
	key, keySecret, token, password, bearer string
	seq                                     int
}

func produceInputs(t testing.TB, addrs []string, n, keys int) []input {
	t.Helper()
	cl := client(t, addrs)
	ins := make([]input, n)
	recs := make([]*kgo.Record, n)
	seqs, keySecret := map[string]int{}, map[string]string{}
	for i := range ins {
		key := fmt.Sprintf("tenant-%d", i%keys)
		if _, ok := keySecret[key]; !ok {
			keySecret[key] = fresh(t, 20)
		}
		in := input{key: key, keySecret: keySecret[key], token: "ghp_" + fresh(t, 36), password: fresh(t, 20), bearer: fresh(t, 40), seq: seqs[key]}
		seqs[key]++
		ins[i] = in
		value := fmt.Sprintf(`{"seq":%d,"msg":"deploy with %s","password":%q}`, in.seq, in.token, in.password)
		recs[i] = &kgo.Record{Topic: "in", Key: []byte(key + "/api_key=" + in.keySecret), Value: []byte(value),
			Headers: []kgo.RecordHeader{{Key: "Authorization", Value: []byte("Bearer " + in.bearer)}, {Key: "trace", Value: []byte("abc")}}}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return ins
}

// consume reads topic until want records arrived or the deadline passes.
func consume(t testing.TB, addrs []string, topic string, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := client(t, addrs, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: %d of %d records after 60s", topic, len(out), want)
		}
		out = append(out, f.Records()...)
	}
	// Anything past want (duplicates) arrives in the next fetches.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	out = append(out, cl.PollFetches(ctx2).Records()...)
	return out
}

// start runs a pipeline until the test ends. stop cancels it and returns
// Run's result; done delivers that result once Run returns by itself.
func start(t testing.TB, cfg kafka.Config, red *redactor.Redactor) (p *kafka.Pipeline, stop func() error, done <-chan error) {
	t.Helper()
	p, err := kafka.New(cfg, kafka.Options{Redactor: func() *redactor.Redactor { return red }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	finished := make(chan struct{})
	var runErr error
	go func() { runErr = p.Run(ctx); close(finished); result <- runErr }()
	stop = func() error { cancel(); <-finished; return runErr }
	t.Cleanup(func() { stop() }) //nolint:errcheck // the test checks what it needs
	return p, stop, result
}

func baseConfig(addrs []string, group string) kafka.Config {
	return kafka.Config{Brokers: addrs, In: "in", Out: "out", Group: group, SessionTimeout: 6 * time.Second, DrainTimeout: 10 * time.Second}
}

// checkRedacted fails if a planted secret of a record is in its output
// record, and checks that the non-secret parts survived.
func checkRedacted(t *testing.T, ins []input, outs []*kgo.Record) {
	t.Helper()
	byID := make(map[string]input, len(ins))
	for _, in := range ins {
		byID[fmt.Sprintf("%s/%d", in.key, in.seq)] = in
	}
	for _, r := range outs {
		if !json.Valid(r.Value) {
			t.Fatalf("output value is not JSON: %.200s", r.Value)
		}
		in, ok := byID[fmt.Sprintf("%s/%d", keyOf(r), seqOf(t, r))]
		if !ok {
			t.Fatalf("output record %q seq %d was never produced", keyOf(r), seqOf(t, r))
		}
		all := [][]byte{r.Key, r.Value}
		for _, h := range r.Headers {
			all = append(all, h.Value)
		}
		joined := bytes.Join(all, []byte{0})
		for _, s := range []string{in.keySecret, in.token, in.password, in.bearer} {
			if bytes.Contains(joined, []byte(s)) {
				t.Fatalf("secret of %s/%d leaked to the output topic: %q %s %v", in.key, in.seq, r.Key, r.Value, r.Headers)
			}
		}
		if !bytes.Contains(r.Value, []byte(`"msg":"deploy with `)) || len(r.Headers) != 2 || string(r.Headers[1].Value) != "abc" {
			t.Fatalf("output lost clean data: key %q value %.200s headers %v", r.Key, r.Value, r.Headers)
		}
	}
}

func seqOf(t *testing.T, r *kgo.Record) int {
	var v struct{ Seq int }
	if err := json.Unmarshal(r.Value, &v); err != nil {
		t.Fatal(err)
	}
	return v.Seq
}

func keyOf(r *kgo.Record) string { k, _, _ := strings.Cut(string(r.Key), "/"); return k }

func TestEveryRecordRedactedInOrder(t *testing.T) {
	addrs := newCluster(t, 6)
	const n = 10000
	ins := produceInputs(t, addrs, n, 60)
	p, _, _ := start(t, baseConfig(addrs, "g1"), newRedactor(t))
	outs := consume(t, addrs, "out", n)
	if len(outs) != n {
		t.Fatalf("got %d output records; want %d", len(outs), n)
	}
	checkRedacted(t, ins, outs)
	// Per key, records come out in the order they went in, on one partition.
	last, part := map[string]int{}, map[string]int32{}
	for _, r := range outs {
		k := keyOf(r)
		if p, ok := part[k]; ok && p != r.Partition {
			t.Fatalf("key %s on partitions %d and %d", k, p, r.Partition)
		}
		part[k] = r.Partition
		s := seqOf(t, r)
		if prev, ok := last[k]; ok && s != prev+1 {
			t.Fatalf("key %s: seq %d after %d", k, s, prev)
		}
		last[k] = s
	}
	if err := p.Ready(); err != nil {
		t.Errorf("Ready after processing: %v", err)
	}
	// After a run every family has samples: they are exactly MetricNames.
	fams, err := p.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fams {
		got = append(got, f.GetName())
	}
	want := kafka.MetricNames()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("registered metric families %v; MetricNames says %v", got, want)
	}
}

func TestTwoInstancesTakeOver(t *testing.T) {
	for _, eos := range []bool{false, true} {
		t.Run(fmt.Sprintf("exactly_once=%v", eos), func(t *testing.T) {
			addrs := newCluster(t, 6)
			const n = 6000
			ins := produceInputs(t, addrs, n, 30)
			red := newRedactor(t)
			cfg := baseConfig(addrs, "g2")
			cfg.ExactlyOnce = eos
			cfgA, cfgB := cfg, cfg
			cfgA.TransactionalID, cfgB.TransactionalID = "a", "b"
			_, stopA, _ := start(t, cfgA, red)
			start(t, cfgB, red)
			// Stop A mid-stream, once some output exists.
			var opts []kgo.Opt
			if eos {
				opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
			}
			consume(t, addrs, "out", 500, opts...)
			if err := stopA(); err != nil {
				t.Fatalf("instance A: %v", err)
			}
			outs := consume(t, addrs, "out", n, opts...)
			checkRedacted(t, ins, outs)
			seen := map[string]int{}
			for _, r := range outs {
				seen[fmt.Sprintf("%s/%d", keyOf(r), seqOf(t, r))]++
			}
			for _, in := range ins {
				c := seen[fmt.Sprintf("%s/%d", in.key, in.seq)]
				if c == 0 || eos && c != 1 {
					t.Fatalf("record %s/%d appears %d times in the output", in.key, in.seq, c)
				}
			}
		})
	}
}

func TestPoisonRecords(t *testing.T) {
	addrs := newCluster(t, 1)
	secret := fresh(t, 24)
	cl := client(t, addrs)
	big := `{"password":"` + secret + `","pad":"` + strings.Repeat("x", 2000) + `"}`
	recs := []*kgo.Record{
		{Topic: "in", Value: []byte(`{"ok":1}`)},
		{Topic: "in", Value: []byte(big)},
		{Topic: "in", Value: []byte("{\"password\":\"" + secret + "\xff\"}")},
		{Topic: "in", Value: []byte(`{"ok":2}`)},
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	t.Run("dead letter", func(t *testing.T) {
		cfg := baseConfig(addrs, "poison-dlq")
		cfg.Format, cfg.MaxRecord, cfg.DeadLetter = "json", 1024, "dlq"
		start(t, cfg, newRedactor(t))
		out := consume(t, addrs, "out", 2)
		dead := consume(t, addrs, "dlq", 2)
		if len(out) != 2 || len(dead) != 2 {
			t.Fatalf("out %d, dead letters %d; want 2 and 2", len(out), len(dead))
		}
		for _, r := range append(out, dead...) {
			if bytes.Contains(r.Value, []byte(secret)) || bytes.Contains(r.Value, []byte("xxxx")) {
				t.Fatalf("content in %s: %.100s", r.Topic, r.Value)
			}
		}
		for i, want := range []string{"larger than max_record", "not valid UTF-8"} {
			var d struct {
				Reason    string
				Topic     string
				Partition int32
				Offset    int64
			}
			if err := json.Unmarshal(dead[i].Value, &d); err != nil || !strings.Contains(d.Reason, want) || d.Topic != "in" || d.Offset != int64(i+1) {
				t.Fatalf("dead letter %d = %s (%v); want reason %q at in/0/%d", i, dead[i].Value, err, want, i+1)
			}
		}
	})

	t.Run("no dead letter stops", func(t *testing.T) {
		cfg := baseConfig(addrs, "poison-stop")
		cfg.Format, cfg.MaxRecord = "json", 1024
		_, _, done := start(t, cfg, newRedactor(t))
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "in/0/1") || strings.Contains(err.Error(), secret) {
				t.Fatalf("Run = %v; want an error naming in/0/1 and no content", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("pipeline did not stop on a poison record")
		}
	})
}

func TestBrokerUnavailable(t *testing.T) {
	// The brokers come up after the pipeline starts: it waits, not ready.
	port := freePort(t)
	cfg := baseConfig([]string{fmt.Sprintf("127.0.0.1:%d", port)}, "late")
	p, _, _ := start(t, cfg, newRedactor(t))
	time.Sleep(time.Second)
	if p.Ready() == nil {
		t.Fatal("ready before any broker answered")
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(2, "in", "out", "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addrs := c.ListenAddrs()

	// Mid-stream, the broker refuses produce requests for a while: the
	// pipeline retries with backoff and loses nothing.
	var mu sync.Mutex
	failures, seen, armed := 0, 0, false
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		mu.Lock()
		defer mu.Unlock()
		seen++
		if armed && failures < 5 {
			failures++
			return nil, fmt.Errorf("broker restarting"), true // drops the connection
		}
		return nil, nil, false
	})
	// Produce requests (after the inputs are in) come from the pipeline.
	ins := produceInputs(t, addrs, 200, 10)
	mu.Lock()
	armed = true
	mu.Unlock()
	outs := consume(t, addrs, "out", 200)
	checkRedacted(t, ins, outs)
	mu.Lock()
	defer mu.Unlock()
	if failures == 0 {
		t.Fatalf("the broker refused nothing (%d produce requests seen): the test did not test retries", seen)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Ready() != nil && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.Ready(); err != nil {
		t.Fatalf("not ready after the brokers came up: %v", err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
