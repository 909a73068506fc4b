// Package patterns holds flowmask's secret-detection rules as data.
//
// Rules live in rules/*.yaml, embedded into the binary with go:embed. Each file
// holds a list of rules; each rule carries the examples it must catch and the
// look-alikes it must leave alone, and a table test runs them all. Users add
// their own files with [LoadFile] (the CLI's --rules flag).
//
// A rule is one of two kinds:
//
//   - regex: an RE2 expression run near its keywords. The capture group named
//     "secret", else group 1, else the whole match, is the span that is masked.
//   - keyname: a list of sensitive names. A value stored under such a name is a
//     secret whatever it looks like: JSON keys, query parameters, form fields,
//     header names, key=value pairs in text and connection-string segments.
//
// This package only parses and validates; compiling and matching are the
// redactor's job.
package patterns

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/flowmask/flowmask/internal/yamlconf"
)

//go:embed rules/*.yaml
var builtin embed.FS

// Kinds of rule.
const (
	KindRegex   = "regex"
	KindKeyName = "keyname"
)

// Contexts in which a keyname rule's names apply.
const (
	// ContextJSON is a key of a JSON object.
	ContextJSON = "json"
	// ContextQuery is a URL query parameter (after '?' or '&') or a form field.
	ContextQuery = "query"
	// ContextText is name=value, name: value and similar pairs in free text,
	// headers and connection strings (name=value;...).
	ContextText = "text"
)

// ValidatorSpec describes a validator: what it checks, and whether it takes
// a positive number after a colon (base64-len:64).
type ValidatorSpec struct {
	Doc string
	Arg bool
}

// Validators known to the redactor, which implements each under the same
// name (a redactor test checks that both lists agree). A validator raises a
// finding's confidence; it drops a match only when the rule sets Strict.
var Validators = map[string]ValidatorSpec{
	"github-crc32": {Doc: "GitHub token checksum (CRC32 of the random part, base62, last 6 chars)"},
	"jwt":          {Doc: "header and payload are base64url-encoded JSON objects; the header names an alg"},
	"base64":       {Doc: "the secret decodes as standard or URL-safe base64"},
	"base64-len":   {Doc: "the secret decodes as base64 to exactly N bytes (base64-len:N)", Arg: true},
	"hex":          {Doc: "the secret is hexadecimal"},
	"random":       {Doc: "the secret passes the randomness test (length, letter cases and digits, entropy; see docs/detection.md)"},
	"luhn":         {Doc: "the secret's digits (blanks and dashes ignored) pass the Luhn check of payment card numbers"},
	"iban-mod97":   {Doc: "the secret (blanks ignored) is an IBAN whose check digits pass ISO 13616 mod 97"},
	"ssn":          {Doc: "the secret is a US social security number that can be issued (area not 000, 666 or 9xx; group not 00; serial not 0000)"},
	"ip":           {Doc: "the secret parses as an IPv4 or IPv6 address"},
}

