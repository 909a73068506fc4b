package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditReopen: after the file is rotated away, Reopen starts a new one.
func TestAuditReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	a, err := NewLogger(path, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Log(&Record{Route: "one", Status: 200})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Reopen(); err != nil {
		t.Fatal(err)
	}
	a.Log(&Record{Route: "two", Status: 502, Reason: "upstream_error"})
	if err := a.Sync(); err != nil { // records are buffered up to a second
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(old), `"route":"one"`) || strings.Contains(string(old), `"two"`) {
		t.Errorf("rotated file: %s", old)
	}
	if !strings.Contains(string(cur), `"route":"two"`) || !strings.Contains(string(cur), `"reason":"upstream_error"`) {
		t.Errorf("new file: %s", cur)
	}
}
