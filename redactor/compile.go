package redactor

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	coregx "github.com/coregx/ahocorasick"
	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor/internal/ahocorasick"
	"github.com/flowmask/flowmask/redactor/internal/literal"
	"go.uber.org/zap"
)

// LiteralRuleID labels masks of known secret values.
const LiteralRuleID = "known-secret"

// Priorities decide the label when spans of different rules overlap.
const (
	prioKeyName = 1
	prioRegex   = 2
	prioLiteral = 3
)

type validator struct {
	name  string
	arg   int
	check func(secret []byte, arg int) bool
}

type rule struct {
	id   string
	kind string
	prio int
	// rx holds the regex rule's expressions, compiled on first use (see
	// regexps); nil for other kinds.
	rx *regexps
	// anchors is true when rx has an anchored form ^(?:re): every match
	// starts near a keyword.
	anchors  bool
	boundary string // leading boundary group stripped from the anchored or bare form
	// leadMin and leadMax bound how many bytes before its keyword an
	// anchored rule's match starts: 0 and 0 when every match starts with
	// the keyword; a few when the regex opens with a short bounded part
	// (a quote and blanks before "bearer"). Each start in that range is
	// tried, anchored, instead of searching the whole window.
	leadMin, leadMax int
	// need is a byte (ASCII-folded) that every match holds, the rarest
	// such in logs; an input without it is not searched. hasNeed is false
	// when no byte is certain.
	need       byte
	hasNeed    bool
	group      int
	before     int
	after      int
	yamlBlock  bool // the window after a hit ends with the YAML block under it
	minEntropy float64
	validators []validator
	strict     bool
	keepPrefix int
	stopwords  [][]byte

	// keyname rules
	suffix     bool
	inJSON     bool
	inQuery    bool
	inText     bool
	keepScheme bool
	wholeLine  bool
	random     bool // the value must pass looksRandom
	mixed      bool // ... with both letter cases and digits; blanks may separate
}

// kwKind says what a keyword hit triggers.
type kwTarget struct {
	rule int32
	// name is true for a keyname rule's name variant; exact is its
	// normalized length for boundary checks.
	name bool
}

type compiled struct {
	rules []rule
	// ac holds the keywords' cores (see cores.go) and decides, line by
	// line, whether any rule can match; pos places the whole keywords.
	ac *ahocorasick.Matcher
	// multiLine is true when a keyword holds a line break, so the
	// automaton must see a buffer whole rather than line by line.
	multiLine bool
	cores     [][]byte
	pos       *coregx.Automaton
	words     [][]byte
	targets   [][]kwTarget
	trigger   []bool // per word: a key whose base64 value must be decoded
	// queriesKey is true per word for a spelling of the "queries" key,
	// whose members the JSON walk masks by their URL rules.
	queriesKey []bool
	// pairName is true per word for a credential name that the JSON walk
	// knows (a name/value pair's name): text holding it may hold a pair
	// object (see walkPairObjects).
	pairName []bool
	maxWord  int
	// ids holds the rule IDs, the longest maxID bytes, to recognize masks
	// of maxMask bytes at most (see maskEnd).
	ids     map[string]bool
	maxID   int
	maxMask int

	exactNames  map[string]int32 // normalized name -> rule
	suffixNames map[string]int32 // normalized name -> rule (suffix rules)
	excluded    map[string]bool  // normalized names that are never secret
	hasNames    bool             // some keyname rule applies to JSON keys
	suffixLens  []int            // distinct lengths of suffixNames' keys

	allow []allowEntry
	// overlap is how many trailing bytes streaming keeps between chunks so
	// that a secret split across reads is still whole in one of them.
	overlap int
}

type allowEntry struct {
	rule  string
	path  *regexp.Regexp
	value *regexp.Regexp
}

// globPath compiles an allowlist path: '*' matches within one segment, '**'
// matches anything.
func globPath(p string) (*regexp.Regexp, error) {
	q := regexp.QuoteMeta(p)
	q = strings.ReplaceAll(q, `\*\*`, `.*`)
	q = strings.ReplaceAll(q, `\*`, `[^.\[]*`)
	return regexp.Compile("^" + q + "$")
}

// Redactor finds and masks secrets. It is immutable after New and safe for
// concurrent use by any number of goroutines.
type Redactor struct {
	c        *compiled
	lits     *literal.Set
	litRule  int
	mask     MaskStyle
	hashKey  []byte
	maxDoc   int
	logger   *zap.Logger
	pool     sync.Pool
	litCount int
	// afterGrow is Config.AfterRecordGrow.
	afterGrow func()
}

