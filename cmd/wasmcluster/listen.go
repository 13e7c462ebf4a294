package main

import "net"

// listenerAddr spells ln's address the way --listen takes it, with the real
// port when :0 was asked for.
func listenerAddr(ln net.Listener) string {
	if ln.Addr().Network() == "unix" {
		return "unix:" + ln.Addr().String()
	}
	return ln.Addr().String()
}
