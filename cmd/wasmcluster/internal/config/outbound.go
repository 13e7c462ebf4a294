package config

import (
	"errors"
	"strconv"
	"time"

	"github.com/wasmcluster/wasmcluster/outbound"
)

// OutboundConfig is the [outbound] section: what plugins may call over
// HTTP (package outbound), and the limits of each call.
type OutboundConfig struct {
	Allow           []string      `toml:"allow" help:"targets plugins may call over HTTP, as scheme://host[:port]: https://api.example.com, http://10.0.0.5:8080, https://*.example.com, http://127.0.0.1:* (any port), http://[::1]:8080, http://10.0.0.0/8; no port means the scheme's default; \"*\" allows everything (logged as a warning); empty denies all"`
	Timeout         time.Duration `toml:"timeout" help:"time limit for one outbound call, from open to the end of its response body (the plugin request's own deadline applies too)"`
	MaxResponseBody Size          `toml:"max_response_body" help:"largest outbound response body a plugin may read (e.g. 10MiB); reading past it fails the call"`
	MaxConcurrent   int           `toml:"max_concurrent" help:"outbound calls in flight per worker process; more wait for a free slot"`
}

// defaultOutbound is [outbound]'s defaults: nothing allowed.
func defaultOutbound() OutboundConfig {
	return OutboundConfig{Timeout: 10 * time.Second, MaxResponseBody: 10 << 20, MaxConcurrent: 256}
}

// validateOutbound checks [outbound]; a bad allow entry is reported with
// the entry itself.
func (c Config) validateOutbound(errs *fieldErrors) {
	o := c.Outbound
	for _, e := range o.Allow {
		if _, err := outbound.Parse([]string{e}); err != nil {
			var pe *outbound.ParseError
			msg := err.Error()
			if errors.As(err, &pe) {
				msg = pe.Msg
			}
			errs.bad("outbound.allow", e, "%s", msg)
		}
	}
	if o.Timeout <= 0 {
		errs.bad("outbound.timeout", formatDuration(o.Timeout), "must be positive")
	}
	if o.MaxResponseBody <= 0 {
		errs.bad("outbound.max_response_body", o.MaxResponseBody.String(), "must be a positive size (e.g. 10MiB)")
	}
	if n := o.MaxConcurrent; n <= 0 || n > 1<<16 {
		errs.bad("outbound.max_concurrent", strconv.Itoa(n), "must be 1..65536")
	}
}
