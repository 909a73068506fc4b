// Package secrets loads known secret values (from environment variables,
// files, Kubernetes secret mounts, dotenv files, Power Platform solution
// exports and Azure Key Vault) and keeps them fresh, so that every front end
// masks them as literals.
//
// A [Manager] is built from a [Config] with [New], loaded once with
// [Manager.Load] (which fails, naming the source, when a non-optional source
// cannot be read) and then kept current by [Manager.Run]: every Refresh
// (±10% jitter) all sources are re-read, and files are re-read as soon as
// they change on disk. Each change swaps the whole literal set atomically
// and calls the functions registered with [Manager.Subscribe]; front ends
// build a new Redactor with [redactor.Redactor.WithLiterals] and store it in
// an atomic pointer ([Manager.Track] does exactly that), so requests in
// flight finish with the old set and new ones get the new set.
//
// A value that disappears from its source (a rotated secret) stays masked
// for Config.Grace, since logs written before the rotation keep arriving. A
// failed refresh keeps the source's last good values; after MaxFailures
// failures in a row [Manager.Ready] reports an error.
//
// Values are held only in memory. Nothing this package logs, returns as an
// error, exports as a metric or reports in [Manager.Sources] contains a
// value: sources and secrets are named, values never.
//
// A Manager is safe for concurrent use.
package secrets
