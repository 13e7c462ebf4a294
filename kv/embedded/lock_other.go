//go:build !unix

package embedded

import "os"

// lockDir is a no-op where flock is not available.
func lockDir(string) (*os.File, error) { return nil, nil }
