package verify

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// CheckRecord compares a DNS record's values, as Route 53 returns them,
// with the Elastic IP's public address.
func CheckRecord(name, typ string, values []string, eip string) Result {
	const check = "dns.record"
	got := fmt.Sprintf("%s %s %s", name, typ, strings.Join(values, ","))
	if len(values) == 1 && values[0] == eip {
		return ok(check, "%s = EIP", got)
	}
	return fail(check, fmt.Sprintf("%s ≠ EIP %s", got, eip), "the record does not point at the Elastic IP; envctl apply repairs it")
}

// Resolver looks names up; *net.Resolver is one.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// NewResolver returns a resolver that asks the DNS server at addr (host or
// host:port, port 53 by default), or the system resolver when addr is "".
func NewResolver(addr string) (*net.Resolver, error) {
	if addr == "" {
		return net.DefaultResolver, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), "53")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("--resolver %q: expected HOST or HOST:PORT", addr)
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: 5 * time.Second}
			return d.DialContext(ctx, network, addr)
		},
	}, nil
}

// CheckResolve looks name up through r and requires exactly the addresses
// in want (of the same family: an A record's check ignores IPv6 answers).
// via names the resolver for the report.
func CheckResolve(ctx context.Context, r Resolver, via, name string, want []string) Result {
	const check = "dns.resolve"
	addrs, err := r.LookupHost(ctx, name)
	if err != nil {
		return fail(check, fmt.Sprintf("%s via %s", name, via), err.Error())
	}
	v4 := allIPv4(want)
	var got []string
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil && (ip.To4() != nil) == v4 {
			got = append(got, ip.String())
		}
	}
	slices.Sort(got)
	got = slices.Compact(got)
	exp := append([]string{}, want...)
	slices.Sort(exp)
	exp = slices.Compact(exp)
	value := fmt.Sprintf("%s → %s via %s", name, orNone(got), via)
	if slices.Equal(got, exp) {
		return ok(check, "%s", value)
	}
	return fail(check, value, "expected "+strings.Join(exp, ", "))
}

func allIPv4(ips []string) bool {
	for _, s := range ips {
		if ip := net.ParseIP(s); ip == nil || ip.To4() == nil {
			return false
		}
	}
	return true
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "(no address)"
	}
	return strings.Join(list, ", ")
}

// CheckInstance requires the instance to be running.
func CheckInstance(id, state string) Result {
	const check = "host.instance"
	if state == "running" {
		return ok(check, "%s running", id)
	}
	if state == "" {
		state = "in an unknown state"
	}
	return fail(check, id+" "+state, "the broker host is not running")
}

// CheckEIP requires the Elastic IP to be associated with the instance.
func CheckEIP(publicIP, associated, instanceID string) Result {
	const check = "host.eip"
	switch associated {
	case instanceID:
		return ok(check, "%s associated with %s", publicIP, instanceID)
	case "":
		return fail(check, publicIP+" not associated", "expected "+instanceID)
	}
	return fail(check, fmt.Sprintf("%s associated with %s", publicIP, associated), "expected "+instanceID)
}