// Compiled is a rule set and allowlist compiled for matching. It is
// immutable and safe for concurrent use; any number of Redactors built with
// NewFromCompiled share it, so a process that builds many Redactors from the
// same rules (one per command, route or refresh) compiles them once.
type Compiled struct {
	c *compiled
}

// Compile compiles a rule set and an allowlist. A nil set means
// patterns.Default(). Errors name the rule or allowlist entry at fault.
func Compile(set *patterns.Set, allow []Allow) (*Compiled, error) {
	if set == nil {
		var err error
		if set, err = patterns.Default(); err != nil {
			return nil, fmt.Errorf("load default rules: %w", err)
		}
	}
	c, err := compile(set, allow)
	if err != nil {
		return nil, err
	}
	return &Compiled{c: c}, nil
}

// Rules returns the IDs of the compiled rules, in order.
func (c *Compiled) Rules() []string { return c.c.ruleIDs() }

// New compiles cfg into a Redactor. Errors name the rule or setting at fault.
func New(cfg Config) (*Redactor, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	// The known values' matcher does not depend on the rules: with
	// thousands of values it takes as long to build as they take to
	// compile, so the two are built side by side.
	lits := make(chan litSet, 1)
	go func() { lits <- buildLiterals(cfg) }()
	c, err := Compile(cfg.Rules, cfg.Allow)
	ls := <-lits
	if err != nil {
		return nil, err
	}
	return newRedactor(c, cfg, ls), nil
}

// NewFromCompiled builds a Redactor on rules compiled by Compile, with the
// mask, hash key, literals, document limit and logger of cfg. cfg.Rules and
// cfg.Allow must be empty: they are part of c.
func NewFromCompiled(c *Compiled, cfg Config) (*Redactor, error) {
	if c == nil {
		return nil, errors.New("redactor: NewFromCompiled needs compiled rules")
	}
	if cfg.Rules != nil || len(cfg.Allow) > 0 {
		return nil, errors.New("redactor: NewFromCompiled takes rules and allowlist from the compiled set; leave Config.Rules and Config.Allow empty")
	}
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	return newRedactor(c, cfg, buildLiterals(cfg)), nil
}

// checkConfig rejects settings that contradict each other.
func checkConfig(cfg Config) error {
	if cfg.Mask == MaskHash && len(cfg.HashKey) == 0 {
		return errors.New("mask hash: a hash key is required (set FLOWMASK_HASH_KEY)")
	}
	return nil
}

// buildLiterals builds the known-value matcher of cfg.
func buildLiterals(cfg Config) litSet {
	return configured(cfg).buildLiterals(cfg.Literals)
}

// configured returns a Redactor with cfg's settings and no rules yet.
func configured(cfg Config) *Redactor {
	maxDoc := cfg.MaxDocument
	if maxDoc <= 0 {
		maxDoc = DefaultMaxDocument
	}
	logger := cfg.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Redactor{mask: cfg.Mask, hashKey: append([]byte(nil), cfg.HashKey...), maxDoc: maxDoc, logger: logger, afterGrow: cfg.AfterRecordGrow}
}

// newRedactor assembles a Redactor from compiled rules and built literals.
func newRedactor(c *Compiled, cfg Config, ls litSet) *Redactor {
	r := configured(cfg)
	r.c = c.c
	r.useLiterals(ls)
	r.pool.New = func() any { return newState(r) }
	return r
}

// WithLiterals returns a Redactor that shares r's compiled rules but masks
// lits instead of r's literals. Building it is cheap compared with New, so a
// refresh of known secrets can swap whole Redactors atomically.
func (r *Redactor) WithLiterals(lits []Literal) *Redactor {
	n := &Redactor{c: r.c, mask: r.mask, hashKey: r.hashKey, maxDoc: r.maxDoc, logger: r.logger, afterGrow: r.afterGrow}
	n.useLiterals(n.buildLiterals(lits))
	n.pool.New = func() any { return newState(n) }
	return n
}

// Literals reports how many known values are masked.
func (r *Redactor) Literals() int { return r.litCount }

// Rules returns the IDs of the compiled rules, in order.
func (r *Redactor) Rules() []string { return r.c.ruleIDs() }

// ruleIDs returns the IDs of the rules, without the literal pseudo-rule.
func (c *compiled) ruleIDs() []string {
	ids := make([]string, 0, len(c.rules))
	for _, rl := range c.rules {
		if rl.id != LiteralRuleID {
			ids = append(ids, rl.id)
		}
	}
	return ids
}

