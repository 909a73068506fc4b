package redactor_test

import (
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// TestKeyVaultReferencesStay: an App Service / Functions Key Vault
// reference under a credential name says where the secret is, not what it
// is, and stays exactly as it is (issue 14, "classes of damage"); the
// exemption covers the whole value only.
func TestKeyVaultReferencesStay(t *testing.T) {
	r := newRedactor(t, redactor.Config{})
	const uri = "@Microsoft.KeyVault(SecretUri=https://kv-orders.vault.azure.net/secrets/db-password/)"
	const named = "@Microsoft.KeyVault(VaultName=kv-orders;SecretName=db-password)"
	for _, tc := range []struct {
		in     string
		format redactor.Format
	}{
		{`{"DB_PASSWORD":"` + uri + `"}`, redactor.FormatJSON},
		{`{"name":"DB_PASSWORD","value":"` + uri + `"}`, redactor.FormatJSON},
		{`{"appSettings":[{"name":"SqlPassword","value":"` + named + `","slotSetting":false}]}`, redactor.FormatJSON},
		{`{"clientSecret":"` + strings.ToLower(named) + `"}`, redactor.FormatJSON},
	} {
		out, _ := r.Append(nil, []byte(tc.in), tc.format)
		if string(out) != tc.in {
			t.Errorf("%s\n changed to %s", tc.in, out)
		}
	}
	for _, in := range []string{
		`{"DB_PASSWORD":"` + uri + `Xk29sLq8vWm2"}`,
		`{"name":"DB_PASSWORD","value":"` + named + `#Xk29sLq8vWm2"}`,
	} {
		out, _ := r.Append(nil, []byte(in), redactor.FormatJSON)
		if strings.Contains(string(out), "Xk29sLq8vWm2") {
			t.Errorf("%s: a value after a reference kept: %s", in, out)
		}
	}
}
