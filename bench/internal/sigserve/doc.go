// Package sigserve serves one handler until SIGINT or SIGTERM: the shared
// main loop of the benchmark's comparison servers (native and refhost).
package sigserve
