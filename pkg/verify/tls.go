package verify

import (
	"crypto/sha1" //nolint:gosec // AWS defines OIDC thumbprints as SHA-1.
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Default expiry thresholds in days (--warn-days, --fail-days).
const (
	DefaultWarnDays = 21
	DefaultFailDays = 7
)

// CheckCertificate verifies that the leaf of chain (as the server
// presented it, leaf first) is valid for name at now and chains to roots
// (nil means the system roots), using the other presented certificates as
// intermediates.
func CheckCertificate(chain []*x509.Certificate, name string, roots *x509.CertPool, now time.Time) Result {
	const check = "tls.certificate"
	if len(chain) == 0 {
		return fail(check, name+": no certificate presented", "")
	}
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter, CurrentTime: now})
	if err != nil {
		return fail(check, fmt.Sprintf("%s: certificate %s issued by %s", name, certName(leaf), dnName(leaf.Issuer)), certProblem(err, leaf, name, now))
	}
	root := chains[0][len(chains[0])-1]
	return ok(check, "%s: valid for the name, issued by %s, chains to %s", name, dnName(leaf.Issuer), certName(root))
}

// certProblem explains a verification error in the words an operator needs.
func certProblem(err error, leaf *x509.Certificate, name string, now time.Time) string {
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &host):
		names := leaf.DNSNames
		if len(names) == 0 {
			names = []string{"no DNS names"}
		}
		return fmt.Sprintf("not valid for %s (valid for %s)", name, strings.Join(names, ", "))
	case errors.As(err, &unknown):
		return "does not chain to a trusted root; for a private CA pass --ca-file"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		c := invalid.Cert
		if c == nil {
			c = leaf
		}
		if now.Before(c.NotBefore) {
			return fmt.Sprintf("%s is not valid before %s", certName(c), c.NotBefore.UTC().Format(time.RFC3339))
		}
		return fmt.Sprintf("%s expired on %s", certName(c), c.NotAfter.UTC().Format(time.RFC3339))
	}
	return err.Error()
}

// certName names a certificate by its subject, for messages.
func certName(c *x509.Certificate) string { return dnName(c.Subject) }

// dnName names a distinguished name by its common name and organisation.
func dnName(n pkix.Name) string {
	cn := n.CommonName
	var org string
	if len(n.Organization) > 0 {
		org = n.Organization[0]
	}
	switch {
	case cn != "" && org != "" && org != cn:
		return fmt.Sprintf("%q (%s)", cn, org)
	case cn != "":
		return fmt.Sprintf("%q", cn)
	case org != "":
		return fmt.Sprintf("%q", org)
	}
	return "(unnamed)"
}

// CheckExpiry reports the days until the first certificate of the
// presented chain expires (normally the leaf): warn below warnDays, fail
// below failDays, fail when expired. Days are whole days, rounded down.
func CheckExpiry(chain []*x509.Certificate, now time.Time, warnDays, failDays int) Result {
	const check = "tls.expiry"
	if len(chain) == 0 {
		return fail(check, "no certificate presented", "")
	}
	first := chain[0]
	for _, c := range chain[1:] {
		if c.NotAfter.Before(first.NotAfter) {
			first = c
		}
	}
	which := "certificate"
	if first != chain[0] {
		which = "intermediate " + certName(first)
	}
	until := first.NotAfter.Sub(now)
	date := first.NotAfter.UTC().Format("2006-01-02")
	if until <= 0 {
		ago := int(math.Floor(-until.Hours() / 24))
		return fail(check, fmt.Sprintf("%s expired %s ago (%s)", which, plural(ago, "day"), date), "renew the certificate on the host")
	}
	days := int(math.Floor(until.Hours() / 24))
	value := fmt.Sprintf("%s expires in %s (%s)", which, plural(days, "day"), date)
	switch {
	case days < failDays:
		return fail(check, value, fmt.Sprintf("fewer than %d days left; renew the certificate on the host", failDays))
	case days < warnDays:
		return Result{Name: check, Status: Warn, Value: value, Detail: fmt.Sprintf("fewer than %d days left; automatic renewal may be failing", warnDays)}
	}
	return ok(check, "%s", value)
}

func plural(n int, unit string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Thumbprint returns the certificate's OIDC thumbprint as IAM stores it:
// the lowercase hex SHA-1 of its DER encoding.
func Thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw) //nolint:gosec // AWS defines thumbprints as SHA-1.
	return hex.EncodeToString(sum[:])
}

// ThumbprintCertificate returns the certificate whose thumbprint AWS
// computes for an OIDC provider: the top certificate of the chain the
// server presents (the last one sent: the top intermediate CA, or the root
// when the server sends it). A server that sends only its leaf gives the
// leaf.
func ThumbprintCertificate(chain []*x509.Certificate) *x509.Certificate {
	if len(chain) == 0 {
		return nil
	}
	return chain[len(chain)-1]
}

// CheckThumbprint reports whether one of the provider's configured
// thumbprints matches the chain as AWS computes it (ThumbprintCertificate).
// It is skipped when none are configured: AWS then checks the certificate
// against its library of trusted CAs.
func CheckThumbprint(chain []*x509.Certificate, configured []string) Result {
	const check = "oidc.thumbprint"
	if len(configured) == 0 {
		return skipped(check, "no thumbprints configured; AWS checks the certificate against its trusted CAs")
	}
	top := ThumbprintCertificate(chain)
	if top == nil {
		return fail(check, "no certificate presented", "")
	}
	want := Thumbprint(top)
	for _, t := range configured {
		if strings.EqualFold(t, want) {
			return ok(check, "%s = SHA-1 of %s, the top certificate the server presents", want, certName(top))
		}
	}
	detail := fmt.Sprintf("none of the %s configured matches; set %s", plural(len(configured), "thumbprint"), want)
	for _, c := range chain[:len(chain)-1] {
		for _, t := range configured {
			if strings.EqualFold(t, Thumbprint(c)) {
				detail = fmt.Sprintf("%s is the SHA-1 of %s, not of the top certificate AWS uses; set %s", strings.ToLower(t), certName(c), want)
			}
		}
	}
	return fail(check, fmt.Sprintf("SHA-1 of %s is %s", certName(top), want), detail)
}
