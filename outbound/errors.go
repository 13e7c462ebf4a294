package outbound

import (
	"fmt"
	"net/netip"
	"net/url"

	"github.com/wasmcluster/wasmcluster/abi"
)

// DeniedError is a target the policy refuses. Its message names the target
// and outbound.allow, e.g. `http://127.0.0.1:3000 is not in outbound.allow`.
type DeniedError struct {
	URL    string // the target's origin (scheme://host:port)
	Reason string // why, after the URL
}

func (e *DeniedError) Error() string { return e.URL + " " + e.Reason }

// Status is abi.StatusDenied (the host reports it to the guest).
func (e *DeniedError) Status() abi.Status { return abi.StatusDenied }

// BadURLError is a URL that cannot be called at all (not http or https, no
// host, a bad port).
type BadURLError struct {
	URL string
	Msg string
}

func (e *BadURLError) Error() string { return fmt.Sprintf("bad URL %q: %s", e.URL, e.Msg) }

// Status is abi.StatusInvalid.
func (e *BadURLError) Status() abi.Status { return abi.StatusInvalid }

// TooManyRedirectsError ends a call bounced more than MaxRedirects times.
type TooManyRedirectsError struct{ URL string }

func (e *TooManyRedirectsError) Error() string {
	return fmt.Sprintf("%s: stopped after %d redirects", e.URL, MaxRedirects)
}

// Status is abi.StatusUnavailable.
func (e *TooManyRedirectsError) Status() abi.Status { return abi.StatusUnavailable }

func deniedAddr(u *url.URL, a netip.Addr) *DeniedError {
	return &DeniedError{URL: origin(u), Reason: fmt.Sprintf(
		"connects to %s, a link-local or unspecified address refused unless listed literally (IP or CIDR) in %s", a, Setting)}
}

// origin is scheme://host[:port] of u, what an allow-list entry names.
func origin(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}

// redact drops user info from u for messages.
func redact(u *url.URL) string { return u.Redacted() }
