// Package control is the control socket of a running wasmcluster instance:
// its wire types, the client that `wasmcluster status`, `top` and `reload`
// use, and the server transport the primary answers on.
//
// # Protocol
//
// A client connects to a unix socket, writes one JSON request line
// ({"cmd": "status", "args": …}) and reads one JSON answer line
// ({"ok": true, "result": …} or {"ok": false, "error": "…"}); then the
// connection closes. The commands are "status" (a [Status]) and "reload"
// (a [ReloadResult]); [QueryStatus] and [Reload] speak them.
//
// # Server
//
// [Open] binds the socket with mode 0600 inside a 0700 directory and never
// steals the socket of a live instance; [Server.Serve] accepts connections
// and runs the [Handler] registered for each command under a time bound;
// a failed accept (EMFILE, ENFILE, …) is retried with backoff, so the
// socket outlives a shortage of file descriptors.
// Of whatever is at the path, Open removes only a stale socket (one nobody
// answers on); a file, a directory or a live socket is an error, the rule
// --listen unix: follows too (internal/unixsock).
// The default socket is [DefaultPath]; an instance that finds it taken
// listens on control-<pid>.sock beside it, and [FindSockets] lists them all.
//
// The package uses the standard library only, so the CLI's client commands
// need nothing else.
package control
