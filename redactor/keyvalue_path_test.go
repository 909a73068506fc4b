package redactor_test

import (
	"strings"
	"testing"
)

// TestNameAfterSlashWithValue: a credential name right after '/' is a URL
// path segment (kept) unless it is assigned a value (masked): Kafka keys,
// matrix-style paths and log prefixes write tenant/api_key=X.
func TestNameAfterSlashWithValue(t *testing.T) {
	r := def(t)
	for _, in := range []string{
		"tenant-3/api_key=TUTNGJmYMEw97VS0VIXm",
		"orders/v2/password = Zq81-hunter-Pw",
		"svc/my-api_key=TUTNGJmYMEw97VS0VIXm done",
	} {
		if out := r.String(in); strings.Contains(out, "TUTNGJmYMEw97VS0VIXm") || strings.Contains(out, "Zq81-hunter-Pw") {
			t.Errorf("%q -> %q: the value leaked", in, out)
		}
	}
	for _, in := range []string{
		"GET /accounts/7/reset-password HTTP/1.1",
		"see https://example.com/docs/api_key/rotate",
		"POST /v1/token?grant=refresh",
	} {
		if out := r.String(in); out != in {
			t.Errorf("%q -> %q: a URL path was changed", in, out)
		}
	}
}
