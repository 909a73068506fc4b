package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// TestKafkaBinary runs `flowmask kafka` against an in-process Kafka with
// SASL/PLAIN (password from the environment), checks that planted secrets
// are masked in the output topic and absent from the logs, that /readyz
// and /metrics answer, and that SIGTERM exits cleanly. End to end: the
// built binary, the password from the process environment, a real SIGTERM.
func TestKafkaBinary(t *testing.T) {
	prebuild()
	t.Parallel()
	const user, pass = "flowmask", "broker-pass-Zq81"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "raw", "clean"),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", user, pass))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	auth := kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism())
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), auth)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	secret := "sk_live_" + strings.Repeat("4eC39HqLyjWDarjtT1zdp7dc", 1)
	password := fmt.Sprintf("Pw-%d-x9Q", time.Now().UnixNano())
	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, &kgo.Record{Topic: "raw", Key: fmt.Appendf(nil, "k%d", i%5),
			Value: fmt.Appendf(nil, `{"i":%d,"stripe":"%s","db":"Server=db;Password=%s;"}`, i, secret, password)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	k := startServerBinary(t, []string{"KAFKA_PASS=" + pass}, "kafka", "--brokers", c.ListenAddrs()[0], "--in", "raw", "--out", "clean",
		"--group", "fm", "--sasl", "plain", "--sasl-username", user, "--sasl-password-env", "KAFKA_PASS", "--tls=false",
		"--admin", "127.0.0.1:0")
	stderr := k.stderr
	addr, _ := k.listening(t, "")["admin"].(string)

	out, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), auth, kgo.ConsumeTopics("clean"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < len(recs) && ctx.Err() == nil {
		got = append(got, out.PollFetches(ctx).Records()...)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d of %d records in the output topic\n%s", len(got), len(recs), stderr.String())
	}
	for _, r := range got {
		if strings.Contains(string(r.Value), secret) || strings.Contains(string(r.Value), password) {
			t.Fatalf("secret in the output topic: %s", r.Value)
		}
		if !strings.Contains(string(r.Value), `"i":`) || !json.Valid(r.Value) {
			t.Fatalf("output record damaged: %s", r.Value)
		}
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body := new(strings.Builder)
		bufio.NewReader(resp.Body).WriteTo(body) //nolint:errcheck
		resp.Body.Close()
		return resp.StatusCode, body.String()
	}
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	// The counter moves once the produce is acknowledged, which can be a
	// moment after a consumer already sees the records.
	want := `flowmask_kafka_records_total{result="out"} 30`
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, body := get("/metrics")
		if code == 200 && strings.Contains(body, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %s:\n%s", want, body)
		}
	}
	k.stop(t)
	for _, s := range []string{secret, password, pass} {
		if strings.Contains(stderr.String(), s) {
			t.Fatalf("a secret is in the logs:\n%s", stderr.String())
		}
	}
}

// TestKafkaConfigSection: one file configures the proxy and flowmask kafka;
// config check validates the kafka: section with file, line and field, and
// the proxy's loader accepts the file.
func TestKafkaConfigSection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := dir + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("routes:\n  - name: a\n    upstream: http://127.0.0.1:9\nkafka:\n  brokers: [b:9092]\n  in: logs\n  out: logs\n  group: g\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runBin(t, "", nil, "config", "check", bad)
	if res.code != 1 || !strings.Contains(res.stdout, bad+":7: kafka.out: must differ from in") {
		t.Fatalf("config check: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	good := dir + "/good.yaml"
	if err := os.WriteFile(good, []byte("routes:\n  - name: a\n    upstream: http://127.0.0.1:9\nkafka:\n  brokers: [b:9092]\n  in: logs\n  out: logs-clean\n  group: g\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := runBin(t, "", nil, "config", "check", good); res.code != 0 {
		t.Fatalf("config check of a valid file: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
