package audit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/audit"
)

// httpDef is a workflow with one HTTP action sending header name with a
// literal-free value.
func httpDef(name string) []byte {
	return []byte(`{"definition": {"contentVersion": "1.0.0.0", "triggers": {}, "actions": {
	  "Call": {"type": "Http", "inputs": {"method": "GET", "uri": "https://erp.example/api",
	    "headers": {"` + name + `": "@parameters('v')"}}}}}}`)
}

func credentialHeader(t *testing.T, r *redactor.Redactor, name string) bool {
	t.Helper()
	rep, err := audit.New(r).Audit(context.Background(), "w.json", httpDef(name), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Rule == audit.RuleHTTPCredentials && strings.Contains(f.Message, name) {
			return true
		}
	}
	return false
}

// TestHeaderNamesFromRules: the audit judges header names by the engine's
// key-name rules, the one list of credential names: a name added by a rules
// file counts, names that are not credentials do not.
func TestHeaderNamesFromRules(t *testing.T) {
	def, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"Authorization": true, "X-Api-Key": true, "Ocp-Apim-Subscription-Key": true, "x-functions-key": true,
		"Cookie": true, "X-Auth-Token": true, "Content-Type": false, "Accept": false, "X-Request-Id": false,
		"X-Tenant-Passcode": false,
	} {
		if got := credentialHeader(t, def, name); got != want {
			t.Errorf("header %q: credential %v; want %v", name, got, want)
		}
	}
	set, err := patterns.Default()
	if err != nil {
		t.Fatal(err)
	}
	extra, err := patterns.Parse("extra.yaml", []byte(`rules:
  - id: tenant-passcode
    description: Tenant passcode header
    kind: keyname
    names: [x_tenant_passcode]
    examples: ['{"x_tenant_passcode":"k7Qx2mZp9LwV4tRb"}']
    negative_examples: ['{"x_tenant":"k7Qx2mZp9LwV4tRb"}']
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Add(extra...); err != nil {
		t.Fatal(err)
	}
	custom, err := redactor.New(redactor.Config{Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	if !credentialHeader(t, custom, "X-Tenant-Passcode") {
		t.Error("a header named by an added key-name rule is not a credential header")
	}
}
