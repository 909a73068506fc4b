// Command suites measures flowmask against other secret scanners' own test
// examples, held back from this project: gitleaks' rule examples (true and
// false positives per rule), trufflehog's detector pattern tests and
// detect-secrets' plugin tests. It reads each scanner's checkout from the
// path given by a flag, extracts the examples, redacts every example as
// text with the built-in rules (redactor.New(redactor.Config{}),
// Redactor.Append with FormatText) and prints per suite:
//
//   - positives found: examples whose every secret (as the suite names it)
//     is absent from flowmask's output;
//   - negatives unchanged: examples flowmask leaves byte for byte as they were;
//   - skipped: examples the tool cannot evaluate (random values generated at
//     test time, calls into the suite's own code), by reason.
//
// With -v it lists every miss and every changed negative. Nothing of the
// suites is copied into this repository; run it against fresh clones:
//
//	git clone --depth 1 https://github.com/gitleaks/gitleaks /tmp/gitleaks
//	git clone --depth 1 https://github.com/trufflesecurity/trufflehog /tmp/trufflehog
//	git clone --depth 1 https://github.com/Yelp/detect-secrets /tmp/detect-secrets
//	cd bench && go run ./cmd/suites -gitleaks /tmp/gitleaks -trufflehog /tmp/trufflehog -detect-secrets /tmp/detect-secrets
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/flowmask/flowmask/redactor"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// gitleaksColumns adds a row per suite for gitleaks used as a redactor.
var gitleaksColumns bool

// gitleaksVersion is the gitleaks library bench/go.mod requires.
const gitleaksVersion = "v8.30.1"

// example is one text of a suite; secrets is set for positives.
type example struct {
	where   string
	text    string
	secrets []string
	// disputed marks a negative the suite's own full rule set reports a
	// secret in (a false positive for one rule, a hit for another).
	disputed bool
}

// suite is the examples read from one scanner's checkout.
type suite struct {
	name      string
	positives []example
	negatives []example
	skipped   map[string]int
	skipWhere []string
}

func (s *suite) skip(where string, err error) {
	if s.skipped == nil {
		s.skipped = map[string]int{}
	}
	reason := err.Error()
	if i := strings.Index(reason, ": "); i > 0 && strings.HasPrefix(reason, errUnsupported.Error()) {
		reason = reason[:i]
	}
	s.skipped[reason]++
	s.skipWhere = append(s.skipWhere, where+": "+err.Error())
}

// result is the measurement of one suite.
type result struct {
	found, kept, keptUndisputed, undisputed int
	// named counts changed negatives whose every mask is a value under a
	// credential name (a key-name rule), not a token format.
	named           int
	misses, changed []string
	// glFound and glKept are gitleaks' default rules used as a redactor on
	// the same examples (with -compare-gitleaks).
	glFound, glKept int
}

func measure(r *redactor.Redactor, gl *detect.Detector, s *suite) result {
	var res result
	if gl != nil {
		for _, p := range s.positives {
			out := gitleaksRedact(gl, p.text)
			ok := true
			for _, sec := range p.secrets {
				if strings.Contains(out, sec) {
					ok = false
				}
			}
			if ok {
				res.glFound++
			}
		}
		for _, n := range s.negatives {
			if gitleaksRedact(gl, n.text) == n.text {
				res.glKept++
			}
		}
	}
	redact := func(t string) string {
		out, _ := r.Append(nil, []byte(t), redactor.FormatText)
		return string(out)
	}
	for _, p := range s.positives {
		out := redact(p.text)
		ok := true
		for _, sec := range p.secrets {
			if strings.Contains(out, sec) {
				ok = false
			}
		}
		if ok {
			res.found++
		} else {
			res.misses = append(res.misses, fmt.Sprintf("MISS %s %q: %q", p.where, p.secrets, around(p.text, p.secrets[0])))
		}
	}
	for _, n := range s.negatives {
		out := redact(n.text)
		same := out == n.text
		if same {
			res.kept++
		}
		if !n.disputed {
			res.undisputed++
			if same {
				res.keptUndisputed++
			}
		}
		named := !same && onlyNamed(r, out)
		if named {
			res.named++
		}
		if !same {
			tag := "CHANGED"
			switch {
			case n.disputed:
				tag = "CHANGED (disputed)"
			case named:
				tag = "CHANGED (named)"
			}
			a, b := diffWindow(n.text, out)
			res.changed = append(res.changed, fmt.Sprintf("%s %s: %q -> %q", tag, n.where, a, b))
		}
	}
	return res
}

// gitleaksRedact masks every secret gitleaks reports in text.
func gitleaksRedact(gl *detect.Detector, text string) string {
	for _, f := range gl.DetectString(text) {
		if f.Secret != "" {
			text = strings.ReplaceAll(text, f.Secret, "REDACTED")
		}
	}
	return text
}

