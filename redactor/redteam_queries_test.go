package redactor_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// Red-team: a Logic Apps HTTP action that calls a function or a SAS URL
// keeps the key in its queries object ({"queries":{"code":"..."}}), not in
// the URI, and the key got through: code= is only masked inside a URL.
func TestRedteamLogicAppsQueriesObject(t *testing.T) {
	const code = "Rb6tMq2xWn8vLk4zPc0yHd3s" // generated, fake
	const sig = "Te9wKx3mQv7nZb2rLc5yJh8d"  // generated, fake
	cases := []string{
		`{"inputs":{"method":"POST","uri":"https://orders-fn.azurewebsites.net/api/intake","queries":{"code":"` + code + `"}}}`,
		`{"actions":{"Call_fn":{"type":"Http","inputs":{"queries":{"name":"batch","Code":"` + code + `","sig":"` + sig + `"}}}}}`,
		`{"properties":{"inputs":{"body":"x"},"outputs":{}},"inputsLink":{"queries":{"code":"` + code + `"}}}`,
	}
	r := def(t)
	for _, in := range cases {
		for _, f := range []redactor.Format{redactor.FormatJSON} {
			out := redact(t, r, in, f)
			if strings.Contains(out, code) || strings.Contains(out, sig) {
				t.Errorf("%s: key leaked: %s", f, out)
			}
			if !json.Valid([]byte(out)) {
				t.Errorf("%s: output is not JSON: %s", f, out)
			}
		}
	}
	clean := []string{
		`{"inputs":{"queries":{"code":"@parameters('functionKey')","page":"2"}}}`,
		`{"inputs":{"queries":{"page":"2","filter":"status eq 'open'"}}}`,
		`{"error":{"code":"InvalidAuthenticationTokenTenant"}}`,
	}
	for _, in := range clean {
		if out := redact(t, r, in, redactor.FormatJSON); out != in {
			t.Errorf("clean input changed:\n in  %s\n out %s", in, out)
		}
	}
}

// The same shapes as NDJSON lines: a line with no keyword hit is never
// walked as JSON, and "queries"/"code" are no keywords of the prefilter.
func TestRedteamLogicAppsQueriesObjectNDJSON(t *testing.T) {
	const code = "Rb6tMq2xWn8vLk4zPc0yHd3s" // generated, fake
	in := `{"inputs":{"method":"POST","uri":"https://orders-fn.azurewebsites.net/api/intake","queries":{"code":"` + code + `"}}}` + "\n"
	if out := redact(t, def(t), in, redactor.FormatNDJSON); strings.Contains(out, code) {
		t.Errorf("key leaked: %s", out)
	}
}