// litSet is a built known-value matcher and how many values it holds. It
// also matches the hash key, which as one of flowmask's own secrets is
// always masked and is not counted.
type litSet struct {
	set   *literal.Set
	count int
}

// buildLiterals builds the matcher for lits and the hash key. It reads only
// r's hash key and logger, so it may run before r's rules are compiled.
func (r *Redactor) buildLiterals(lits []Literal) litSet {
	vals := make([][]byte, 0, len(lits)+1)
	for _, l := range lits {
		if len(l.Value) < literal.MinLen {
			r.logger.Warn("known secret shorter than 8 bytes skipped", zap.String("source", l.Source), zap.Int("length", len(l.Value)))
			continue
		}
		vals = append(vals, []byte(l.Value))
	}
	ls := litSet{count: len(vals)}
	if len(r.hashKey) >= literal.MinLen {
		vals = append(vals, r.hashKey)
	}
	if len(vals) > 0 {
		ls.set = literal.Build(vals)
	}
	return ls
}

// useLiterals installs ls; r's rules must be compiled.
func (r *Redactor) useLiterals(ls litSet) {
	r.lits, r.litCount = ls.set, ls.count
	r.litRule = len(r.c.rules) - 1 // the literal pseudo-rule is last
}

func compile(set *patterns.Set, allow []Allow) (*compiled, error) {
	c := &compiled{exactNames: map[string]int32{}, suffixNames: map[string]int32{}, excluded: map[string]bool{}, overlap: 16 << 10}
	wordIdx := map[string]int{}
	addWord := func(w string, t kwTarget) {
		w = strings.ToLower(w)
		i, ok := wordIdx[w]
		if !ok {
			i = len(c.words)
			wordIdx[w] = i
			c.words = append(c.words, []byte(w))
			c.targets = append(c.targets, nil)
			c.multiLine = c.multiLine || strings.ContainsRune(w, '\n')
			if len(w) > c.maxWord {
				c.maxWord = len(w)
			}
		}
		if t.rule >= 0 {
			c.targets[i] = append(c.targets[i], t)
		}
	}
	var errs []error
	for _, pr := range set.Rules {
		if err := pr.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: rule %q: %w", pr.Source, pr.ID, err))
			continue
		}
		idx := int32(len(c.rules))
		rl := rule{id: pr.ID, kind: pr.Kind, keepPrefix: pr.KeepPrefix, minEntropy: pr.MinEntropy, strict: pr.Strict}
		for _, sw := range pr.Stopwords {
			rl.stopwords = append(rl.stopwords, []byte(strings.ToLower(sw)))
		}
		switch pr.Kind {
		case patterns.KindRegex:
			// The expressions are parsed here, which rejects any that
			// would not compile, and compiled on a rule's first keyword
			// hit: most rules never fire in a given run.
			rx := &regexps{src: relaxRepeats(pr.Regex)}
			parsed, err := syntax.Parse(rx.src, syntax.Perl)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: rule %q: regex: %w", pr.Source, pr.ID, err))
				continue
			}
			rl.rx, rl.prio = rx, prioRegex
			if rest, boundary, ok := anchorable(pr.Regex, pr.Keywords); ok {
				// Every match starts at a keyword hit: one anchored
				// attempt per hit replaces a scan of the whole window.
				if a := anchoredForm(rest); a != "" {
					rx.anchored, rl.anchors, rl.boundary = a, true, boundary
				}
			} else if rest, boundary, lo, hi, ok := leadAnchorable(pr.Regex, pr.Keywords); ok && lo <= windowBefore(pr.Before) {
				// Every match starts between hi and lo bytes before a
				// keyword: a few anchored attempts per hit replace a scan
				// of the whole window (which reaches before bytes back).
				if a := anchoredForm(rest); a != "" {
					rx.anchored, rl.anchors, rl.boundary = a, true, boundary
					rl.leadMin, rl.leadMax = lo, min(hi, windowBefore(pr.Before))
				}
			} else if rest, boundary := cutBoundary(pr.Regex); boundary != "" {
				// A regex that starts with a literal lets Go's regexp
				// skip to it, where a leading group makes it try every
				// position.
				if b := relaxRepeats(rest); parses(b) {
					rx.bare, rl.boundary = b, boundary
				}
			}
			orig := parsed
			if rx.src != pr.Regex {
				orig, err = syntax.Parse(pr.Regex, syntax.Perl)
			}
			if err == nil {
				// requiredBytes reads counted repeats itself; Simplify
				// would only copy the tree (TestRequiredBytesNeedNoSimplify).
				rl.need, rl.hasNeed = rarestRequired(requiredBytes(orig))
			}
			// As regexp's SubexpIndex("secret") and NumSubexp.
			if g := slices.Index(parsed.CapNames(), "secret"); g > 0 {
				rl.group = g
			} else if parsed.MaxCap() >= 1 {
				rl.group = 1
			}
			rl.before, rl.after = windowBefore(pr.Before), pr.After
			rl.yamlBlock = pr.YAMLBlock
			if rl.after == 0 {
				rl.after = 256
			}
			if need := rl.before + rl.after + 64; need > c.overlap {
				c.overlap = need
			}
			for _, v := range pr.Validators {
				val, err := parseValidator(v)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: rule %q: %w", pr.Source, pr.ID, err))
					continue
				}
				rl.validators = append(rl.validators, val)
			}
			for _, k := range pr.Keywords {
				addWord(k, kwTarget{rule: idx})
				// The same keyword as it appears inside a JSON string that
				// escapes '/' or '"' (the string is then unescaped before the
				// regex runs).
				if e := jsonEscaper.Replace(k); e != k {
					addWord(e, kwTarget{rule: idx})
				}
			}
		case patterns.KindKeyName:
			rl.prio = prioKeyName
			rl.suffix = pr.Suffix
			rl.inJSON = pr.HasContext(patterns.ContextJSON)
			rl.inQuery = pr.HasContext(patterns.ContextQuery)
			rl.inText = pr.HasContext(patterns.ContextText)
			rl.keepScheme = pr.KeepScheme
			rl.wholeLine = pr.WholeLine
			rl.random = pr.Random != ""
			rl.mixed = pr.Random == "mixed"
			c.hasNames = c.hasNames || rl.inJSON
			for _, n := range pr.Names {
				norm := patterns.NormalizeName(n)
				if prev, ok := c.exactNames[norm]; ok && prev != idx {
					errs = append(errs, fmt.Errorf("%s: rule %q: names: %q is also a name of rule %q", pr.Source, pr.ID, n, c.rules[prev].id))
					continue
				}
				c.exactNames[norm] = idx
				if pr.Suffix {
					c.suffixNames[norm] = idx
				}
				// The names of randomness-gated rules are vendor and
				// everyday words (mixpanel, session, key) that no one
				// splits; splitting them would triple the automata (every
				// split spelling is a keyword) for nothing.
				for _, v := range nameVariants(n, !rl.random) {
					addWord(v, kwTarget{rule: idx, name: true})
				}
			}
			for _, x := range pr.Exclude {
				c.excluded[patterns.NormalizeName(x)] = true
			}
		}
		c.rules = append(c.rules, rl)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// The literal pseudo-rule is always last.
	c.rules = append(c.rules, rule{id: LiteralRuleID, kind: "literal", prio: prioLiteral})
	c.ids = make(map[string]bool, len(c.rules))
	for _, rl := range c.rules {
		c.ids[rl.id] = true
		c.maxID = max(c.maxID, len(rl.id))
	}
	c.maxMask = len(maskPrefix) + c.maxID + len(":01234567]")
	// Logic Apps content envelopes and inlined content links hide text in
	// base64; these keys trigger decoding. They are matched without their
	// quotes, so that an envelope inside a JSON string ({\"$content\": or
	// .NET's {\u0022$content\u0022:) also makes the walk open that string.
	triggers := []string{`$content`, `inlinedcontent`}
	for _, t := range triggers {
		addWord(t, kwTarget{rule: -1})
	}
	// A Logic Apps HTTP action's queries object holds URL query parameters
	// ({"queries":{"code":"<function key>"}}) that the JSON walk masks by
	// their URL rules (queryKeyRule); the key flags its line, as it is
	// written in JSON, in a JSON string and by .NET's encoder.
	queries := []string{`queries"`, `queries\"`, `queries\u0022`}
	for _, q := range queries {
		addWord(q, kwTarget{rule: -1})
	}
	c.trigger = make([]bool, len(c.words))
	c.queriesKey = make([]bool, len(c.words))
	for _, q := range queries {
		c.queriesKey[wordIdx[q]] = true
	}
	for _, t := range triggers {
		c.trigger[wordIdx[t]] = true
	}
	c.pairName = make([]bool, len(c.words))
	for w, ts := range c.targets {
		for _, t := range ts {
			if t.name && t.rule >= 0 && c.rules[t.rule].inJSON {
				c.pairName[w] = true
			}
		}
	}
	lens := map[int]bool{}
	for n := range c.suffixNames {
		if !lens[len(n)] {
			lens[len(n)] = true
			c.suffixLens = append(c.suffixLens, len(n))
		}
	}
	sort.Ints(c.suffixLens)
	c.cores = chooseCores(c.words)
	c.ac = ahocorasick.NewMatcher(c.cores)
	pos, err := coregx.NewBuilder().AddPatterns(c.words).Build()
	if err != nil {
		return nil, fmt.Errorf("keyword positions automaton: %w", err)
	}
	c.pos = pos
	for i, a := range allow {
		e := allowEntry{rule: a.Rule}
		if a.Path != "" {
			re, err := globPath(a.Path)
			if err != nil {
				errs = append(errs, fmt.Errorf("allow[%d].path: %w", i, err))
				continue
			}
			e.path = re
		}
		if a.Value != "" {
			re, err := regexp.Compile(a.Value)
			if err != nil {
				errs = append(errs, fmt.Errorf("allow[%d].value: %w", i, err))
				continue
			}
			e.value = re
		}
		if a.Rule == "" && a.Path == "" && a.Value == "" {
			errs = append(errs, fmt.Errorf("allow[%d]: set at least one of rule, path and value, or it would silence everything", i))
			continue
		}
		c.allow = append(c.allow, e)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// regexps are a regex rule's expressions, compiled once, on first use, by
// compiled. compile has parsed every source, so they compile.
type regexps struct {
	once sync.Once
	// src is the rule's regex; anchored its ^(?:...) form without the
	// leading boundary group, bare the same unanchored, when they apply.
	src, anchored, bare string

	re         *regexp.Regexp
	anchoredRe *regexp.Regexp // nil when anchored is ""
	bareRe     *regexp.Regexp // nil when bare is ""
}

// compiled returns x with its expressions compiled. It is safe for
// concurrent use.
func (x *regexps) compiled() *regexps {
	x.once.Do(func() {
		x.re = regexp.MustCompile(x.src)
		if x.anchored != "" {
			x.anchoredRe = regexp.MustCompile(x.anchored)
		}
		if x.bare != "" {
			x.bareRe = regexp.MustCompile(x.bare)
		}
	})
	return x
}

// anchoredForm returns ^(?:rest), with large repeats relaxed, or "" if it
// does not parse. anchorable and leadAnchorable have parsed rest, so it
// needs parsing again only when relaxing changed it.
func anchoredForm(rest string) string {
	relaxed := relaxRepeats(rest)
	a := `^(?:` + relaxed + `)`
	if relaxed != rest && !parses(a) {
		return ""
	}
	return a
}

// parses reports whether expr is a valid regular expression. Parsing is
// what rejects an expression; compiling a parsed one does not fail.
func parses(expr string) bool {
	_, err := syntax.Parse(expr, syntax.Perl)
	return err == nil
}

// jsonEscaper escapes '/' and '"' as a JSON encoder may. A Replacer is safe
// for concurrent use; building one per keyword cost more than the rest of
// compiling that keyword.
var jsonEscaper = strings.NewReplacer("/", `\/`, `"`, `\"`)

// nameVariants spells a name as it may appear in text, lower-cased: with
// '_', with '-', and with no separator (which also covers camelCase); and,
// since key matching ignores these separators (Pass_Word, pass-word and
// password are one name), a one-word name also with one '_' or '-' between
// any two of its letters, so that the prefilter flags a name split inside
// a word (up to maxSplitName bytes) when split is set. (Names of several words already have their word boundaries;
// splitting them further would double the automata for little gain.)
func nameVariants(n string, split bool) []string {
	n = strings.ToLower(n)
	parts := strings.FieldsFunc(n, func(r rune) bool { return r == '_' || r == '-' || r == '.' || r == ' ' })
	joined := strings.Join(parts, "")
	seen := map[string]bool{joined: true}
	vs := []string{joined}
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			vs = append(vs, v)
		}
	}
	if len(parts) > 1 {
		add(strings.Join(parts, "_"))
		add(strings.Join(parts, "-"))
	}
	for k := 1; split && k < len(joined) && len(parts) == 1 && len(joined) <= maxSplitName; k++ {
		for _, sep := range splitSeparators {
			add(joined[:k] + sep + joined[k:])
		}
	}
	sort.Strings(vs)
	return vs
}

