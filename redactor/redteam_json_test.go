package redactor_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// Red-team: a secret held in the value member of an object that sits under a
// sensitive key, as ARM deployment parameters and Logic Apps workflow
// parameters store it, got through: the keyname rule of the outer key was
// not carried into the object.
func TestRedteamParameterObjectUnderSensitiveKey(t *testing.T) {
	const pw = "Vq4rNw8xTz2mKb6s" // generated, fake
	cases := []string{
		`{"parameters":{"adminPassword":{"type":"SecureString","value":"` + pw + `"}}}`,
		`{"parameters":{"sqlAdminPassword":{"value":"` + pw + `"}}}`,
		`{"parameters":{"apiKey":{"type":"securestring","defaultValue":"` + pw + `"}}}`,
		`{"clientSecret":[{"value":"` + pw + `"}]}`,
		`{"definition":{"parameters":{"partnerToken":{"type":"SecureString","value":"` + pw + `","metadata":{"description":"x"}}}}}`,
	}
	r := def(t)
	for _, f := range []redactor.Format{redactor.FormatJSON, redactor.FormatNDJSON} {
		for _, in := range cases {
			out := redact(t, r, in, f)
			if strings.Contains(out, pw) {
				t.Errorf("%s: secret leaked: %s", f, out)
			}
			if !json.Valid([]byte(out)) {
				t.Errorf("%s: output is not JSON: %s", f, out)
			}
		}
	}
	// Clean shapes stay as they are: metadata, references and expressions.
	clean := []string{
		`{"parameters":{"adminPassword":{"type":"SecureString","metadata":{"description":"admin"}}}}`,
		`{"parameters":{"adminPassword":{"reference":{"keyVault":{"id":"/subscriptions/x/vaults/kv"},"secretName":"admin"}}}}`,
		`{"parameters":{"apiKey":{"value":"@parameters('apiKey')"}}}`,
		`{"settings":{"value":"not a secret"}}`,
	}
	for _, in := range clean {
		if out := redact(t, r, in, redactor.FormatJSON); out != in {
			t.Errorf("clean input changed:\n in  %s\n out %s", in, out)
		}
	}
}
