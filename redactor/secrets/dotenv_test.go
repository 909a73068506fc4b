package secrets_test

import (
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor/secrets"
)

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		give string
		want []secrets.DotenvVar
	}{
		{"A=1", []secrets.DotenvVar{{Name: "A", Value: "1", Line: 1}}},
		{"# c\n\n  export B = two  # note\n", []secrets.DotenvVar{{Name: "B", Value: "two", Line: 3}}},
		{"C=a#b", []secrets.DotenvVar{{Name: "C", Value: "a#b", Line: 1}}},
		{"D='x \\n $Y # z'", []secrets.DotenvVar{{Name: "D", Value: `x \n $Y # z`, Line: 1}}},
		{`E="x\ny\t\"q\" \\ \$"`, []secrets.DotenvVar{{Name: "E", Value: "x\ny\t\"q\" \\ $", Line: 1}}},
		{"F=\"l1\nl2\"\nG=g", []secrets.DotenvVar{{Name: "F", Value: "l1\nl2", Line: 1}, {Name: "G", Value: "g", Line: 3}}},
		{"H=`raw\\n`", []secrets.DotenvVar{{Name: "H", Value: `raw\n`, Line: 1}}},
		{"I=\r\nJ=j\r\n", []secrets.DotenvVar{{Name: "I", Value: "", Line: 1}, {Name: "J", Value: "j", Line: 2}}},
		{"\ufeffK=k", []secrets.DotenvVar{{Name: "K", Value: "k", Line: 1}}},
		{"exported=1", []secrets.DotenvVar{{Name: "exported", Value: "1", Line: 1}}},
		{`L="q" # c`, []secrets.DotenvVar{{Name: "L", Value: "q", Line: 1}}},
	}
	for _, tt := range tests {
		got, err := secrets.ParseDotenv([]byte(tt.give))
		if err != nil {
			t.Errorf("ParseDotenv(%q): %v", tt.give, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseDotenv(%q) = %+v; want %+v", tt.give, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseDotenv(%q)[%d] = %+v; want %+v", tt.give, i, got[i], tt.want[i])
			}
		}
	}
}

func TestParseDotenvErrors(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{"A=1\nsecret-token-without-equals", "2: expected NAME=value"},
		{"1A=x", "1: invalid variable name"},
		{"A=1\nB=\"unterminated-secret-value", "2: B: unterminated quoted value"},
		{"C='x' tail-secret-value", "1: unexpected text after the closing quote of C"},
	}
	for _, tt := range tests {
		_, err := secrets.ParseDotenv([]byte(tt.give))
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseDotenv(%q) = %v; want %q", tt.give, err, tt.want)
		}
	}
}

func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{"A=1", "export B='x'\n", "C=\"a\\nb\"\nD=`e`", "# c\nE=f # g", "F=\"x\ny\"", "G='"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vars, err := secrets.ParseDotenv([]byte(s))
		if err != nil {
			// Errors carry a line number and names, never a value: they
			// are at most one short line.
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		last := 0
		for _, v := range vars {
			if v.Name == "" || v.Line <= last {
				t.Errorf("bad var %+v after line %d", v, last)
			}
			last = v.Line
		}
	})
}
