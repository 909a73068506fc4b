package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// stdinName is the file name that means standard input, wherever a command
// takes a file to read.
const stdinName = "-"

// stdinGuard hands standard input to the one argument or flag that names it
// "-": a second reader would get nothing, so a second claim is an error
// rather than silently empty input.
type stdinGuard struct {
	r  io.Reader
	mu sync.Mutex
	by string
}

func (g *stdinGuard) claim(by string) (io.Reader, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.by != "" {
		return nil, fmt.Errorf("standard input (-) is named by both %s and %s; name it only once", g.by, by)
	}
	g.by = by
	return g.r, nil
}

type stdinKey struct{}

// withStdin returns ctx carrying r as the command's standard input.
func withStdin(ctx context.Context, r io.Reader) context.Context {
	return context.WithValue(ctx, stdinKey{}, &stdinGuard{r: r})
}

// stdinFrom returns ctx's standard input guard; without one (a command run
// outside the root command), a fresh guard on os.Stdin.
func stdinFrom(ctx context.Context) *stdinGuard {
	if ctx != nil {
		if g, ok := ctx.Value(stdinKey{}).(*stdinGuard); ok {
			return g
		}
	}
	return &stdinGuard{r: os.Stdin}
}

// openInput opens the file name for reading, or standard input for "-".
// Closing standard input's reader does nothing.
func openInput(ctx context.Context, name string) (io.ReadCloser, error) {
	if name != stdinName {
		return os.Open(name)
	}
	r, err := stdinFrom(ctx).claim("the argument -")
	if err != nil {
		return nil, err
	}
	return stdinReader{r}, nil
}

// stdinReader is standard input as an input file: closing it does nothing,
// and Stat answers for the file behind it, so input redirected from a file
// (`< big.ndjson`) is read as a regular file of known size.
type stdinReader struct{ io.Reader }

func (stdinReader) Close() error { return nil }

// Stat returns the FileInfo of the file behind standard input; a reader
// that is no file has none.
func (s stdinReader) Stat() (os.FileInfo, error) {
	if f, ok := s.Reader.(*os.File); ok {
		return f.Stat()
	}
	return nil, errors.New("standard input is not a file")
}

// readInput reads the whole file name, or standard input for "-"; by names
// the flag or argument in errors ("--rules").
func readInput(ctx context.Context, by, name string) ([]byte, error) {
	if name != stdinName {
		return os.ReadFile(name)
	}
	r, err := stdinFrom(ctx).claim(by)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// errStdinLongRunning refuses "-" where a long-running command re-reads the
// file (on reload or refresh), which standard input cannot do.
func errStdinLongRunning(flag string) error {
	return errors.New(flag + ": standard input (-) cannot be re-read on reload; give a file")
}

// stdinFlags are the flags that name a file to read, where "-" is standard
// input.
var stdinFlags = []string{"rules", "allowlist", "secrets-file", "secrets-dotenv", "config"}

// checkStdinOnce fails before anything is read when standard input is named
// more than once on the command line (arguments and file flags), so no
// command runs half-way and then stops.
func checkStdinOnce(cmd *cobra.Command, args []string) error {
	var by []string
	for _, a := range args {
		if a == stdinName {
			by = append(by, "the argument -")
		}
	}
	for _, name := range stdinFlags {
		f := cmd.Flags().Lookup(name)
		if f == nil || !f.Changed {
			continue
		}
		vals := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		}
		for _, v := range vals {
			if v == stdinName {
				by = append(by, "--"+name+" -")
			}
		}
	}
	if len(by) > 1 {
		return fmt.Errorf("standard input (-) is named %d times (%s); name it only once", len(by), strings.Join(by, ", "))
	}
	return nil
}

// refuseStdinConfig refuses "-" for the files a long-running command (proxy,
// forward) re-reads on reload and refresh.
func refuseStdinConfig(config string, sf *secretFlags) error {
	if config == stdinName {
		return errStdinLongRunning("--config")
	}
	return sf.refuseStdin()
}

// stdinArgs counts the arguments that name standard input ("-"). A second
// one fails when it claims standard input (see openInput).
func stdinArgs(args []string) int {
	n := 0
	for _, a := range args {
		if a == stdinName {
			n++
		}
	}
	return n
}
