// Package audit holds flowmask's exchange records and their delivery: a
// [Record] is one audited exchange of the reverse proxy (counts, rule IDs, a
// redacted path; never a body, header value or secret), a [Logger] writes
// one buffered JSON line per record to stderr, stdout or a reopenable file
// ([Output]) and reports failed writes, and a [RedactingSyncer] runs the
// engine over every log line before it leaves the process.
package audit
