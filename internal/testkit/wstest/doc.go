// Package wstest holds the WebSocket helpers of tests: an echo upstream,
// a dial that fails the test, and a round trip that checks the echo. The
// tests of host, workers/httpserve and examples each need a WebSocket
// behind a proxy to show that an upgraded connection is relayed and holds
// no plugin instance; this is that upstream, written once.
//
// It is apart from testkit because it imports github.com/coder/websocket,
// and testkit stays stdlib-only so the tests of every layer can use it.
// Only tests import this package (deps_test.go checks that).
//
// The echo answers every message with the same message and type until the
// connection ends. httptest forgets a connection once it is hijacked, so
// neither Close nor CloseClientConnections ends an upgraded one: the
// client's close does, and Dial registers it with the test's cleanup.
package wstest
