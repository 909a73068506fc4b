package main

import (
	"context"
	"io"
	"os"
	"os/signal"

	"go.uber.org/zap/zapcore"
)

// streams is what a command takes from its process: standard streams,
// environment variables and signals. main passes the process's own
// (osStreams); tests pass buffers, a map and their own signal source, so
// that a command runs in process, several at a time.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
	// LookupEnv and Environ read environment variables; nil means the
	// process's (os.LookupEnv, os.Environ).
	LookupEnv func(string) (string, bool)
	Environ   func() []string
	// Notify relays the signals sig to c until Stop(c), as signal.Notify
	// and signal.Stop do for the process; nil means no signal is ever
	// delivered.
	Notify func(c chan<- os.Signal, sig ...os.Signal)
	Stop   func(c chan<- os.Signal)
}

// osStreams are the process's standard streams, environment and signals.
func osStreams() streams {
	return streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		LookupEnv: os.LookupEnv, Environ: os.Environ,
		Notify: signal.Notify, Stop: signal.Stop,
	}
}

type streamsKey struct{}

// withStreams returns ctx carrying s for the commands run under it.
func withStreams(ctx context.Context, s streams) context.Context {
	return context.WithValue(ctx, streamsKey{}, s)
}

// streamsFrom returns the streams in ctx; without any (a command run
// outside run), the process's.
func streamsFrom(ctx context.Context) streams {
	if ctx != nil {
		if s, ok := ctx.Value(streamsKey{}).(streams); ok {
			return s
		}
	}
	return osStreams()
}

// lookupEnv reads the environment variable name.
func (s streams) lookupEnv(name string) (string, bool) {
	if s.LookupEnv == nil {
		return os.LookupEnv(name)
	}
	return s.LookupEnv(name)
}

// getenv is the value of the environment variable name, empty when unset.
func (s streams) getenv(name string) string {
	v, _ := s.lookupEnv(name)
	return v
}

// environ lists the environment as NAME=value entries.
func (s streams) environ() []string {
	if s.Environ == nil {
		return os.Environ()
	}
	return s.Environ()
}

// logOutput is the standard error as a zap sink, safe for concurrent
// writers.
func (s streams) logOutput() zapcore.WriteSyncer {
	return zapcore.Lock(zapcore.AddSync(s.Err))
}

// notifyContext is signal.NotifyContext on the signals of the streams in
// ctx: the returned context is done when one of sig arrives, or ctx is
// done, or stop is called.
func notifyContext(ctx context.Context, sig ...os.Signal) (context.Context, context.CancelFunc) {
	s := streamsFrom(ctx)
	ctx, cancel := context.WithCancel(ctx)
	if s.Notify == nil {
		return ctx, cancel
	}
	c := make(chan os.Signal, 1)
	s.Notify(c, sig...)
	go func() {
		select {
		case <-c:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		if s.Stop != nil {
			s.Stop(c)
		}
		cancel()
	}
}