// maxSplitName is the longest one-word name that nameVariants splits: the
// short names people split (Pass_Word, pass-word, Pass-Wd, Se_cret,
// Api-Key); every split spelling is a keyword of both automata.
const maxSplitName = 8

// splitSeparators are the separators nameVariants inserts inside a name.
var splitSeparators = [...]string{"_", "-"}

// label appends the mask for a secret to dst.
func (r *Redactor) label(dst []byte, rl *rule, secret []byte) []byte {
	dst = append(dst, maskPrefix...)
	dst = append(dst, rl.id...)
	if r.mask == MaskHash {
		m := hmac.New(sha256.New, r.hashKey)
		m.Write(secret)
		var sum [sha256.Size]byte
		s := m.Sum(sum[:0])
		const hexd = "0123456789abcdef"
		dst = append(dst, ':')
		for _, b := range s[:4] {
			dst = append(dst, hexd[b>>4], hexd[b&0xF])
		}
	}
	return append(dst, ']')
}

// byteRank orders bytes from most to least common in JSON logs (measured on
// ASCII-folded log corpora: hex digits from ids and hashes are very common);
// bytes not listed are rarer still.
const byteRank = "\"eactd10s:2rion,4-6537bf89lpu/g.m_v hkyw\\zxq{}j=()&+$;*?%[]~@#!^|<>'`"

