package secrets

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// TestSecretName: names come from azsecrets.ID.Name; IDs without a name,
// including those on which the SDK's parser dereferences nil, give "".
func TestSecretName(t *testing.T) {
	for id, want := range map[string]string{
		"https://v.vault.azure.net/secrets/app-db-password":                                  "app-db-password",
		"https://v.vault.azure.net/secrets/app-db-password/0123456789abcdef0123456789abcdef": "app-db-password",
		"https://v.vault.azure.net/secrets/":                                                 "",
		"https://v.vault.azure.net/secrets":                                                  "",
		"https://v.vault.azure.net/":                                                         "",
		"https://v.vault.azure.net":                                                          "",
		"":                                                                                   "",
		"%zz":                                                                                "",
	} {
		id := azsecrets.ID(id)
		if got := secretName(&id); got != want {
			t.Errorf("secretName(%q) = %q; want %q", id, got, want)
		}
	}
}
