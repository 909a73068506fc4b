package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestBody(t *testing.T) {
	for _, size := range []int{1024, 65536} {
		b := body(size)
		if !json.Valid(b) {
			t.Fatalf("%d: invalid JSON", size)
		}
		if len(b) < size*9/10 || len(b) > size {
			t.Errorf("%d: got %d bytes", size, len(b))
		}
		var recs []map[string]string
		json.Unmarshal(b, &recs)
		if n := bytes.Count(b, []byte(secret)); n != len(recs) || n == 0 {
			t.Errorf("%d: %d secrets in %d records", size, n, len(recs))
		}
	}
}
