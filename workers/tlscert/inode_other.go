//go:build !unix

package tlscert

import "io/fs"

func inode(fs.FileInfo) uint64 { return 0 }