// Leading boundary groups that anchoring checks by hand (see boundaryOK).
const (
	boundaryWord    = `\b`
	boundaryEscaped = `(?:\b|\\[nrt])`
)

// anchorable reports whether every match of expr begins at a keyword: after
// an optional leading boundary group, every alternative of expr starts with
// a literal that starts with one of the keywords. It returns the expression
// without that group, and which boundary the caller must check.
func anchorable(expr string, keywords []string) (rest string, boundary string, ok bool) {
	rest, boundary = cutBoundary(expr)
	re, err := syntax.Parse(rest, syntax.Perl)
	if err != nil {
		return "", "", false
	}
	prefixes, ok := literalPrefixes(re)
	if !ok || len(prefixes) == 0 {
		return "", "", false
	}
	for _, p := range prefixes {
		found := false
		for _, k := range keywords {
			if strings.HasPrefix(p, strings.ToLower(k)) {
				found = true
				break
			}
		}
		if !found {
			return "", "", false
		}
	}
	return rest, boundary, true
}

// windowBefore is how many bytes before a keyword hit a rule's window
// starts: the rule's before, 64 if unset.
func windowBefore(before int) int {
	if before == 0 {
		return 64
	}
	return before
}

// maxLead is the longest bounded part before a keyword that
// leadAnchorable accepts.
const maxLead = 16

