// Package files is the file front end of flowmask's redact and scan
// commands: it turns command-line arguments into inputs (walking
// directories, following symlinks inside the given roots, naming whatever it
// skips), reads each input as it really comes (gzip, zstd, bzip2 or zip
// compression; UTF-8, UTF-16 or UTF-32 text with or without a byte order
// mark), hands the decoded text to the engine, writes redacted output back
// in the input's compression and encoding, places outputs below --out-dir
// without overwriting anything, and builds scan reports whose every string
// went through the engine's masking.
//
// Detection and masking stay in package redactor and charset decoding in
// redactor/charset; this package only frames bytes for them.
package files
