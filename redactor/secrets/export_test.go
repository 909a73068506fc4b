package secrets

// GetConcurrency exposes getConcurrency to the external tests.
const GetConcurrency = getConcurrency
