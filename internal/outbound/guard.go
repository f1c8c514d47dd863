package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned for an endpoint whose address is not on the public
// internet: loopback, private, link-local (the cloud metadata service among them),
// carrier-grade NAT, multicast or unspecified.
var ErrForbiddenAddress = errors.New("outbound: the endpoint's address is not public")

// forbidden are the networks no delivery may reach.
var forbidden = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/3"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// public reports whether addr is on the public internet.
func public(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range forbidden {
		if p.Contains(addr) {
			return false
		}
	}
	return addr.IsValid()
}

// newClient returns the HTTP client deliveries are sent with: every connection's address
// is checked as it is dialled (after DNS, so a name that resolves somewhere private later
// is still refused), redirects are never followed, and an attempt ends after timeout.
// allowPrivate lifts the address check, for tests and development on loopback.
func newClient(allowPrivate bool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		addr, err := netip.ParseAddr(host)
		if err != nil || !public(addr) {
			return ErrForbiddenAddress
		}
		return nil
	}}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			// Connections to an endpoint are kept for the next delivery: a burst to one
			// integrator would otherwise open (and leave in TIME_WAIT) one per delivery.
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkURL refuses an endpoint URL that cannot be delivered to: not https (http only with
// allowPrivate), with credentials, or whose host resolves only to addresses that are not
// public. Deliveries check the address again each time they connect.
func checkURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "":
		return fmt.Errorf("url must be an absolute https URL without credentials or fragment")
	case u.Scheme != "https" && !(allowPrivate && u.Scheme == "http"):
		return fmt.Errorf("url must use https")
	case allowPrivate:
		return nil
	}
	host := strings.Trim(u.Hostname(), "[]")
	if addr, err := netip.ParseAddr(host); err == nil {
		if !public(addr) {
			return ErrForbiddenAddress
		}
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("url's host %q does not resolve", host)
	}
	for _, a := range addrs {
		if public(a) {
			return nil
		}
	}
	return ErrForbiddenAddress
}
