//go:build race

package preflight_test

// raceEnabled: wazero compiles a Go guest ~100x slower under the race
// detector, past any sensible preflight bound.
const raceEnabled = true
