// Package unixsock holds the one rule for taking over the path of a unix
// socket to listen on, shared by the serving socket (--listen unix:PATH)
// and the control socket (--control PATH).
//
// Binding a unix socket needs its path to be free, so whatever is there
// must go first. Only a stale socket may: a socket file nobody accepts on,
// left behind by a process that died without unlinking it. Anything else
// at the path (a regular file, a directory, a FIFO, a symlink, a socket a
// live process answers on) is someone's data or someone's service, and is
// refused with an error that names the path, never deleted.
package unixsock
