// Command longrecord writes one very long NDJSON line or CSV record (the
// input of issue 17.9) to standard output, for timing `flowmask redact` and
// `flowmask scan` on it:
//
//	go run ./cmd/longrecord -kind ndjson -mb 100 > /tmp/line.ndjson
//	/usr/bin/time -v flowmask scan --max-document 200000000 /tmp/line.ndjson
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/flowmask/flowmask/bench/corpus"
)

func main() {
	kind := flag.String("kind", "ndjson", "ndjson, csv, json or text")
	mb := flag.Int("mb", 100, "size in MiB")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	err := corpus.WriteLongRecord(w, *kind, *mb<<20)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "longrecord:", err)
		os.Exit(1)
	}
}
