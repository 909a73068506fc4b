package audit

import (
	"fmt"
	"strings"
)

// Severity ranks a finding. The zero value is invalid.
type Severity uint8

// Severities, lowest first.
const (
	Note Severity = iota + 1
	Warning
	Error
)

// String returns "note", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Note:
		return "note"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// ParseSeverity parses "note", "warning" or "error" (any case).
func ParseSeverity(s string) (Severity, error) {
	for _, v := range []Severity{Note, Warning, Error} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning or note)", s)
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Rule describes one audit check. IDs are stable: they appear in reports,
// SARIF and suppressions.
type Rule struct {
	// ID is the kebab-case rule ID, such as "hardcoded-secret".
	ID string
	// Severity is the rule's usual severity; a finding may be lower (an
	// http:// URL to localhost is a note).
	Severity Severity
	// Description says what the rule finds.
	Description string
	// Hint says how to fix a finding.
	Hint string
}

// Rule IDs.
const (
	RuleHardcodedSecret        = "hardcoded-secret"
	RuleKeyVaultNotSecured     = "keyvault-output-not-secured"
	RuleHTTPCredentials        = "http-credentials-not-secured"
	RuleSecuredOutputConsumed  = "secured-output-consumed-unsecured"
	RuleVariableHoldsSecret    = "variable-holds-secret"
	RuleTrackedPropertiesOnSec = "tracked-properties-secure-data"
	RuleInsecureHTTP           = "insecure-http-endpoint"
	RuleSigInURL               = "sig-in-url"
	RuleEnvSecretValue         = "env-secret-value-in-solution"
	RuleSecureParamDefault     = "securestring-default-value"
)

var rules = []Rule{
	{RuleHardcodedSecret, Error,
		"A secret (found by the redaction rules) is written into the definition, a parameter default or an environment variable value",
		"Move the value to a securestring parameter, a Key Vault secret or a Secret-type environment variable and reference it (@parameters('...'), @body('Get_secret')?['value'])"},
	{RuleKeyVaultNotSecured, Error,
		"A Key Vault \"Get secret\" action (or Dataverse RetrieveEnvironmentVariableSecretValue) without secure outputs: the secret is shown in run history and sent to Log Analytics",
		`Add "runtimeConfiguration": {"secureData": {"properties": ["inputs", "outputs"]}} to the action (flowmask audit --fix does this)`},
	{RuleHTTPCredentials, Warning,
		"An HTTP action or trigger sends credentials (credential headers, an authentication block or a secret reference) without secure inputs",
		`Add "runtimeConfiguration": {"secureData": {"properties": ["inputs"]}} to the action (flowmask audit --fix does this)`},
	{RuleSecuredOutputConsumed, Warning,
		"An action consumes a secret (a secured or secret-producing action's outputs, or a variable holding one) without securing its own run-history data",
		`Add "runtimeConfiguration": {"secureData": {"properties": ["inputs", "outputs"]}} (Compose, Parse JSON and Response take only "inputs"; flowmask audit --fix does this)`},
	{RuleVariableHoldsSecret, Error,
		"A variable is initialised, set or appended from a secret; variable actions cannot be secured, so the secret is shown in run history",
		"Use the secret directly where it is needed (in an action with secure inputs), or hold it in a Compose action with secure inputs, instead of a variable"},
	{RuleTrackedPropertiesOnSec, Error,
		"trackedProperties on an action with secureData, or trackedProperties that reference a secret: not allowed on secured actions, and they copy values to diagnostics",
		"Remove the trackedProperties, or track a non-secret value from an action that is not secured"},
	{RuleInsecureHTTP, Warning,
		"An HTTP action or trigger calls an http:// (plain text) endpoint",
		"Use https://"},
	{RuleSigInURL, Error,
		"A URL with a SAS signature (sig=) is written in plain text: anyone with the URL can call the workflow or read the resource",
		"Keep the URL (or its sig) in a securestring parameter or Key Vault and reference it; regenerate the exposed access key"},
	{RuleEnvSecretValue, Warning,
		"A Secret-type environment variable has a value (or default) stored in the solution export",
		"Remove the value from the export (environmentvariablevalues.json) and set it per environment through deployment settings"},
	{RuleSecureParamDefault, Error,
		"A securestring or secureobject parameter has a default value, which is stored in the definition in plain text",
		"Remove the defaultValue and pass the value at deployment (parameters file referencing Key Vault, or app settings)"},
}

// Rules returns the audit rules in report order. The slice is a copy.
func Rules() []Rule { return append([]Rule(nil), rules...) }

func ruleByID(id string) Rule {
	for _, r := range rules {
		if r.ID == id {
			return r
		}
	}
	panic("audit: unknown rule " + id)
}