// Rule is one detection rule as written in a rules file.
type Rule struct {
	// ID names the rule in masks ("[REDACTED:<id>]"), findings and metric
	// labels. Kebab-case, vendor first, unique and stable.
	ID string `yaml:"id"`
	// Description says what the rule finds, for `flowmask rules list`.
	Description string `yaml:"description"`
	// Kind is "regex" (the default) or "keyname".
	Kind string `yaml:"kind,omitempty"`

	// Regex is an RE2 expression. The group named "secret", else group 1, else
	// the whole match, is the span to mask.
	Regex string `yaml:"regex,omitempty"`
	// Keywords gate the regex: it only runs near one of them (matched
	// case-insensitively). A regex rule needs at least one.
	Keywords []string `yaml:"keywords,omitempty"`
	// Before and After bound the window, in bytes, around each keyword hit
	// that the regex is run on. Zero means 64 before and 256 after.
	Before int `yaml:"before,omitempty"`
	After  int `yaml:"after,omitempty"`
	// YAMLBlock ends the window after a keyword hit where the indented
	// block under the keyword's line ends (stringData: of a Kubernetes
	// Secret): the first later line indented no deeper than it.
	YAMLBlock bool `yaml:"yaml_block,omitempty"`
	// MinEntropy is the minimum Shannon entropy (bits per byte) of the secret
	// span; lower-entropy matches (placeholders such as xxxx) are ignored.
	MinEntropy float64 `yaml:"min_entropy,omitempty"`
	// Validators raise confidence in a match (see [Validators]). Parameters
	// follow a colon: "base64-len:64".
	Validators []string `yaml:"validators,omitempty"`
	// Strict drops a match that fails a validator. Without it a match with the
	// right shape is masked even when its checksum does not verify (fail safe).
	Strict bool `yaml:"strict,omitempty"`
	// KeepPrefix keeps this many leading bytes of the secret visible (a public
	// prefix such as "AKIA" or "ghp_").
	KeepPrefix int `yaml:"keep_prefix,omitempty"`
	// Stopwords: a secret span containing one of these (case-insensitive) is a
	// placeholder and is left alone.
	Stopwords []string `yaml:"stopwords,omitempty"`

	// Names are the sensitive names of a keyname rule, matched whole and
	// case-insensitively, with '-', '_' and '.' separators interchangeable or
	// absent (api_key, api-key, apiKey, apikey).
	Names []string `yaml:"names,omitempty"`
	// Suffix also matches the names as the trailing words of a longer name
	// (db_password, smtpPassword), never as a prefix (password_reset).
	Suffix bool `yaml:"suffix,omitempty"`
	// Exclude lists longer names that end like one of Names but are not
	// secrets (nextPageToken, continuationToken). Matched whole, normalized.
	Exclude []string `yaml:"exclude,omitempty"`
	// Contexts restricts where the names apply: json, query, text. Empty means
	// all three.
	Contexts []string `yaml:"contexts,omitempty"`
	// KeepScheme keeps an Authorization-style scheme word ("Bearer ",
	// "Basic ") in front of the mask.
	KeepScheme bool `yaml:"keep_scheme,omitempty"`
	// WholeLine makes an unquoted value in text run to the end of the line
	// (Cookie headers hold "a=1; b=2"); quoted values end at the quote.
	WholeLine bool `yaml:"whole_line,omitempty"`
	// Random masks a value only when it passes the randomness test (see
	// docs/detection.md): for names such as key, auth or session that also
	// hold identifiers and words. "true" accepts any random shape (hex,
	// UUID, base64); "mixed" wants upper- and lower-case letters and digits
	// (so that hashes and UUIDs next to a service name stay), and also
	// takes a value after blanks (mixpanel X).
	Random string `yaml:"random,omitempty"`

	// Examples are texts in which this rule must find a secret.
	Examples []string `yaml:"examples"`
	// NegativeExamples are look-alikes that no rule may change.
	NegativeExamples []string `yaml:"negative_examples,omitempty"`

	// Source is "file:line" of the rule's definition (set by the loader).
	Source string `yaml:"-"`
	// Pack is the opt-in pack the rule belongs to, from its file's pack
	// field; "" for the rules that are always on.
	Pack string `yaml:"-"`
}

// File is the layout of one rules file.
type File struct {
	// Pack names the opt-in pack of the file's rules (such as "pii"):
	// Default leaves them out, DefaultWith adds the packs asked for.
	Pack  string `yaml:"pack,omitempty"`
	Rules []Rule `yaml:"rules"`
}

// Set is an ordered list of rules with unique IDs.
type Set struct {
	Rules []Rule
	// packs lists the opt-in packs seen while loading.
	packs []string
}

// Default returns the embedded rule library, without the opt-in packs.
//
// The embedded files are parsed once per process; each call returns a new
// Set (its own Rules slice) that the caller may extend with Add or narrow
// with Without. The rules' own slices (Keywords, Names, Examples...) are
// shared between calls and must not be modified.
func Default() (*Set, error) {
	return DefaultWith()
}

