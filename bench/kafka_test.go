package bench

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flowmask/flowmask/bench/corpus"
	"github.com/flowmask/flowmask/kafka"
	"github.com/flowmask/flowmask/redactor"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaRecords cuts a corpus into JSON records of about 1 KiB: arrays of
// whole NDJSON lines.
func kafkaRecords(c *corpus.Corpus) [][]byte {
	var recs [][]byte
	var cur []byte
	for _, line := range bytes.Split(bytes.TrimSpace(c.Data), []byte("\n")) {
		if len(cur) == 0 {
			cur = append(cur, '[')
		} else {
			cur = append(cur, ',')
		}
		cur = append(cur, line...)
		if len(cur) >= 1000 {
			recs = append(recs, append(cur, ']'))
			cur = nil
		}
	}
	return recs
}

// BenchmarkKafka measures records/s through an in-process Kafka (kfake, 8
// partitions): mode=copy is a plain consume-produce-commit loop with no
// redaction, mode=redact is flowmask's pipeline (at-least-once) with 1, 2
// or 4 instances in one group. Run with a fixed count, e.g.
//
//	go test -run '^$' -bench Kafka -benchtime 20000x -cpu 1
//
// The broker runs in the same process, so per-core figures include its
// work in both modes; compare the modes, not absolute numbers.
func BenchmarkKafka(b *testing.B) {
	for _, c := range []*corpus.Corpus{corpus.CleanNDJSON(1, 4<<20), corpus.DenseNDJSON(2, 4<<20, corpus.Literals(3, 16))} {
		recs := kafkaRecords(c)
		red := newRedactor(b, nil)
		b.Run(fmt.Sprintf("corpus=%s/mode=copy", c.Name), func(b *testing.B) {
			runKafkaBench(b, recs, func(ctx context.Context, addrs []string) { copyLoop(ctx, b, addrs) }, 1)
		})
		for _, n := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("corpus=%s/mode=redact/instances=%d", c.Name, n), func(b *testing.B) {
				runKafkaBench(b, recs, func(ctx context.Context, addrs []string) {
					p, err := kafka.New(kafka.Config{Brokers: addrs, In: "in", Out: "out", Group: "bench", Admin: "off"},
						kafka.Options{Redactor: func() *redactor.Redactor { return red }})
					if err != nil {
						b.Error(err)
						return
					}
					if err := p.Run(ctx); err != nil {
						b.Error(err)
					}
				}, n)
			})
		}
	}
}

func runKafkaBench(b *testing.B, recs [][]byte, run func(context.Context, []string), instances int) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(8, "in", "out"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	addrs := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	var bytesIn int64
	batch := make([]*kgo.Record, 0, 1000)
	for i := 0; i < b.N; i++ {
		v := recs[i%len(recs)]
		bytesIn += int64(len(v))
		batch = append(batch, &kgo.Record{Topic: "in", Key: fmt.Appendf(nil, "k%d", i%64), Value: v})
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := cl.ProduceSync(context.Background(), batch...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, instances)
	b.ResetTimer()
	start := time.Now()
	for range instances {
		go func() { run(ctx, addrs); done <- struct{}{} }()
	}
	got := 0
	wait, stop := context.WithTimeout(context.Background(), 5*time.Minute)
	defer stop()
	for got < b.N && wait.Err() == nil {
		got += cl.PollFetches(wait).NumRecords()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	for range instances {
		<-done
	}
	if got < b.N {
		b.Fatalf("%d of %d records arrived", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(bytesIn)/elapsed.Seconds()/1e6, "MB/s")
}

// copyLoop is the baseline: the same consume, produce (acks=all,
// idempotent) and commit cycle as the pipeline, copying records unchanged.
func copyLoop(ctx context.Context, b *testing.B, addrs []string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumerGroup("copy"), kgo.ConsumeTopics("in"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll())
	if err != nil {
		b.Error(err)
		return
	}
	defer cl.Close()
	for {
		f := cl.PollRecords(ctx, kafka.DefaultMaxPoll)
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return
		}
		in := f.Records()
		out := make([]*kgo.Record, len(in))
		for i, r := range in {
			out[i] = &kgo.Record{Topic: "out", Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp}
		}
		if err := cl.ProduceSync(ctx, out...).FirstErr(); err != nil && ctx.Err() == nil {
			b.Error(err)
		}
		if err := cl.CommitRecords(ctx, in...); err != nil && ctx.Err() == nil {
			b.Error(err)
		}
		cl.AllowRebalance()
	}
}
