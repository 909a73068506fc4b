package secrets

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/solution"
	"go.uber.org/zap"
)

// secretLikeName matches schema and display names of Text variables that
// hold secrets.
var secretLikeName = regexp.MustCompile(`(?i)secret|passw(or)?d|key|token|credential|connection ?string`)

// keyVaultRef matches the value of a Secret-type variable that references a
// Key Vault secret instead of holding one.
var keyVaultRef = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.keyvault/vaults/[^/]+/secrets/[^/]+(/[^/]*)?$`)

// secretVar reports whether an environment variable holds a secret: a
// Secret-type variable, or a Text (or undefined) variable whose schema or
// display name looks secret.
func secretVar(v *solution.EnvVar) bool {
	switch v.Type {
	case solution.TypeSecret:
		return true
	case solution.TypeText, 0:
		return secretLikeName.MatchString(v.SchemaName) || secretLikeName.MatchString(v.DisplayName)
	}
	return false
}

// loadSolution loads a solution zip's secret variables, read with package
// solution: current values (environmentvariablevalues.json) and default
// values (<defaultvalue>). Each value's source is solution:ZIP:SCHEMANAME,
// or solution:ZIP:SCHEMANAME(default). A Secret-type value that is a Key
// Vault reference (/subscriptions/.../vaults/V/secrets/S) is not a secret
// and is skipped with an info log: load that vault as a keyvault source. A
// Secret-type value that is not a reference (a raw secret typed in) is
// loaded.
func (m *Manager) loadSolution(name string) ([]redactor.Literal, error) {
	sol, err := solution.Open(name)
	if err != nil {
		return nil, cleanSolutionError(name, err)
	}
	var lits []redactor.Literal
	add := func(v *solution.EnvVar, val, suffix string) {
		if val == "" {
			return
		}
		if v.Type == solution.TypeSecret && keyVaultRef.MatchString(strings.TrimSpace(val)) {
			m.logger.Info("solution secret variable is a Key Vault reference, not a value; add its vault as a keyvault source",
				zap.String("source", "solution:"+name), zap.String("variable", v.SchemaName))
			return
		}
		lits = append(lits, redactor.Literal{Source: "solution:" + name + ":" + v.SchemaName + suffix, Value: val})
	}
	for i := range sol.EnvVars {
		v := &sol.EnvVars[i]
		if !secretVar(v) {
			continue
		}
		if v.HasValue {
			add(v, v.Value, "")
		}
		if v.HasDefault && (!v.HasValue || v.DefaultValue != v.Value) {
			add(v, v.DefaultValue, "(default)")
		}
	}
	return lits, nil
}

// cleanSolutionError keeps syntax errors free of input bytes: an XML error
// can quote an entity name, a JSON error a character of a value.
func cleanSolutionError(name string, err error) error {
	var xe *xml.SyntaxError
	if errors.As(err, &xe) {
		return fmt.Errorf("%s: malformed environment variable definition (XML syntax error on line %d)", name, xe.Line)
	}
	var je *json.SyntaxError
	if errors.As(err, &je) {
		return fmt.Errorf("%s: malformed environment variable values (JSON syntax error at offset %d)", name, je.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: malformed environment variable values (JSON field %q: want %s)", name, te.Field, te.Type)
	}
	if strings.HasPrefix(err.Error(), name) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}
