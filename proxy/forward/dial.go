package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LookupFunc resolves a host name to its addresses (the shape of
// net.Resolver.LookupNetIP with network "ip").
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// DialFunc opens a connection to addr, always an IP:port chosen by the
// destination policy.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// destError is a destination the policy refuses. Its message names the
// host and the class of address, never a path or a query.
type destError struct {
	code string // destination_not_allowed, destination_refused, resolve_failed
	msg  string
}

func (e *destError) Error() string { return e.msg }

// destPolicy decides which destinations may be dialled.
type destPolicy struct {
	allow    map[string]bool // normalised host:port; empty allows public addresses
	networks []netip.Prefix  // special addresses that may be dialled anyway
}

// addrAllowed is the address policy, applied to every resolved address of
// every destination (allow-listed names included) and again at dial time:
// an ordinary public address passes; a special one (loopback, private,
// metadata...) only when allow_networks holds it or the allow list names
// that very IP and port. It returns the class of a refused address.
func (p *destPolicy) addrAllowed(ip netip.Addr, port uint16) (string, bool) {
	c := addrClass(ip)
	if c == "" {
		return "", true
	}
	u := ip.WithZone("").Unmap()
	for _, n := range p.networks {
		if n.Contains(u) {
			return c, true
		}
	}
	if p.allow[netip.AddrPortFrom(u, port).String()] {
		return c, true
	}
	return c, false
}

// permitted is the allow-list check on the destination as the client named
// it.
func (p *destPolicy) permitted(hp string) bool { return len(p.allow) == 0 || p.allow[hp] }

// Special address ranges: refused unless the exact host:port is allowed.
var specialPrefixes = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("fc00::/7"), "private"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "reserved"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// Platform addresses outside the ranges above.
var platformAddrs = map[netip.Addr]string{
	netip.MustParseAddr("168.63.129.16"): "platform (Azure wire server)",
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// addrClass returns the class of a special address, "" for an ordinary
// public one. IPv4-mapped and NAT64 forms are judged by their IPv4 address.
func addrClass(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	if ip == netip.MustParseAddr("169.254.169.254") {
		return "metadata"
	}
	if c, ok := platformAddrs[ip]; ok {
		return c
	}
	for _, p := range specialPrefixes {
		if p.prefix.Contains(ip) {
			return p.class
		}
	}
	return ""
}

// resolve returns the addresses of host: itself for an IP literal, else
// the lookup's answer.
func (f *Forward) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(h); err == nil {
		return []netip.Addr{ip}, nil
	}
	lookup := f.Lookup
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	ips, err := lookup(ctx, h)
	if err != nil || len(ips) == 0 {
		return nil, &destError{code: "resolve_failed", msg: fmt.Sprintf("destination %s cannot be resolved", h)}
	}
	return ips, nil
}

// checkDest applies the policy to a destination "host:port": the allow
// list, then every resolved address. It returns the addresses to dial.
func (f *Forward) checkDest(ctx context.Context, hp string) ([]netip.Addr, uint16, error) {
	n, err := normHostPort(hp)
	if err != nil {
		return nil, 0, &destError{code: "bad_destination", msg: "the destination is not a valid host:port"}
	}
	if !f.policy.permitted(n) {
		return nil, 0, &destError{code: "destination_not_allowed", msg: fmt.Sprintf("destination %s is not in the allow list", n)}
	}
	host, ps, _ := net.SplitHostPort(n)
	port, _ := strconv.Atoi(ps)
	ips, err := f.resolve(ctx, host)
	if err != nil {
		return nil, 0, err
	}
	for _, ip := range ips {
		if c, ok := f.policy.addrAllowed(ip, uint16(port)); !ok {
			return nil, 0, &destError{code: "destination_refused", msg: fmt.Sprintf("destination %s resolves to a %s address; list the address in allow_networks to reach it", n, c)}
		}
	}
	return ips, uint16(port), nil
}

// dialDest is the only way flowmask forward opens a connection to a
// destination: the policy is checked on the resolved addresses, and those
// very addresses are dialled (never the name again), so DNS rebinding
// cannot slip past it. The default dialer checks the address once more
// as the socket connects.
func (f *Forward) dialDest(ctx context.Context, network, addr string) (net.Conn, error) {
	ips, port, err := f.checkDest(ctx, addr)
	if err != nil {
		return nil, err
	}
	dial := f.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, ControlContext: f.dialControl}
		dial = d.DialContext
	}
	var errs []error
	for _, ip := range ips {
		c, err := dial(ctx, network, netip.AddrPortFrom(ip.WithZone(""), port).String())
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("dial %s: %w", addr, errors.Join(errs...))
}

// dialControl runs as the socket connects: the address actually dialled
// must pass the address policy, whatever path led to it.
func (f *Forward) dialControl(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &destError{code: "destination_refused", msg: "the dialled address is not an IP address"}
	}
	if c, ok := f.policy.addrAllowed(ap.Addr(), ap.Port()); !ok {
		return &destError{code: "destination_refused", msg: fmt.Sprintf("the dialled address is a %s address", c)}
	}
	return nil
}
