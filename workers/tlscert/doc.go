// Package tlscert is the serving certificates of a TLS listener: read and
// checked from PEM files, served by SNI, and replaced while serving.
//
// # Model
//
// A [Pair] names a certificate file (the leaf first, then its chain) and
// its private key file. [Read] reads every pair and checks it with
// [Parse]: both decode, the key matches the certificate, the leaf parses.
// The result is a list of [PEM] values, the exact bytes that were checked;
// they are what travels to worker processes (they are JSON), so every
// process serves the very pair the primary accepted, never a file read at
// another moment.
//
// A [Store] holds the parsed certificates behind an atomic pointer. Its
// tls.Config ([Store.ServerConfig]: TLS 1.2 at least, ALPN h2 and
// http/1.1) picks the certificate per handshake through GetCertificate:
// the first pair whose names match the client's SNI, else the first pair.
// [Store.Set] swaps the whole set; connections already open keep the
// certificate they shook hands with, the next handshake gets the new one.
//
// A [Watcher] watches the directories of the files (fsnotify, so a
// certbot symlink swap and a Kubernetes ..data rename are seen as well as
// a file written in place) with a stat poll as a safety net, debounces,
// and reads every pair again. A set whose bytes differ from the serving
// one is checked; a good set is handed to OnChange, a broken one to
// OnRefuse (once per content) and the serving set stays. [Watcher.Check]
// does the same at once (reload, SIGHUP).
package tlscert
