// Command flowmask removes secrets from logs, run-history exports and HTTP
// traffic before they reach run history, log sinks or SIEMs.
//
// Subcommands: redact, scan, rules, proxy, forward, audit, secrets, config,
// ca and version. Run `flowmask help` for the list, `flowmask CMD --help`
// for each.
package main

import (
	"errors"
	"fmt"
	"io"
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
	os.Exit(run(os.Args[1:]))
}

// run executes the command line on the process's standard streams and
// returns the exit code.
func run(args []string) int {
	return runWith(args, os.Stdin, os.Stdout, os.Stderr)
}

// runWith executes the command line with the given standard streams and
// returns the process exit code. Tests call it to run a command in process.
func runWith(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "flowmask:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "flowmask:", err)
	return exitUsage
}
