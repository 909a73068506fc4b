// Command flowmask removes secrets from logs, run-history exports and HTTP
// traffic before they reach run history, log sinks or SIEMs.
//
// Subcommands: redact, scan, rules, proxy, forward, audit, secrets, config,
// ca and version. Run `flowmask help` for the list, `flowmask CMD --help`
// for each.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Exit codes shared by every subcommand.
const (
	exitOK       = 0
	exitFindings = 1 // scan and audit: something was found
	exitUsage    = 2 // usage or I/O error
	// exitIncomplete: redact and scan did their work on every input they
	// could read, but something could not be read or was skipped though it
	// could hold data (named on stderr).
	exitIncomplete = 3
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(context.Background(), os.Args[1:], osStreams()))
}

// run executes the command line with the given standard streams,
// environment and signals and returns the process exit code. It never
// exits: main maps its result to the exit code, and tests call it to run a
// command in process.
func run(ctx context.Context, args []string, s streams) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(withStreams(ctx, s))
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(s.Err, "flowmask:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(s.Err, "flowmask:", err)
	return exitUsage
}
