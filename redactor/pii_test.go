package redactor_test

import (
	"strings"
	"testing"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
)

// TestPIIPackExamples runs the examples of the pii packs with the packs on
// (every rule finds its examples, no rule changes a negative example, of
// the packs or of the default rules) and checks that without the packs
// their examples' personal data stays.
func TestPIIPackExamples(t *testing.T) {
	pii, err := patterns.DefaultWith("pii")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range redactor.CheckExamples(pii, pii.Rules) {
		t.Error(e)
	}
	// The pii-ip pack masks addresses wherever they are, also in the URLs
	// that other rules' negative examples hold: only its own are checked.
	set, err := patterns.DefaultWith("pii", "pii-ip")
	if err != nil {
		t.Fatal(err)
	}
	var ip []patterns.Rule
	for _, r := range set.Rules {
		if r.Pack == "pii-ip" {
			ip = append(ip, r)
		}
	}
	for _, e := range redactor.CheckExamples(set, ip) {
		t.Error(e)
	}
	off := def(t)
	for _, r := range set.Rules {
		if r.Pack == "" {
			continue
		}
		for _, ex := range r.Examples {
			if out := off.String(ex); strings.Contains(out, "[REDACTED:pii-") {
				t.Errorf("%s: masked without the pack: %s", r.ID, out)
			}
		}
	}
}

func TestPIIPackChecks(t *testing.T) {
	set, err := patterns.DefaultWith("pii")
	if err != nil {
		t.Fatal(err)
	}
	r := newRedactor(t, redactor.Config{Rules: set})
	for in, want := range map[string]string{
		"card 4111-1111-1111-1111 ok":          "card [REDACTED:pii-payment-card] ok",
		"card 4111-1111-1111-1112 ok":          "card 4111-1111-1111-1112 ok",   // Luhn fails
		"invoice 4111111111111111 paid":        "invoice 4111111111111111 paid", // no card word
		"iban GB82 WEST 1234 5698 7654 32 ok":  "iban [REDACTED:pii-iban] ok",
		"iban GB82 WEST 1234 5698 7654 33 ok":  "iban GB82 WEST 1234 5698 7654 33 ok",
		"SSN: 666-12-3456":                     "SSN: 666-12-3456",
		"mail bob@example.org and +4930123456": "mail [REDACTED:pii-email] and [REDACTED:pii-phone-e164]",
	} {
		if got := r.String(in); got != want {
			t.Errorf("%q: got %q; want %q", in, got, want)
		}
	}
}