// onlyNamed reports whether every mask in out ([REDACTED:rule]) is from a
// key-name rule: a value masked because of the name it stands under.
func onlyNamed(r *redactor.Redactor, out string) bool {
	const open = "[REDACTED:"
	n := 0
	for rest := out; ; {
		i := strings.Index(rest, open)
		if i < 0 {
			break
		}
		rest = rest[i+len(open):]
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		id := rest[:j]
		if got, ok := r.NameRule(id); !ok || got != id {
			return false
		}
		n++
	}
	return n > 0
}

// around returns the part of text around the first occurrence of secret.
func around(text, secret string) string {
	i := strings.Index(text, secret)
	if i < 0 {
		i = 0
	}
	lo, hi := max(0, i-80), min(len(text), i+len(secret)+80)
	return text[lo:hi]
}

// diffWindow returns the parts of a and b around their first difference.
func diffWindow(a, b string) (string, string) {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-80)
	return a[lo:min(len(a), i+120)], b[lo:min(len(b), i+120)]
}

func pct(a, b int) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

func report(w io.Writer, s *suite, res result, verbose bool) {
	fmt.Fprintf(w, "| %s | %d/%d = %s | %d/%d = %s | %d/%d = %s | %d | %d |\n", s.name,
		res.found, len(s.positives), pct(res.found, len(s.positives)),
		res.kept, len(s.negatives), pct(res.kept, len(s.negatives)),
		res.keptUndisputed, res.undisputed, pct(res.keptUndisputed, res.undisputed),
		res.named, len(s.skipWhere))
	if gitleaksColumns {
		fmt.Fprintf(w, "| %s: gitleaks %s as a redactor | %d/%d = %s | %d/%d = %s | | | |\n", s.name, gitleaksVersion,
			res.glFound, len(s.positives), pct(res.glFound, len(s.positives)),
			res.glKept, len(s.negatives), pct(res.glKept, len(s.negatives)))
	}
	if !verbose {
		return
	}
	fmt.Fprintf(w, "\n### %s\n\n", s.name)
	reasons := make([]string, 0, len(s.skipped))
	for k := range s.skipped {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Fprintf(w, "skipped %d: %s\n", s.skipped[k], k)
	}
	for _, m := range res.misses {
		fmt.Fprintln(w, m)
	}
	for _, c := range res.changed {
		fmt.Fprintln(w, c)
	}
	fmt.Fprintln(w)
}

func main() {
	glDir := flag.String("gitleaks", "", "path of a gitleaks checkout (github.com/gitleaks/gitleaks)")
	thDir := flag.String("trufflehog", "", "path of a trufflehog checkout (github.com/trufflesecurity/trufflehog)")
	dsDir := flag.String("detect-secrets", "", "path of a detect-secrets checkout (github.com/Yelp/detect-secrets)")
	verbose := flag.Bool("v", false, "list every miss, changed negative and skip reason")
	listSkips := flag.Bool("skips", false, "list every skipped example")
	compare := flag.Bool("compare-gitleaks", false, "also run gitleaks' default rules (the library version in bench/go.mod) as a redactor on every suite")
	flag.Parse()
	if *glDir == "" && *thDir == "" && *dsDir == "" {
		fmt.Fprintln(os.Stderr, "suites: give at least one of -gitleaks, -trufflehog, -detect-secrets")
		flag.Usage()
		os.Exit(2)
	}
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "suites:", err)
		os.Exit(1)
	}
	loaders := []struct {
		dir  string
		load func(string) (*suite, error)
	}{
		{*glDir, loadGitleaks},
		{*thDir, loadTrufflehog},
		{*dsDir, loadDetectSecrets},
	}
	var suites []*suite
	for _, l := range loaders {
		if l.dir == "" {
			continue
		}
		s, err := l.load(l.dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "suites:", err)
			os.Exit(1)
		}
		suites = append(suites, s)
	}
	// A second opinion: gitleaks' default rules (the library version in
	// bench/go.mod) mark as disputed the negatives of the other suites in
	// which they report a secret. (gitleaks' own suite is judged by the
	// checkout's full rule set; see loadGitleaks.)
	second, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "suites:", err)
		os.Exit(1)
	}
	for _, s := range suites {
		if s.name == "gitleaks" {
			continue
		}
		for i := range s.negatives {
			if len(second.DetectString(s.negatives[i].text)) > 0 {
				s.negatives[i].disputed = true
			}
		}
	}
	var gl *detect.Detector
	if *compare {
		gl = second
		gitleaksColumns = true
	}
	fmt.Println("| suite | positives found | negatives unchanged | undisputed negatives unchanged | changed only under a credential name | skipped |")
	fmt.Println("|---|---|---|---|---|---|")
	results := make([]result, len(suites))
	for i, s := range suites {
		results[i] = measure(r, gl, s)
		report(os.Stdout, s, results[i], false)
	}
	if *verbose {
		for i, s := range suites {
			report(os.Stdout, s, results[i], true)
		}
	}
	if *listSkips {
		for _, s := range suites {
			for _, w := range s.skipWhere {
				fmt.Printf("SKIP %s %s\n", s.name, w)
			}
		}
	}
}
