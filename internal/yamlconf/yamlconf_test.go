package yamlconf_test

import (
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowmask/flowmask/internal/yamlconf"
)

type limits struct {
	MaxBody yamlconf.Size `yaml:"max_body"`
	Timeout time.Duration `yaml:"timeout"`
	Conns   int           `yaml:"conns"`
}

type route struct {
	Name     string            `yaml:"name"`
	Upstream string            `yaml:"upstream"`
	Tags     map[string]string `yaml:"tags"`
	Limits   limits            `yaml:"limits"`
	Enabled  *bool             `yaml:"enabled"`
}

type config struct {
	Listen string   `yaml:"listen"`
	Hosts  []string `yaml:"hosts"`
	Routes []route  `yaml:"routes"`
	Limits limits   `yaml:"limits"`
	hidden string   //lint:ignore U1000 an unexported field the decoder must never fill
}

func load(t *testing.T, text string, skip ...string) (config, error) {
	t.Helper()
	cfg := config{Listen: "default:1", Limits: limits{MaxBody: 64 << 20, Timeout: time.Minute}}
	doc, err := yamlconf.Parse("c.yaml", []byte(text))
	if err != nil {
		return cfg, err
	}
	return cfg, doc.Decode(&cfg, skip...).Err()
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string // each error, in order
	}{
		{
			name: "unknown key with a suggestion",
			give: "listen: a:1\nlisten_addr: b\nroutes:\n  - name: r\n    upstrem: http://x\n",
			want: []string{
				`c.yaml:2: listen_addr: unknown key`,
				`c.yaml:5: routes[0].upstrem: unknown key (did you mean "upstream"?)`,
			},
		},
		{
			name: "wrong types",
			give: "listen: {a: 1}\nhosts: one\nlimits:\n  conns: many\n  timeout: 30\n  max_body: lots\nroutes:\n  - name: [x]\n",
			want: []string{
				"c.yaml:1: listen: want a string, got a mapping",
				"c.yaml:2: hosts: want a list, got !!str `one`",
				"c.yaml:4: limits.conns: want an integer, got !!str `many`",
				"c.yaml:5: limits.timeout: want a duration such as 30s, 5m or 1h30m, got !!int `30` (a number needs a unit)",
				"c.yaml:6: limits.max_body: want a size such as 1048576, 512KiB or 64MiB",
				"c.yaml:8: routes[0].name: want a string, got a list",
			},
		},
		{
			name: "duplicate keys, at any depth",
			give: "listen: a:1\nroutes:\n  - name: r\n    name: s\nlisten: b:2\n",
			want: []string{
				"c.yaml:4: routes[0].name: duplicate key (first at line 3)",
				"c.yaml:5: listen: duplicate key (first at line 1)",
			},
		},
		{
			name: "nested list positions",
			give: "routes:\n  - name: a\n  - name: b\n    limits:\n      conns: x\n  - {name: c, limits: {timeout: soon}}\n",
			want: []string{
				"c.yaml:5: routes[1].limits.conns: want an integer, got !!str `x`",
				"c.yaml:6: routes[2].limits.timeout: want a duration such as 30s, 5m or 1h30m, got !!str `soon`",
			},
		},
		{
			name: "sorted by line although found in another order",
			// The decoder meets routes (line 1) first; limits are on lines 2-3,
			// the routes' problem on line 6.
			give: "routes:\n  - limits:\n      max_body: 20000000000GiB\n    name: a\n    tags: {a: b}\n    nme: x\nlimits: {conns: -x}\nlisten: [1]\n",
			want: []string{
				"c.yaml:3: routes[0].limits.max_body: size too large",
				`c.yaml:6: routes[0].nme: unknown key (did you mean "name"?)`,
				"c.yaml:7: limits.conns: want an integer, got !!str `-x`",
				"c.yaml:8: listen: want a string, got a list",
			},
		},
		{
			name: "long values are cut in messages",
			give: "limits:\n  conns: ghp_R2d2C3poL1ke5ecretTokenValue0123456\n",
			want: []string{"c.yaml:2: limits.conns: want an integer, got !!str `ghp_R2d...`"},
		},
		{
			name: "not a mapping",
			give: "- a\n- b\n",
			want: []string{"c.yaml:1: the config must be a mapping of keys, got a list"},
		},
		{
			name: "syntax error",
			give: "listen: a\nroutes: [\n",
			want: []string{"c.yaml:2: did not find expected node content"},
		},
		{
			name: "a second document",
			give: "listen: a:1\n---\nlisten: b:2\n",
			want: []string{"c.yaml:2: a second YAML document (after ---): a config file holds one"},
		},
		{
			name: "alias that contains itself",
			give: "hosts: &h [a, *h]\n",
			want: []string{"c.yaml:1: hosts[1]: "},
		},
		{
			name: "a key that is not a string",
			give: "limits:\n  ? [a]\n  : 1\n",
			want: []string{"c.yaml:2: limits: a key must be a string, got a list"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.give)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("error %d = %q; want prefix %q", i, got[i], w)
				}
			}
			// Every error is an *Error with the file and a line.
			for _, e := range yamlconf.Flatten(err) {
				if e.File != "c.yaml" || e.Line < 1 {
					t.Errorf("%#v: no file or line", e)
				}
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	cfg, err := load(t, `
listen: 0.0.0.0:8080
hosts: [a, b]
defaults: &d {conns: 3, timeout: 5s}
routes:
  - name: a
    limits: {<<: *d, conns: 4}
    enabled: false
    tags: {team: x}
  - name: b
    limits: *d
  - name: c
    limits:
      max_body: 1KiB
`, "defaults")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:8080" || len(cfg.Hosts) != 2 || len(cfg.Routes) != 3 {
		t.Fatalf("cfg %+v", cfg)
	}
	a, b, c := cfg.Routes[0], cfg.Routes[1], cfg.Routes[2]
	if a.Limits.Conns != 4 || a.Limits.Timeout != 5*time.Second || a.Enabled == nil || *a.Enabled || a.Tags["team"] != "x" {
		t.Errorf("route a %+v", a)
	}
	if b.Limits.Conns != 3 || c.Limits.MaxBody != 1024 || c.Enabled != nil {
		t.Errorf("routes b, c %+v %+v", b, c)
	}
	// 0x10 is not a size: sizes are decimal.
	if _, err := load(t, "limits: {max_body: 0x10}\n"); err == nil {
		t.Error("0x10 accepted as a size")
	}
	// Unset keys keep their defaults; null keeps a default too.
	cfg, err = load(t, "limits:\n  conns: 2\n  timeout:\nroutes:\n")
	if err != nil || cfg.Limits.MaxBody != 64<<20 || cfg.Limits.Timeout != time.Minute || cfg.Listen != "default:1" || cfg.Routes != nil {
		t.Errorf("defaults: %+v %v", cfg, err)
	}
	// Empty and comment-only files are empty documents.
	for _, text := range []string{"", "# nothing\n", "---\n"} {
		doc, err := yamlconf.Parse("c.yaml", []byte(text))
		if err != nil || !doc.Empty() {
			t.Errorf("%q: %v", text, err)
		}
	}
}

