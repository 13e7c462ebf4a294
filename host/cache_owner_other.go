//go:build !unix

package host

import "io/fs"

// checkPrivate accepts everything where files have no owner uid and Go's
// mode bits do not say who may write (Windows ACLs): there, keeping the
// cache dir private is the operator's job; the records still bind each
// entry to its module.
func checkPrivate(string, fs.FileInfo, int) error { return nil }
