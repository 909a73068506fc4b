package redactor_test

import (
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// Red-team: credential shapes no rule covered (rules in
// patterns/rules/redteam.yaml). All values are generated fakes.
func TestRedteamMissingRuleClasses(t *testing.T) {
	cases := []struct{ in, secret string }{
		// Logic Apps HTTP action with Raw authentication.
		{`{"inputs":{"authentication":{"type":"Raw","value":"Bearer Gk3nX8vQ2wLm9tZr5yB1cH7d"}}}`, "Gk3nX8vQ2wLm9tZr5yB1cH7d"},
		// SAS signature whose parameter name is percent-encoded.
		{"GET https://acct.blob.core.windows.net/c/b?sp=r&%73ig=Np4xZ8qLk2mWv7tRb3yC9hJd5sFg%2B0aE%3D&sv=2022-11-02\n", "Np4xZ8qLk2mWv7tRb3yC9hJd5sFg"},
		{"https://acct.blob.core.windows.net/c/b?S%69G=Np4xZ8qLk2mWv7tRb3yC9hJd5sFg%2B0aE%3D\n", "Np4xZ8qLk2mWv7tRb3yC9hJd5sFg"},
	}
	r := def(t)
	for _, tc := range cases {
		for _, f := range []redactor.Format{redactor.FormatAuto, redactor.FormatText} {
			if out := redact(t, r, tc.in, f); strings.Contains(out, tc.secret) {
				t.Errorf("%s: secret leaked: %s", f, out)
			}
		}
	}
}