func TestSkipAndSections(t *testing.T) {
	text := "listen: a:1\nkafka:\n  anything: goes\nforward:\n  listen: b:2\n  bogus: 1\n"
	if _, err := load(t, text); err == nil || !strings.Contains(err.Error(), "c.yaml:2: kafka: unknown key") {
		t.Errorf("not skipped: %v", err)
	}
	if _, err := load(t, text, "kafka", "forward"); err != nil {
		t.Errorf("skipped: %v", err)
	}
	doc, err := yamlconf.Parse("c.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var fwd struct {
		Listen string `yaml:"listen"`
	}
	errs := doc.DecodeSection("forward", &fwd)
	if fwd.Listen != "b:2" || errs.Err() == nil || errs.Err().Error() != "c.yaml:6: forward.bogus: unknown key" {
		t.Errorf("forward: %+v %v", fwd, errs.Err())
	}
	if !doc.Has("kafka") || doc.Has("secrets") || doc.DecodeSection("secrets", &fwd) != nil {
		t.Error("Has/absent section")
	}
}

// TestPlace: validation errors get the position of their key, or of the
// nearest written parent, and sort with the decoder's.
func TestPlace(t *testing.T) {
	doc, err := yamlconf.Parse("c.yaml", []byte("listen: a\nroutes:\n  - name: a\n  - name: b\n    limits:\n      conns: 1\nkafka:\n  sasl: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path      string
		line, col int
	}{
		{"listen", 1, 9}, {"routes", 2, 1}, {"routes[1]", 4, 5}, {"routes[1].name", 4, 11},
		{"routes[1].limits.conns", 6, 14}, {"routes[1].limits.timeout", 5, 5}, {"routes[7].name", 2, 1},
		{"kafka.sasl.username", 8, 3}, {"nothing", 1, 1}, {"", 1, 1}, {"routes[x", 2, 1},
	} {
		if l, c := doc.Locate(tt.path); l != tt.line || c != tt.col {
			t.Errorf("Locate(%q) = %d:%d; want %d:%d", tt.path, l, c, tt.line, tt.col)
		}
	}
	verr := errors.Join(yamlconf.Errorf("routes[1].limits.conns", "too many"), yamlconf.Errorf("listen", "bad"), errors.New("plain"))
	es := doc.Place(verr).Sorted()
	want := "c.yaml:1: plain\nc.yaml:1: listen: bad\nc.yaml:6: routes[1].limits.conns: too many"
	if es.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", es, want)
	}
	var fe *yamlconf.Error
	if !errors.As(error(es), &fe) || fe.Column == 0 {
		t.Errorf("errors.As: %v %+v", es, fe)
	}
	p := yamlconf.Prefix("secrets", errors.Join(yamlconf.Errorf("keyvaults[0].url", "x"), errors.New("y")))
	if p.Error() != "secrets.keyvaults[0].url: x\nsecrets: y" {
		t.Errorf("Prefix: %q", p)
	}
}

