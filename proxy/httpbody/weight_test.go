package httpbody_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/flowmask/flowmask/proxy/httpbody"
)

// TestBudgetWeight: Limits.Weight charges the budget that many bytes per
// decoded byte held (a caller's copies), within Hold, and gives them all
// back on Close.
func TestBudgetWeight(t *testing.T) {
	c, err := httpbody.Classify(http.Header{"Content-Type": {"text/plain"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := bytes.Repeat([]byte("level=info msg=ok\n"), 20<<10) // 360 KiB
	for _, tc := range []struct {
		name   string
		lim    httpbody.Limits
		refuse bool
	}{
		{"whole, once", httpbody.Limits{}, false},
		{"whole, weight 4", httpbody.Limits{Weight: 4}, true},
		{"held 64 KiB, weight 4", httpbody.Limits{Weight: 4, Hold: 64 << 10}, false},
	} {
		b := httpbody.NewBudget(1, 1<<20)
		tc.lim.Budget = b
		rd, err := c.NewReader(bytes.NewReader(text), tc.lim)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, rd)
		if got := errors.Is(err, httpbody.ErrBudget); got != tc.refuse {
			t.Errorf("%s: err %v; want refused %v", tc.name, err, tc.refuse)
		}
		if tc.name == "held 64 KiB, weight 4" && b.InFlight() != 4*(64<<10) {
			t.Errorf("%s: %d bytes charged; want %d", tc.name, b.InFlight(), 4*(64<<10))
		}
		rd.Close()
		if b.InFlight() != 0 {
			t.Errorf("%s: %d bytes in flight after Close", tc.name, b.InFlight())
		}
	}
}
