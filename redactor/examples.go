package redactor

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flowmask/flowmask/patterns"
)

// CheckExamples runs rule examples through the engine. Each rule of check
// must find a secret in each of its examples when compiled alone (format
// auto), the whole set must change nothing in an example it has already
// redacted (a rule must not match a mask), and the whole set must leave
// each negative example unchanged. It returns one error per failure; none
// means every example passed.
func CheckExamples(set *patterns.Set, check []patterns.Rule) []error {
	var errs []error
	full, err := New(Config{Rules: set})
	if err != nil {
		return []error{err}
	}
	// A rule's negative examples must pass the rules that run beside it:
	// the default rules and its own pack, not every opt-in pack (an e-mail
	// address in a key-name rule's negative example is the pii pack's to
	// mask).
	besides := map[string]*Redactor{}
	beside := func(pack string) (*Redactor, error) {
		if r := besides[pack]; r != nil {
			return r, nil
		}
		sub := &patterns.Set{}
		for _, r := range set.Rules {
			if r.Pack == "" || r.Pack == pack {
				sub.Rules = append(sub.Rules, r)
			}
		}
		r, err := New(Config{Rules: sub})
		besides[pack] = r
		return r, err
	}
	for _, rl := range check {
		near, err := beside(rl.Pack)
		if err != nil {
			return append(errs, err)
		}
		alone, err := New(Config{Rules: &patterns.Set{Rules: []patterns.Rule{rl}}})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i, ex := range rl.Examples {
			if _, st := alone.Append(nil, []byte(ex), FormatAuto); st.Redactions == 0 {
				errs = append(errs, fmt.Errorf("%s: rule %q: example %d: nothing found in %q", rl.Source, rl.ID, i+1, clip(ex)))
			}
			once, _ := full.Append(nil, []byte(ex), FormatAuto)
			if _, st := full.Append(nil, once, FormatAuto); st.Redactions > 0 {
				errs = append(errs, fmt.Errorf("%s: rule %q: example %d: redacting it twice changes it again (%s matched a mask)", rl.Source, rl.ID, i+1, ruleList(st.ByRule)))
			}
		}
		for i, ex := range rl.NegativeExamples {
			if _, st := near.Append(nil, []byte(ex), FormatAuto); st.Redactions > 0 {
				errs = append(errs, fmt.Errorf("%s: rule %q: negative example %d: changed by %s", rl.Source, rl.ID, i+1, ruleList(st.ByRule)))
			}
		}
	}
	return errs
}

func ruleList(m map[string]int) string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