// TestSortedStable: one file gives one message, in position order, problems
// at one position in the order they were found, repeats dropped.
func TestSortedStable(t *testing.T) {
	es := yamlconf.Errors{
		{File: "c.yaml", Line: 6, Column: 3, Msg: "b"},
		{File: "c.yaml", Line: 2, Column: 9, Msg: "z"},
		{File: "c.yaml", Line: 6, Column: 3, Msg: "a"},
		{File: "c.yaml", Line: 2, Column: 1, Msg: "y"},
		{File: "c.yaml", Line: 6, Column: 3, Msg: "b"},
	}
	want := "c.yaml:2: y\nc.yaml:2: z\nc.yaml:6: b\nc.yaml:6: a"
	for range 20 {
		if got := es.Err().Error(); got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	}
	if (yamlconf.Errors{}).Err() != nil {
		t.Error("no errors: not nil")
	}
}

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		give string
		want yamlconf.Size
	}{
		{"0", 0}, {"1048576", 1 << 20}, {"10B", 10}, {"512 KiB", 512 << 10}, {"64MiB", 64 << 20}, {"1GiB", 1 << 30},
		{"2TiB", 2 << 40}, {"1KB", 1000}, {"5MB", 5e6}, {"1GB", 1e9}, {"3TB", 3e12},
		{"9223372036854775807", math.MaxInt64}, {"9223372036854775807B", math.MaxInt64},
		{"8388607TiB", 8388607 << 40}, {"8589934591GiB", 8589934591 << 30},
	} {
		got, err := yamlconf.ParseSize(tt.give)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.give, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		give string
		want error
	}{
		// One past the largest value of each unit, and far past it: these
		// used to wrap around (20000000000GiB to about 2.6 EiB).
		{"9223372036854775808", yamlconf.ErrSizeTooLarge},
		{"9223372036854775808B", yamlconf.ErrSizeTooLarge},
		{"9007199254740992KiB", yamlconf.ErrSizeTooLarge},
		{"8796093022208MiB", yamlconf.ErrSizeTooLarge},
		{"8589934592GiB", yamlconf.ErrSizeTooLarge},
		{"20000000000GiB", yamlconf.ErrSizeTooLarge},
		{"17179869185GiB", yamlconf.ErrSizeTooLarge},
		{"8388608TiB", yamlconf.ErrSizeTooLarge},
		{"9223372036854776KB", yamlconf.ErrSizeTooLarge},
		{"9223372036855MB", yamlconf.ErrSizeTooLarge},
		{"9223372037GB", yamlconf.ErrSizeTooLarge},
		{"9223373TB", yamlconf.ErrSizeTooLarge},
		{"99999999999999999999999GiB", yamlconf.ErrSizeTooLarge},
		{"-1", yamlconf.ErrSizeNegative},
		{"-1KiB", yamlconf.ErrSizeNegative},
		{"-9223372036854775808", yamlconf.ErrSizeNegative},
		{"", yamlconf.ErrSizeSyntax}, {"MiB", yamlconf.ErrSizeSyntax}, {"1.5MiB", yamlconf.ErrSizeSyntax},
		{"1PiB", yamlconf.ErrSizeSyntax}, {"+1", yamlconf.ErrSizeSyntax}, {"1e6", yamlconf.ErrSizeSyntax},
		{"0x10", yamlconf.ErrSizeSyntax}, {"1_000", yamlconf.ErrSizeSyntax}, {"1 mib", yamlconf.ErrSizeSyntax},
	} {
		if got, err := yamlconf.ParseSize(tt.give); !errors.Is(err, tt.want) {
			t.Errorf("ParseSize(%q) = %d, %v; want %v", tt.give, got, err, tt.want)
		}
	}
}

