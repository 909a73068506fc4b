package main

import (
	"fmt"

	"github.com/flowmask/flowmask/proxy"
)

// sizeValue is a pflag.Value for a size in bytes that takes the config
// file's units: 1048576, 512KiB, 64MiB, 1GiB (or KB, MB, GB). A size that
// does not fit is an error, never a wrapped-around number.
type sizeValue struct {
	n   *int
	max int64
}

func newSizeValue(n *int, def int) *sizeValue {
	*n = def
	return &sizeValue{n: n, max: int64(^uint(0) >> 1)}
}

func (s *sizeValue) String() string {
	if s.n == nil {
		return ""
	}
	return proxy.ByteSize(*s.n).String()
}

func (s *sizeValue) Set(v string) error {
	b, err := proxy.ParseByteSize(v)
	if err != nil {
		return err
	}
	if int64(b) > s.max {
		return fmt.Errorf("%s is too large (at most %d bytes)", v, s.max)
	}
	*s.n = int(b)
	return nil
}

func (s *sizeValue) Type() string { return "size" }