// leadAnchorable reports whether every match of expr holds one of the
// keywords at most a few bytes after its start: after an optional leading
// boundary group, expr is a sequence whose first elements match between lo
// and hi bytes (hi <= maxLead; literals, classes and bounded repeats of
// ASCII, no assertions) and whose remainder starts, in every alternative,
// with a literal that starts with a keyword. Each such keyword occurrence
// is a hit, so the match starts between hit-hi and hit-lo. It returns the
// expression without the boundary group, and the boundary to check.
func leadAnchorable(expr string, keywords []string) (rest, boundary string, lo, hi int, ok bool) {
	rest, boundary = cutBoundary(expr)
	re, err := syntax.Parse(rest, syntax.Perl)
	if err != nil {
		return "", "", 0, 0, false
	}
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	for i := 1; i < len(subs) && i <= 4; i++ {
		mn, mx, bounded := byteWidth(subs[i-1])
		if !bounded {
			return "", "", 0, 0, false
		}
		lo, hi = lo+mn, hi+mx
		if hi > maxLead {
			return "", "", 0, 0, false
		}
		tail := &syntax.Regexp{Op: syntax.OpConcat, Sub: subs[i:]}
		if prefixes, pok := literalPrefixes(tail); pok && len(prefixes) > 0 && startWithKeywords(prefixes, keywords) {
			return rest, boundary, lo, hi, true
		}
	}
	return "", "", 0, 0, false
}

