// Package redactor finds secrets in logs, run-history exports and HTTP bodies
// and replaces them, keeping the data's structure intact.
//
// One engine serves every front end (the CLI, the reverse and forward proxies
// and the flow auditor):
//
//   - An Aho-Corasick automaton (cloudflare/ahocorasick) over an ASCII
//     lower-cased copy of the input decides, line by line, whether any rule
//     can match; on the lines where one can, a second automaton (coregx)
//     places the keywords, and only the rules of the keywords found run, on
//     windows around them or anchored at them.
//   - Keyname rules mask values stored under sensitive names (JSON keys, query
//     parameters, form fields, headers, name=value pairs, connection-string
//     segments).
//   - Known secret values (Config.Literals) are masked with their encoded
//     forms (base64 at every alignment, URL, JSON and hex escapes) by one
//     matcher over every value and form: an 8-byte window hash tested
//     against a blocked Bloom filter, which stays small and fast for tens
//     of thousands of values.
//   - A value a rule masks is masked wherever else it occurs in the same
//     window (a JSON document, an NDJSON batch, a text chunk), in its plain,
//     JSON- and URL-escaped forms, by the same matcher built per window.
//   - JSON is validated with valyala/fastjson and then walked at token level:
//     only string values change, everything else is copied byte for byte, a
//     string that holds JSON is redacted as JSON, and base64 Logic Apps
//     content ($content, inlinedContent) is decoded, redacted and re-encoded,
//     with contentSize and an md5 contentHash fixed to match.
//
// A Redactor is immutable after New and safe for concurrent use. Append
// redacts a buffer; NewWriter and Stream redact a stream in bounded memory;
// Scan reports Findings, which never hold secret bytes. NameRule,
// AppendValue and ScanValue serve front ends that hold a name and a value
// apart (attributes, headers, settings). Opt-in rule packs (pii) come from
// patterns.DefaultWith.
package redactor
