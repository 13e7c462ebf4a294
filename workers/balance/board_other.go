//go:build !linux

package balance

import (
	"errors"
	"os"
)

var errUnsupported = errors.New("balance table: needs Linux (memfd)")

// New has no shared table off Linux: workers accept unbalanced.
func New(int) (*Board, *os.File, error) { return nil, nil, errUnsupported }

// Open has no shared table off Linux.
func Open(*os.File) (*Board, error) { return nil, errUnsupported }
