// Package audit holds flowmask's exchange records and their delivery: a
// [Record] is one audited exchange of the reverse proxy (counts, rule IDs, a
// redacted path; never a body, header value or secret), a [Logger] writes
// one buffered JSON line per record to stderr, stdout or a reopenable file
// ([Output]) and reports failed writes, a [RedactingSyncer] runs the
// engine over every log line before it leaves the process, and a [Poster]
// delivers record lines to an HTTP log sink in batches framed for the
// sink's profile, with bounded, jittered retries that honour Retry-After
// and stop at shutdown (the Azure Monitor Logs Ingestion API through the
// azlogs client).
package audit
