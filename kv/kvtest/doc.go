// Package kvtest is the one conformance suite every kv.Store backend
// passes: Run(t, open) runs it against the stores open returns (a new
// client of the same store on each call; the suite closes them). Subtests
// run in parallel, each under its own random key prefix, so one store
// serves the whole run. Only tests import it.
//
// What it checks is what a guest relies on: arbitrary-byte keys up to
// kv.MaxKey, the value limit, TTL expiry (Set, Incr keeping its expiry),
// Delete of an absent key, Incr exactly once under concurrency on two
// clients, ErrNotNumber, CompareAndSwap conflicts and no lost update under
// contention, read-your-writes, and Keys by prefix with paging. Waits for
// expiry poll with a generous bound; nothing asserts speed.
package kvtest
