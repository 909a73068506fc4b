package yamlconf

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Size is a number of bytes. In a config file it is a plain integer or a
// number with a unit: 512KiB, 64MiB, 1GiB, 2TiB (powers of 1024) or 500KB,
// 1MB, 1GB, 1TB (powers of 1000), or 10B. It is never negative, and a size
// that does not fit in 63 bits is an error, never a wrapped-around number.
type Size int64

// MaxSize is the largest Size, 2^63-1 bytes (8 EiB less one byte).
const MaxSize Size = math.MaxInt64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// Errors of ParseSize.
var (
	ErrSizeSyntax   = errors.New("want a size such as 1048576, 512KiB or 64MiB")
	ErrSizeNegative = errors.New("a size must not be negative")
	ErrSizeTooLarge = errors.New("size too large (at most 9223372036854775807 bytes, 8EiB)")
)

// ParseSize parses "64MiB", "512 KB" or "1048576". Digits only (no sign,
// fraction or exponent) before the optional unit.
func ParseSize(s string) (Size, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	if strings.HasPrefix(s, "-") && isDigits(s[1:]) {
		return 0, ErrSizeNegative
	}
	if !isDigits(s) {
		return 0, ErrSizeSyntax
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrSizeTooLarge // only digits: the error is ErrRange
	}
	if n > math.MaxInt64/mult {
		return 0, ErrSizeTooLarge
	}
	return Size(n * mult), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a size such as 1048576, 512KiB or 64MiB, got " + describe(n))
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// String formats s with the largest binary unit that divides it exactly.
func (s Size) String() string {
	for _, u := range []struct {
		shift  uint
		suffix string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if s != 0 && s%(1<<u.shift) == 0 {
			return strconv.FormatInt(int64(s>>u.shift), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// Set parses v into s, so that a *Size is a command-line flag (pflag.Value)
// with the same syntax as the config file.
func (s *Size) Set(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s = n
	return nil
}

// Type names the flag's value in help texts.
func (s *Size) Type() string { return "size" }
