// Package mitmca is the forward proxy's interception CA: [Init] writes a
// new CA to a directory (never overwriting one), [Load] reads it back
// (refusing goproxy's public built-in key), and a [CA] signs and caches a
// leaf certificate per intercepted host ([CA.TLSConfig], [CA.Fetch]).
package mitmca
