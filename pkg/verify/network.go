package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Override sends connections for Host:Port to Addr instead of the address
// DNS gives, as curl's --resolve does.
type Override struct {
	Host string
	Port string
	// Addr is IP:PORT.
	Addr string
}

// ParseResolve parses HOST:PORT:ADDR. ADDR is an IP address (IPv6 in
// brackets or bare), optionally with its own port: 127.0.0.1 sends
// HOST:PORT to 127.0.0.1:PORT, as curl does; 127.0.0.1:8443 sends it to
// 127.0.0.1:8443, which is how tests point a name at a server listening on
// a random port.
func ParseResolve(s string) (Override, error) {
	bad := func(why string) (Override, error) {
		return Override{}, fmt.Errorf("--resolve %q: %s (expected HOST:PORT:ADDR, such as broker.example.org:443:127.0.0.1)", s, why)
	}
	host, rest, ok := strings.Cut(s, ":")
	if !ok || host == "" {
		return bad("no host")
	}
	port, addr, ok := strings.Cut(rest, ":")
	if !ok || addr == "" {
		return bad("no address")
	}
	if !validPort(port) {
		return bad("port " + strconv.Quote(port) + " is not a number from 1 to 65535")
	}
	ip, addrPort := addr, port
	switch {
	case strings.HasPrefix(addr, "["):
		end := strings.Index(addr, "]")
		if end < 0 {
			return bad("unclosed [ in address")
		}
		ip = addr[1:end]
		if tail := addr[end+1:]; tail != "" {
			if !strings.HasPrefix(tail, ":") || !validPort(tail[1:]) {
				return bad("bad port after the address")
			}
			addrPort = tail[1:]
		}
	case strings.Count(addr, ":") == 1:
		ip, addrPort, _ = strings.Cut(addr, ":")
		if !validPort(addrPort) {
			return bad("bad port after the address")
		}
	}
	if net.ParseIP(ip) == nil {
		return bad(strconv.Quote(ip) + " is not an IP address")
	}
	return Override{Host: strings.ToLower(host), Port: port, Addr: net.JoinHostPort(ip, addrPort)}, nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 65536
}

// Network is how the checks reach the broker: address overrides, the
// trusted roots and a timeout per request.
type Network struct {
	Overrides []Override
	// Roots are the trusted root CAs; nil means the system's.
	Roots *x509.CertPool
	// Timeout bounds each connection and request; 0 means 10 s.
	Timeout time.Duration
}

func (n *Network) timeout() time.Duration {
	if n.Timeout > 0 {
		return n.Timeout
	}
	return 10 * time.Second
}

// target returns where a connection for hostport really goes.
func (n *Network) target(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	for _, o := range n.Overrides {
		if o.Host == strings.ToLower(host) && o.Port == port {
			return o.Addr
		}
	}
	return hostport
}

func (n *Network) dial(ctx context.Context, network, hostport string) (net.Conn, error) {
	d := net.Dialer{Timeout: n.timeout()}
	return d.DialContext(ctx, network, n.target(hostport))
}

// Client returns an HTTP client that honours the overrides and roots and
// ignores proxy settings: verify measures what the public sees.
func (n *Network) Client() *http.Client {
	return &http.Client{
		Timeout: n.timeout(),
		Transport: &http.Transport{
			DialContext:         n.dial,
			TLSClientConfig:     &tls.Config{RootCAs: n.Roots, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: n.timeout(),
			DisableKeepAlives:   true,
		},
	}
}

// FetchChain connects to hostport with TLS (SNI serverName) and returns
// the certificates the server presents, leaf first, without judging them:
// CheckCertificate does that, so an expired or misnamed certificate is
// still reported with its details.
func (n *Network) FetchChain(ctx context.Context, hostport, serverName string) ([]*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout())
	defer cancel()
	raw, err := n.dial(ctx, "tcp", hostport)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	// Verification happens in CheckCertificate, against the same roots.
	conn := tls.Client(raw, &tls.Config{ServerName: serverName, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec
	if err := conn.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	certs := conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, fmt.Errorf("the server presented no certificate")
	}
	return certs, nil
}

// maxDocument bounds what a discovery document or JWKS may weigh.
const maxDocument = 1 << 20

// getJSON fetches url and decodes its JSON body into v. It fails unless
// the answer is 200 with a JSON body.
func getJSON(ctx context.Context, c *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return err
	}
	if len(body) > maxDocument {
		return fmt.Errorf("body larger than %d bytes", maxDocument)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	return nil
}