// TestSizeOverflowNamesField: an overflowing or negative size in a file is
// an error at its line and key, never a wrapped-around limit.
func TestSizeOverflowNamesField(t *testing.T) {
	for _, v := range []string{"20000000000GiB", "9223372036854775808", "9007199254740992KiB", "-5MiB"} {
		_, err := load(t, "routes:\n  - name: a\n    limits:\n      max_body: "+v+"\n")
		if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:4: routes[0].limits.max_body: ") {
			t.Errorf("%s: %v", v, err)
		}
	}
}

func TestSizeString(t *testing.T) {
	for _, tt := range []struct {
		give yamlconf.Size
		want string
	}{{0, "0"}, {1000, "1000"}, {1 << 10, "1KiB"}, {3 << 20, "3MiB"}, {1 << 30, "1GiB"}, {5 << 40, "5TiB"}, {1<<20 + 1, "1048577"}} {
		if got := tt.give.String(); got != tt.want {
			t.Errorf("%d.String() = %q; want %q", int64(tt.give), got, tt.want)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"64MiB", "20000000000GiB", "-1", "9223372036854775807", " 1 KB", "1B", "0TiB", "MiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := yamlconf.ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d: negative", s, n)
		}
		// What String prints parses back to the same size.
		if back, err := yamlconf.ParseSize(n.String()); err != nil || back != n {
			t.Fatalf("ParseSize(%q) = %d; String %q parses to %d, %v", s, n, n.String(), back, err)
		}
	})
}

// FuzzDecode: loading never panics, every error has the file and a line,
// and errors come sorted by line.
func FuzzDecode(f *testing.F) {
	f.Add("listen: a:1\nroutes:\n  - name: a\n    limits: {max_body: 20000000000GiB, timeout: x}\n    bogus: 1\n")
	f.Add("a: &a [*a, *a]\nb: &b [*a, *a, *a]\nhosts: [*b, *b]\n")
	f.Add("routes: [\n")
	f.Add("listen: a\n---\nlisten: b\n")
	f.Add("limits: {<<: [{conns: 1}, {timeout: 1s}], conns: 2}\n")
	f.Add("\x00\xff: 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		_, err := load(t, text)
		prev := 0
		for _, e := range yamlconf.Flatten(err) {
			if e.File != "c.yaml" || e.Line < 1 {
				t.Fatalf("error without file or line: %#v", e)
			}
			if e.Line < prev {
				t.Fatalf("errors out of order: %v", err)
			}
			prev = e.Line
		}
	})
}

// TestDecodeTextAndAny: a type with UnmarshalText (netip.Prefix) and an
// interface field decode as with yaml.v3; a bad value is an error at its key.
func TestDecodeTextAndAny(t *testing.T) {
	var v struct {
		Net   netip.Prefix   `yaml:"net"`
		Extra map[string]any `yaml:"extra"`
	}
	doc, err := yamlconf.Parse("c.yaml", []byte("net: 10.1.0.0/16\nextra: {a: [1, x], b: null}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if errs := doc.Decode(&v); errs != nil || v.Net.Bits() != 16 || len(v.Extra) != 2 {
		t.Fatalf("%+v %v", v, errs)
	}
	doc, _ = yamlconf.Parse("c.yaml", []byte("extra: {}\nnet: 10.1.0.0/99\n"))
	if errs := doc.Decode(&v); len(errs) != 1 || errs[0].Line != 2 || errs[0].Path != "net" {
		t.Errorf("bad prefix: %v", errs)
	}
}
