// Package solution reads Power Platform solution exports (.zip files): the
// cloud flows under Workflows/, and the environment variable definitions and
// values under environmentvariabledefinitions/.
//
// It only parses; it never contacts Dataverse or Key Vault. A Solution holds
// the raw bytes of each flow and the values of each environment variable, so
// callers must treat it as sensitive: never log a Value or DefaultValue.
//
// Layout read (see docs for `pac solution export`):
//
//	solution.xml, customizations.xml, [Content_Types].xml
//	Workflows/<Name>-<GUID>.json
//	environmentvariabledefinitions/<schemaname>/environmentvariabledefinition.xml
//	environmentvariabledefinitions/<schemaname>/environmentvariablevalues.json
//
// Functions here are safe for concurrent use; a Solution is plain data.
package solution