// startWithKeywords reports whether every prefix starts with one of the
// keywords (ASCII, compared lower-cased).
func startWithKeywords(prefixes, keywords []string) bool {
	for _, p := range prefixes {
		found := false
		for _, k := range keywords {
			k = strings.ToLower(k)
			if k != "" && isASCII(k) && strings.HasPrefix(p, k) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// byteWidth returns the least and most bytes re can match, and whether
// that is bounded and re holds no assertion (^, $, \b), whose meaning
// would change when matching is anchored at a later start.
func byteWidth(re *syntax.Regexp) (lo, hi int, ok bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return 0, 0, true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if r >= 0x80 {
				return 0, 0, false // case folding may change its length
			}
		}
		return len(re.Rune), len(re.Rune), true
	case syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		if re.Op == syntax.OpCharClass && len(re.Rune) > 0 && re.Rune[len(re.Rune)-1] < 0x80 {
			return 1, 1, true
		}
		return 1, 4, true
	case syntax.OpCapture:
		return byteWidth(re.Sub[0])
	case syntax.OpQuest:
		_, h, ok := byteWidth(re.Sub[0])
		return 0, h, ok
	case syntax.OpRepeat:
		if re.Max < 0 {
			return 0, 0, false
		}
		l, h, ok := byteWidth(re.Sub[0])
		return l * re.Min, h * re.Max, ok
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			l, h, sok := byteWidth(sub)
			if !sok {
				return 0, 0, false
			}
			lo, hi = lo+l, hi+h
		}
		return lo, hi, true
	case syntax.OpAlternate:
		lo = -1
		for _, sub := range re.Sub {
			l, h, sok := byteWidth(sub)
			if !sok {
				return 0, 0, false
			}
			if lo < 0 || l < lo {
				lo = l
			}
			hi = max(hi, h)
		}
		return max(lo, 0), hi, true
	}
	return 0, 0, false
}

// literalPrefixes returns the lower-cased literals every match of re starts
// with, one per alternative; ok is false when some alternative starts with
// something else.
func literalPrefixes(re *syntax.Regexp) ([]string, bool) {
	ps, _, ok := prefixesOf(re)
	return ps, ok
}

// maxPrefixes bounds the alternatives expanded by prefixesOf.
const maxPrefixes = 16

// prefixesOf returns the literal prefixes of re, whether re is wholly
// literal (so what follows it extends the prefixes), and ok.
func prefixesOf(re *syntax.Regexp) (ps []string, complete, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}, true, true
	case syntax.OpCapture:
		return prefixesOf(re.Sub[0])
	case syntax.OpConcat:
		acc := []string{""}
		for _, sub := range re.Sub {
			sps, comp, ok := prefixesOf(sub)
			if !ok {
				if len(acc) == 1 && acc[0] == "" {
					return nil, false, false
				}
				return acc, false, true
			}
			if len(acc)*len(sps) > maxPrefixes {
				return acc, false, acc[0] != ""
			}
			next := make([]string, 0, len(acc)*len(sps))
			for _, a := range acc {
				for _, p := range sps {
					next = append(next, a+p)
				}
			}
			acc = next
			if !comp {
				return acc, false, true
			}
		}
		return acc, true, true
	case syntax.OpAlternate:
		var all []string
		complete = true
		for _, sub := range re.Sub {
			sps, comp, ok := prefixesOf(sub)
			if !ok {
				return nil, false, false
			}
			all = append(all, sps...)
			complete = complete && comp
		}
		if len(all) > maxPrefixes {
			return nil, false, false
		}
		return all, complete, true
	case syntax.OpCharClass:
		// A small class such as [Aa] (case folding) or [sbr]: expand.
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 4 {
				return nil, false, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, strings.ToLower(string(r)))
			}
		}
		if len(out) == 0 || len(out) > 8 {
			return nil, false, false
		}
		return out, true, true
	}
	return nil, false, false
}

// boundaryOK checks a stripped leading boundary group at src[p], with the
// real left context: \b needs a non-word byte (or nothing) before p, and the
// escaped form also accepts a literal \n, \r or \t.
// cutBoundary splits a leading boundary group (\b, or \b or a JSON escape)
// off expr; boundaryOK checks it instead.
func cutBoundary(expr string) (rest, boundary string) {
	for _, b := range []string{boundaryEscaped, boundaryWord} {
		if rest, ok := strings.CutPrefix(expr, b); ok {
			// A boundary group followed by a quantifier, or the first
			// branch of an alternation, is not a prefix of every match.
			if rest == "" || strings.ContainsRune("*+?{|", rune(rest[0])) || topLevelAlternation(rest) {
				return expr, ""
			}
			return rest, b
		}
	}
	return expr, ""
}

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s *byteSet) union(o byteSet) {
	s[0], s[1], s[2], s[3] = s[0]|o[0], s[1]|o[1], s[2]|o[2], s[3]|o[3]
}
func (s *byteSet) intersect(o byteSet) {
	s[0], s[1], s[2], s[3] = s[0]&o[0], s[1]&o[1], s[2]&o[2], s[3]&o[3]
}

