// Package audit checks Logic Apps and Power Automate flow definitions, ARM
// templates and Power Platform solution exports for the way they handle
// secrets: hardcoded secrets (found by the redaction engine, so every
// detection rule and known secret applies), Key Vault and other secret
// outputs shown in run history, HTTP credentials without secure inputs,
// secrets flowing into unsecured actions and variables, tracked properties
// on secured actions, plain http:// endpoints, sig= URLs, Secret-type
// environment variable values in exports and securestring defaults.
//
// Expressions are references, not secrets: @parameters('x'),
// @body('Get_secret')?['value'] and the interpolations of
// "Bearer @{...}" are never reported, while literal text around them is
// scanned. Findings carry rule IDs, JSON paths and lengths, never secret
// values.
//
// With Options.Fix, Audit also returns a copy of the file with
// runtimeConfiguration.secureData added where that is the fix; the input
// is never modified.
//
// An Auditor is immutable and safe for concurrent use.
package audit
