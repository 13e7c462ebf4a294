package config

import (
	"errors"
	"strconv"
	"strings"
)

// Size is a number of bytes. In config it is an integer or a string with an
// optional unit: B, KiB, MiB, GiB (powers of 1024) or KB, MB, GB (powers of
// 1000), case-insensitive, e.g. "64KiB", "10MiB", "1048576".
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	// Longest suffixes first so "KiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"b", 1},
}

var errSize = errors.New(`invalid size (want bytes or a number with a unit: B, KiB, MiB, GiB, KB, MB, GB)`)

// ParseSize parses "10MiB", "64 KiB", "1048576" or "-1".
func ParseSize(s string) (Size, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, errSize
	}
	if n > 0 && n > (1<<63-1)/mult || n < 0 && n < (-1<<63)/mult {
		return 0, errors.New("size out of range")
	}
	return Size(n * mult), nil
}

// String renders s with the largest binary unit that divides it exactly, so
// it parses back to the same value.
func (s Size) String() string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%u.mult == 0 {
			return strconv.FormatInt(int64(s)/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10)
}