// requiredBytes returns ASCII bytes, folded to lower case, that every match
// of re contains.
func requiredBytes(re *syntax.Regexp) byteSet {
	var s byteSet
	fold := func(r rune) {
		if r < utf8.RuneSelf {
			c := byte(r)
			if c-'A' < 26 {
				c += 'a' - 'A'
			}
			s.add(c)
		}
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			fold(r)
		}
	case syntax.OpCharClass:
		// One character, in either case: [Aa] or [x].
		lo, hi := re.Rune[0], re.Rune[len(re.Rune)-1]
		if len(re.Rune) == 2 && lo == hi {
			fold(lo)
		} else if len(re.Rune) == 4 && re.Rune[0] == re.Rune[1] && re.Rune[2] == re.Rune[3] && unicode.SimpleFold(re.Rune[0]) == re.Rune[2] {
			fold(re.Rune[0])
		}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredBytes(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredBytes(re.Sub[0])
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			s.union(requiredBytes(sub))
		}
	case syntax.OpAlternate:
		s = requiredBytes(re.Sub[0])
		for _, sub := range re.Sub[1:] {
			s.intersect(requiredBytes(sub))
		}
	}
	return s
}

// rarestRequired picks the byte of s least common in logs.
func rarestRequired(s byteSet) (byte, bool) {
	best, bestWeight, ok := byte(0), 0.0, false
	for c := range 128 {
		if w := byteWeight(byte(c)); s.has(byte(c)) && (!ok || w < bestWeight) {
			best, bestWeight, ok = byte(c), w, true
		}
	}
	return best, ok
}

// topLevelAlternation reports whether regex source s has a '|' outside all
// groups and character classes.
func topLevelAlternation(s string) bool {
	depth := 0
	for i := range regexSyntax(s) {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '|':
			if depth == 0 {
				return true
			}
		}
	}
	return false
}

// regexSyntax yields the index of every byte of regex source s that is
// syntax: neither escaped nor inside a character class.
func regexSyntax(s string) iter.Seq[int] {
	return func(yield func(int) bool) {
		inClass := false
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\':
				i++ // the escaped byte
			case inClass:
				if c == ']' {
					inClass = false
				}
			case c == '[':
				inClass = true
				// A ']' first in a class (or after '^') is a member.
				if i+1 < len(s) && s[i+1] == '^' {
					i++
				}
				if i+1 < len(s) && s[i+1] == ']' {
					i++
				}
			default:
				if !yield(i) {
					return
				}
			}
		}
	}
}

func boundaryOK(boundary string, src []byte, p int) bool {
	if boundary == "" || p == 0 || !isWordByte(src[p-1]) {
		return true
	}
	if boundary == boundaryEscaped && p >= 2 && src[p-2] == '\\' {
		switch src[p-1] {
		case 'n', 'r', 't':
			return true
		}
	}
	return false
}

func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

// maxCountedRepeat is the largest upper bound of a counted repeat kept as
// written; larger ones ({1,200}, {0,1000}) become unbounded.
const maxCountedRepeat = 32

// relaxRepeats rewrites counted repeats with a large upper bound as
// unbounded ones. Go expands x{n,m} into m copies of x, so such bounds make
// programs too large for the backtracking matcher and push every match onto
// the much slower NFA. The regex only ever runs on a bounded window, which
// caps a match's length anyway; lifting the bound can only widen a match,
// never lose one. It rewrites the text (escapes and character classes are
// skipped), which is far cheaper than printing a parsed syntax tree.
func relaxRepeats(expr string) string {
	var out strings.Builder
	last := 0
	for i := range regexSyntax(expr) {
		if expr[i] != '{' || i < last {
			continue
		}
		end := strings.IndexByte(expr[i:], '}')
		if end < 0 {
			continue
		}
		lo, hi, ok := strings.Cut(expr[i+1:i+end], ",")
		if !ok || !isDigits(lo) || !isDigits(hi) || len(hi) > 6 {
			continue
		}
		if n, _ := strconv.Atoi(hi); n > maxCountedRepeat {
			out.WriteString(expr[last:i])
			out.WriteString("{" + lo + ",}")
			last = i + end + 1
		}
	}
	if last == 0 {
		return expr
	}
	out.WriteString(expr[last:])
	return out.String()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
