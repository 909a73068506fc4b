package redactor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// Red-team: a secret used as a JSON key was masked in the output, but every
// finding under that key reported it in Finding.Path ($.ghp_....password),
// so scan reports (text, JSON, SARIF) carried the secret.
func TestRedteamSecretKeyNotInFindingPath(t *testing.T) {
	const known = "Wm5tRq8zLc2vNb7x"                            // generated, fake
	const pat = "ghp_" + "Q7mZ2xV9cK4tR8wL1nB6yH3jD5fS0gP2aE4u" // generated, fake
	in := `{"` + pat + `":{"password":"Tb4nWq9xKm2zLr6v"},"` + known + `":{"apiKey":"Hc5vPz8qNm3xKt7w"},"ok":{"` + known + `-x":"y"}}`
	r := newRedactor(t, redactor.Config{Literals: []redactor.Literal{{Value: known}}})
	var paths []string
	_, err := r.Scan(context.Background(), strings.NewReader(in), redactor.FormatJSON, redactor.FormatAuto, func(f redactor.Finding) {
		paths = append(paths, f.Path)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 4 {
		t.Fatalf("want at least 4 findings, got %d: %q", len(paths), paths)
	}
	for _, p := range paths {
		if strings.Contains(p, pat) || strings.Contains(p, known) || strings.Contains(p, "ghp_Q7m") {
			t.Errorf("finding path holds the secret key: %s", p)
		}
	}
}
