package limits

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseCIDRs reads a comma-separated list of CIDR ranges (or single
// addresses) such as "10.0.0.0/16, 192.168.1.7".
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR range or an address", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR range or an address", f)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Clients says who sent a request: the peer's address, or, when the peer
// is one of the trusted proxies, the nearest address in X-Forwarded-For
// that is not a trusted proxy. IPv6 clients are keyed by their /64 (one
// host usually holds the whole prefix).
type Clients struct {
	Trusted []netip.Prefix
}

// ClientKey returns the client's key, e.g. "ip:203.0.113.7".
func (c *Clients) ClientKey(r *http.Request) string {
	return "ip:" + keyOf(c.Address(r))
}

// Address is the client's address as far as it can be trusted.
func (c *Clients) Address(r *http.Request) netip.Addr {
	peer := remoteAddr(r.RemoteAddr)
	if !c.trusted(peer) {
		return peer
	}
	// Walk X-Forwarded-For from the right (the hop nearest us): each
	// trusted proxy vouches for the address to its left.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return addr // garbage: trust no further than the last good hop
		}
		addr = a.Unmap()
		if !c.trusted(addr) {
			return addr
		}
	}
	return addr
}

func (c *Clients) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

func keyOf(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
