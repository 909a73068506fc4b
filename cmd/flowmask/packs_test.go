package main

import (
	"strings"
	"testing"
)

// TestPacksFlag: the pii pack is off by default and turned on by --packs
// on redact and scan; an unknown pack is a usage error naming the known
// ones.
func TestPacksFlag(t *testing.T) {
	t.Parallel()
	in := "refund for jane.doe@example.com, card 4111 1111 1111 1111, iban DE89 3704 0044 0532 0130 00\n"
	if res := runBin(t, in, nil, "redact", "--format", "text"); res.code != 0 || res.stdout != in {
		t.Errorf("without --packs: code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
	res := runBin(t, in, nil, "redact", "--format", "text", "--packs", "pii")
	want := "refund for [REDACTED:pii-email], card [REDACTED:pii-payment-card], iban [REDACTED:pii-iban]\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("--packs pii: code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
	res = runBin(t, in, nil, "scan", "--format", "text", "--packs", "pii", "--report", "json")
	if res.code != 1 || !strings.Contains(res.stdout, "pii-payment-card") || strings.Contains(res.stdout, "4111") {
		t.Errorf("scan --packs pii: code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
	res = runBin(t, in, nil, "redact", "--packs", "pii,phi")
	if res.code != 2 || !strings.Contains(res.stderr, `"phi"`) || !strings.Contains(res.stderr, "pii-ip") {
		t.Errorf("unknown pack: code %d err %q", res.code, res.stderr)
	}
}
