package files

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommonParent(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"/a/b", "/a/c"}, "/a"},
		{[]string{"/a/b/c", "/a/b"}, "/a/b"},
		{[]string{"/ab", "/a"}, "/"},
		{[]string{"/x"}, "/x"},
	} {
		if got := commonParent(c.in); got != c.want {
			t.Errorf("%v: %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPlaceRefuses: two inputs to one output, an existing output and the
// input itself are refused before anything is written; --force allows the
// last two.
func TestPlaceRefuses(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "app.log")
	os.WriteFile(in, []byte("x"), 0o644)
	if _, err := Place([]Input{{Path: in, Rel: "app.log"}, {Path: in + ".gz", Rel: "app.log.gz"}}, dir, true, true); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("collision: %v", err)
	}
	if _, err := Place([]Input{{Path: in, Rel: "app.log"}}, dir, false, false); err == nil || !strings.Contains(err.Error(), "overwrite the input") {
		t.Errorf("input: %v", err)
	}
	if _, err := Place([]Input{{Path: in, Rel: "app.log"}}, dir, false, true); err != nil {
		t.Errorf("--force: %v", err)
	}
}
