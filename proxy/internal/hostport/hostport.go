// Package hostport reads the "host:port" destinations and address prefixes
// of the forward proxy's allow, intercept and redact lists, the same way
// for the config check and for the proxy that serves them.
package hostport

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Normalize checks a "host:port" destination and returns it with the host
// lower-cased and IPv6 in brackets.
func Normalize(s string) (string, error) {
	h, p, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil || h == "" {
		return "", fmt.Errorf("want host:port, got %q", s)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: port must be 1-65535", s)
	}
	if strings.ContainsAny(h, "*/ ") {
		return "", fmt.Errorf("%q: want an exact host name or IP address", s)
	}
	return net.JoinHostPort(strings.ToLower(strings.TrimSuffix(h, ".")), strconv.Itoa(n)), nil
}

// ParseNetwork reads an allow_networks entry: a CIDR prefix or a bare IP.
func ParseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		ip = ip.WithZone("")
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("want a CIDR prefix (10.1.0.0/16) or an IP address, got %q", s)
}

// Set is the set of the valid destinations of list, normalized.
func Set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, hp := range list {
		if n, err := Normalize(hp); err == nil {
			m[n] = true
		}
	}
	return m
}
