// Package systemd speaks the two small protocols wasmcluster needs to run as
// a systemd service: the sd_notify datagram protocol (READY=1, RELOADING=1,
// STOPPING=1, STATUS=…, WATCHDOG=1 over $NOTIFY_SOCKET) and the unit files
// `wasmcluster startup systemd` prints.
//
// It is written against the documented protocol (sd_notify(3),
// systemd.service(5), systemd.socket(5)) with the standard library only, so
// it needs neither libsystemd nor cgo, and every function is a no-op when the
// process was not started by systemd.
package systemd