// DefaultWith returns the embedded rule library with the rules of the
// named opt-in packs (see Packs). An unknown pack is an error.
func DefaultWith(packs ...string) (*Set, error) {
	files, err := embeddedFiles()
	if err != nil {
		return nil, err
	}
	return assemble(files, packs)
}

// embeddedFiles parses the embedded rule files once per process. The result
// is immutable: assemble copies the Rule values into each new Set.
var embeddedFiles = sync.OnceValues(func() ([]ruleFile, error) {
	return parseDir(builtin, "rules")
})

// Packs returns the names of the embedded opt-in packs, sorted. It reads
// only the files' top-level pack lines, without parsing the rules, once per
// process; each call returns a new slice.
func Packs() []string {
	return slices.Clone(embeddedPacks())
}

var embeddedPacks = sync.OnceValue(readPacks)

// readPacks reads the embedded files' top-level pack lines.
func readPacks() []string {
	ents, _ := fs.ReadDir(builtin, "rules")
	var packs []string
	for _, e := range ents {
		data, err := fs.ReadFile(builtin, path.Join("rules", e.Name()))
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(data)) {
			if p, ok := strings.CutPrefix(line, "pack:"); ok {
				p = strings.Trim(strings.TrimSpace(p), `"'`)
				if p != "" && !slices.Contains(packs, p) {
					packs = append(packs, p)
				}
				break
			}
		}
	}
	sort.Strings(packs)
	return packs
}

// LoadFS loads every *.yaml file in dir of fsys, in name order, leaving out
// the rules of opt-in packs.
func LoadFS(fsys fs.FS, dir string) (*Set, error) {
	files, err := parseDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	return assemble(files, nil)
}

// ruleFile is one parsed rules file: its rules, and its pack ("" for rules
// that are always on).
type ruleFile struct {
	pack  string
	rules []Rule
}

// parseDir parses every *.yaml file in dir of fsys, in name order.
func parseDir(fsys fs.FS, dir string) ([]ruleFile, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	var files []ruleFile
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		name := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read rules: %w", err)
		}
		rules, err := Parse(name, data)
		if err != nil {
			return nil, err
		}
		f := ruleFile{rules: rules}
		if len(rules) > 0 {
			f.pack = rules[0].Pack
		}
		files = append(files, f)
	}
	return files, nil
}

// assemble builds a new Set from parsed files: the rules that are always on
// and those of the packs asked for. files is only read.
func assemble(files []ruleFile, packs []string) (*Set, error) {
	want := make(map[string]bool, len(packs))
	for _, p := range packs {
		want[p] = true
	}
	s := &Set{}
	for _, f := range files {
		if p := f.pack; p != "" {
			if !slices.Contains(s.packs, p) {
				s.packs = append(s.packs, p)
			}
			if !want[p] {
				continue
			}
		}
		if err := s.Add(f.rules...); err != nil {
			return nil, err
		}
	}
	sort.Strings(s.packs)
	for p := range want {
		if !slices.Contains(s.packs, p) {
			return nil, fmt.Errorf("rule pack %q does not exist (packs: %s)", p, strings.Join(s.packs, ", "))
		}
	}
	return s, nil
}

// LoadFile parses one user rules file.
func LoadFile(name string) ([]Rule, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	return Parse(name, data)
}

// Add appends rules, rejecting an ID that is already in the set.
func (s *Set) Add(rules ...Rule) error {
	seen := make(map[string]string, len(s.Rules)+len(rules))
	for _, r := range s.Rules {
		seen[r.ID] = r.Source
	}
	for _, r := range rules {
		if prev, ok := seen[r.ID]; ok {
			return fmt.Errorf("%s: id: %q is already defined at %s", r.Source, r.ID, prev)
		}
		seen[r.ID] = r.Source
		s.Rules = append(s.Rules, r)
	}
	return nil
}

// Clone returns a copy of s that can be extended without changing s.
func (s *Set) Clone() *Set {
	return &Set{Rules: append([]Rule(nil), s.Rules...)}
}

