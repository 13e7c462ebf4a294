// Package embedded runs the default store's engine: a NATS server with
// JetStream inside the primary process (github.com/nats-io/nats-server/v2).
//
// Start keeps the data under Options.Dir (created 0700; an unwritable dir,
// or one another server holds through its LOCK file, is an error naming
// kv.dir), so it survives a restart of wasmcluster and
// every roll of the workers, and listens on 127.0.0.1 on a free port with a
// token generated at each start: nothing connects without it, and a token
// of an earlier run is useless. Workers get the URL and token through
// WorkerConfig and open a natskv store on it; a store in the same process
// (--workers 0) connects through InProcessConfig without a socket
// (Options.NoListen opens no port at all). The server installs no signal
// handlers and never exits the process; its log goes to the given
// slog.Logger, notices at Debug. Shutdown flushes and waits.
package embedded
