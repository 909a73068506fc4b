package corpus

import (
	"fmt"
	"io"
)

// LongRecordSecrets are the two secrets of a long-record input: one under a
// credential name after the long part, one in a second, short record.
var LongRecordSecrets = []string{"Tq83vXm2LpWz", "Hm29sKq7VbNc"}

// WriteLongRecord writes size bytes (and a few more) of one very long record of kind
// "ndjson" (one JSON line holding an array of small objects, then a
// password field) or "csv" (a header with a password column and one record
// whose quoted notes cell holds many lines with "" escapes and commas),
// "json" (one JSON document on one line, the NDJSON line's shape without a
// second record) or "text" (one plain log line of key=value pairs with no
// line break, then a second line), followed by a short second record where
// the format has records. It is the input of issue 17.9.
func WriteLongRecord(w io.Writer, kind string, size int) error {
	var err error
	written := 0
	put := func(format string, args ...any) {
		if err == nil {
			var n int
			n, err = fmt.Fprintf(w, format, args...)
			written += n
		}
	}
	switch kind {
	case "ndjson":
		put(`{"msg":"start","items":[`)
		for i := 0; written < size && err == nil; i++ {
			if i > 0 {
				put(",")
			}
			put(`{"id":%d,"note":"event %08d ok","v":"abcdefgh"}`, i, i)
		}
		put(`],"password":"%s"}`+"\n"+`{"msg":"token=%s"}`+"\n", LongRecordSecrets[0], LongRecordSecrets[1])
	case "csv":
		put("id,password,notes\n1,%s,\"", LongRecordSecrets[0])
		for i := 0; written < size && err == nil; i++ {
			put("line %08d of a long \"\"quoted\"\" note, with commas\n", i)
		}
		put("\"\n2,%s,short\n", LongRecordSecrets[1])
	case "json":
		put(`{"msg":"start","items":[`)
		for i := 0; written < size && err == nil; i++ {
			if i > 0 {
				put(",")
			}
			put(`{"id":%d,"note":"event %08d ok","v":"abcdefgh"}`, i, i)
		}
		put(`],"password":"%s","m":"token=%s"}`+"\n", LongRecordSecrets[0], LongRecordSecrets[1])
	case "text":
		put("start")
		for i := 0; written < size && err == nil; i++ {
			put(" event=%08d status=ok user=alice path=/api/v1/items;", i)
		}
		put(" password=%s\nnext token=%s\n", LongRecordSecrets[0], LongRecordSecrets[1])
	default:
		return fmt.Errorf("unknown long-record kind %q (want ndjson, csv, json or text)", kind)
	}
	return err
}