// Without returns a copy of s without the rules whose IDs are listed. An
// unknown ID is an error.
func (s *Set) Without(ids ...string) (*Set, error) {
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	out := &Set{}
	for _, r := range s.Rules {
		if drop[r.ID] {
			delete(drop, r.ID)
			continue
		}
		out.Rules = append(out.Rules, r)
	}
	if len(drop) > 0 {
		var unknown []string
		for id := range drop {
			unknown = append(unknown, id)
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("disable rules: unknown rule id %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

// Parse decodes and validates one rules file. Every problem in the file is
// reported together, sorted by line, each naming the file, the line and the
// key path: `rules.yaml:4: rules[0].regex: rule "foo": missing closing )`.
func Parse(name string, data []byte) ([]Rule, error) {
	doc, err := yamlconf.Parse(name, data)
	if err != nil {
		return nil, err
	}
	var f File
	decoded := doc.Decode(&f)
	var invalid []error
	if f.Pack != "" && !idRE.MatchString(f.Pack) {
		invalid = append(invalid, yamlconf.Errorf("pack", "%q must be kebab-case (a-z, 0-9, '-')", f.Pack))
	}
	for i := range f.Rules {
		r := &f.Rules[i]
		p := "rules[" + strconv.Itoa(i) + "]"
		line, _ := doc.Locate(p)
		r.Source = name + ":" + strconv.Itoa(line)
		r.Pack = f.Pack
		if r.Kind == "" {
			r.Kind = KindRegex
		}
		for _, err := range r.check() {
			var fe *fieldError
			if errors.As(err, &fe) {
				invalid = append(invalid, yamlconf.Errorf(p+"."+fe.field, "rule %q: %s", r.ID, fe.msg))
			} else {
				invalid = append(invalid, yamlconf.Errorf(p, "rule %q: %v", r.ID, err))
			}
		}
	}
	if err := yamlconf.Merge(decoded, doc.Place(errors.Join(invalid...))).Err(); err != nil {
		return nil, err
	}
	return f.Rules, nil
}

// Validate checks one rule, as Parse does, and joins every problem found.
func (r *Rule) Validate() error {
	return errors.Join(r.check()...)
}

type fieldError struct {
	field string
	msg   string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func ferr(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

var idRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

func (r *Rule) check() []error {
	var errs []error
	if !idRE.MatchString(r.ID) {
		errs = append(errs, ferr("id", "%q must be kebab-case (a-z, 0-9, '-')", r.ID))
	}
	if strings.TrimSpace(r.Description) == "" {
		errs = append(errs, ferr("description", "is empty"))
	}
	if len(r.Examples) == 0 {
		errs = append(errs, ferr("examples", "a rule needs at least one example it must catch"))
	}
	if r.KeepPrefix < 0 || r.KeepPrefix > 16 {
		errs = append(errs, ferr("keep_prefix", "%d is out of range 0..16", r.KeepPrefix))
	}
	for _, sw := range r.Stopwords {
		if sw == "" {
			errs = append(errs, ferr("stopwords", "an empty stopword would silence every match"))
		}
	}
	switch r.Kind {
	case KindRegex:
		errs = append(errs, r.checkRegex()...)
	case KindKeyName:
		errs = append(errs, r.checkKeyName()...)
	default:
		errs = append(errs, ferr("kind", "%q is neither %q nor %q", r.Kind, KindRegex, KindKeyName))
	}
	return errs
}

func (r *Rule) checkRegex() []error {
	var errs []error
	if r.Regex == "" {
		errs = append(errs, ferr("regex", "is empty, so this rule would match nothing"))
	} else if re, err := syntax.Parse(r.Regex, syntax.Perl); err != nil {
		errs = append(errs, ferr("regex", "%v", err))
	} else if re.MaxCap() > 1 {
		names := re.CapNames()
		hasSecret := false
		for _, n := range names {
			hasSecret = hasSecret || n == "secret"
		}
		if !hasSecret {
			errs = append(errs, ferr("regex", "has %d capture groups; name the secret one (?P<secret>...) or use (?:...) for the others", re.MaxCap()))
		}
	}
	if len(r.Keywords) == 0 {
		errs = append(errs, ferr("keywords", "a regex rule needs at least one keyword to gate it"))
	}
	for _, k := range r.Keywords {
		switch {
		case len(k) < 2:
			errs = append(errs, ferr("keywords", "%q is shorter than 2 bytes and would gate nothing", k))
		case len(k) < 4 && strings.Trim(strings.ToLower(k), "0123456789abcdef-_.") == "":
			// Four hex digits occur at one position in 65536 of a hash;
			// fewer would fire inside every GUID and hash.
			errs = append(errs, ferr("keywords", "%q has only hex digits and separators and is shorter than 4 bytes, so it would fire inside every GUID and hash; use a context word", k))
		}
	}
	if r.Before < 0 || r.After < 0 || r.Before > 1<<16 || r.After > 1<<16 {
		errs = append(errs, ferr("before", "before and after must be within 0..65536"))
	}
	if r.MinEntropy < 0 || r.MinEntropy > 8 {
		errs = append(errs, ferr("min_entropy", "%v is out of range 0..8", r.MinEntropy))
	}
	for _, v := range r.Validators {
		name, arg, _ := strings.Cut(v, ":")
		spec, ok := Validators[name]
		switch {
		case !ok:
			errs = append(errs, ferr("validators", "unknown validator %q", v))
		case spec.Arg:
			if n, err := strconv.Atoi(arg); err != nil || n <= 0 {
				errs = append(errs, ferr("validators", "%q needs a positive number, as in %s:64", v, name))
			}
		case arg != "":
			errs = append(errs, ferr("validators", "%q takes no argument", v))
		}
	}
	if r.Strict && len(r.Validators) == 0 {
		errs = append(errs, ferr("strict", "is set but the rule has no validators"))
	}
	if len(r.Names) > 0 || r.Suffix || len(r.Contexts) > 0 || r.KeepScheme || r.WholeLine || r.Random != "" || len(r.Exclude) > 0 {
		errs = append(errs, ferr("names", "names, suffix, exclude, contexts, keep_scheme, whole_line and random belong to keyname rules"))
	}
	return errs
}

func (r *Rule) checkKeyName() []error {
	var errs []error
	if len(r.Names) == 0 {
		errs = append(errs, ferr("names", "a keyname rule needs at least one name"))
	}
	for _, n := range r.Names {
		if NormalizeName(n) == "" {
			errs = append(errs, ferr("names", "%q has no letters or digits", n))
		}
	}
	switch r.Random {
	case "", "true", "mixed":
	default:
		errs = append(errs, ferr("random", "unknown value %q (want true or mixed)", r.Random))
	}
	for _, c := range r.Contexts {
		if c != ContextJSON && c != ContextQuery && c != ContextText {
			errs = append(errs, ferr("contexts", "unknown context %q (want json, query or text)", c))
		}
	}
	if r.Regex != "" || len(r.Keywords) > 0 || len(r.Validators) > 0 {
		errs = append(errs, ferr("regex", "regex, keywords and validators belong to regex rules"))
	}
	return errs
}

// IsNameSeparator reports whether c is one of the separators a name is
// matched without: "client_secret", "client-secret", "client.secret" and
// "client secret" are one name.
func IsNameSeparator(c byte) bool {
	return c == '-' || c == '_' || c == '.' || c == ' '
}

// NormalizeName lower-cases an ASCII name and drops the separators '-', '_',
// '.' and spaces, so that api_key, API-Key and apiKey compare equal.
func NormalizeName(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case IsNameSeparator(c):
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// HasContext reports whether a keyname rule applies in context c.
func (r *Rule) HasContext(c string) bool {
	if len(r.Contexts) == 0 {
		return true
	}
	for _, x := range r.Contexts {
		if x == c {
			return true
		}
	}
	return false
}
