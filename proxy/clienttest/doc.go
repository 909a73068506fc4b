// Package clienttest holds integration tests that drive flowmask proxy with
// real vendor client libraries (the Azure Monitor Logs Ingestion client and
// go-elasticsearch's BulkIndexer).
//
// It is a separate Go module so that those client libraries, which the
// product never imports, stay out of the main module's go.mod and
// dependency graph. The tests use only the exported API of package proxy.
// Run them with `cd proxy/clienttest && go test ./...` (.ci/test does this
// for every tracked go.mod).
package clienttest
