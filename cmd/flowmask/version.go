package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Stamped at build time, e.g.
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)"
//
// Without -ldflags, the module version and VCS revision Go records in the
// binary (debug.ReadBuildInfo) are used.
var (
	version = "dev"
	commit  = ""
)

// buildInfo is what `flowmask version` and `flowmask --version` print.
type buildInfo struct {
	Version   string
	Commit    string // empty when unknown
	Modified  bool   // built from a work tree with uncommitted changes
	GoVersion string
	Platform  string
}

// readBuildInfo combines the -ldflags stamps with debug.ReadBuildInfo.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version // go install github.com/flowmask/flowmask/cmd/flowmask@v1.2.3
	}
	if bi.GoVersion != "" {
		b.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is one line: "flowmask v1.2.3 (commit 0123abc, go1.26.8 linux/amd64)".
func (b buildInfo) String() string {
	c := b.Commit
	if c == "" {
		c = "unknown"
	} else if len(c) > 12 {
		c = c[:12]
	}
	if b.Modified {
		c += "-dirty"
	}
	return fmt.Sprintf("flowmask %s (commit %s, %s %s)", b.Version, c, b.GoVersion, b.Platform)
}
