//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDirectorySymlinksAndSpecialFiles: symlinked files inside the root
// are followed, links out of it, dangling links and FIFOs are named on
// stderr, and scan exits 3 when something skipped could hold data; a
// symlink loop ends (issue 17.7).
func TestDirectorySymlinksAndSpecialFiles(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "logs")
	outside := filepath.Join(base, "elsewhere")
	os.MkdirAll(filepath.Join(root, "archive"), 0o755)
	os.MkdirAll(outside, 0o755)
	secret := []byte("password=" + password1 + "\n")
	os.WriteFile(filepath.Join(root, "archive", "2026-11.log"), secret, 0o644)
	os.WriteFile(filepath.Join(outside, "private.log"), secret, 0o644)
	os.Symlink(filepath.Join(root, "archive", "2026-11.log"), filepath.Join(root, "current.log"))
	os.Symlink(filepath.Join(outside, "private.log"), filepath.Join(root, "out.log"))
	os.Symlink(filepath.Join(root, "gone.log"), filepath.Join(root, "dangling.log"))
	os.Symlink(root, filepath.Join(root, "archive", "loop"))
	if err := syscall.Mkfifo(filepath.Join(root, "live.pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := cli(t, "", "scan", root)
	if !strings.Contains(res.stdout, "current.log:1:") || !strings.Contains(res.stdout, "2026-11.log:1:") {
		t.Errorf("symlinked file not scanned: %q", res.stdout)
	}
	if strings.Contains(res.stdout, "private.log") || strings.Contains(res.stdout, "out.log:") {
		t.Errorf("followed a link out of the root: %q", res.stdout)
	}
	for _, want := range []string{"out.log", "dangling.log", "live.pipe", "FIFO", "--follow-symlinks"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr does not name %q: %q", want, res.stderr)
		}
	}
	if res.code != exitIncomplete {
		t.Errorf("code %d, want %d (something that could hold data was skipped)", res.code, exitIncomplete)
	}
	res = cli(t, "", "scan", "--follow-symlinks", "--exclude", "*.pipe", root)
	if !strings.Contains(res.stdout, "out.log:1:") || res.code != exitFindings {
		t.Errorf("--follow-symlinks: code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
}
