//go:build !unix

package serve

// lockKVDir does nothing where flock is missing.
func lockKVDir(string) (func(), error) { return func() {}, nil }
