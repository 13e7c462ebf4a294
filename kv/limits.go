package kv

import (
	"fmt"
	"time"
)

const (
	// MaxKey is the longest key in bytes; keys are 1..MaxKey arbitrary bytes.
	MaxKey = 256
	// DefaultMaxValue is kv.max_value's default: the longest value in bytes.
	DefaultMaxValue = 1 << 20
	// MaxMaxValue bounds kv.max_value: a value travels in one NATS message
	// and one guest buffer.
	MaxMaxValue = 64 << 20
	// MaxPage is the most keys one Keys call returns; a larger limit is
	// lowered to it (more then says keys remain).
	MaxPage = 1000
)

// CheckKey returns ErrInvalid for an empty key and ErrTooLarge for one over
// MaxKey.
func CheckKey(key []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("%w: empty key", ErrInvalid)
	}
	if len(key) > MaxKey {
		return fmt.Errorf("%w: key of %d bytes is over %d", ErrTooLarge, len(key), MaxKey)
	}
	return nil
}

// CheckValue returns ErrTooLarge for a value over maxValue (kv.max_value).
func CheckValue(value []byte, maxValue int) error {
	if len(value) > maxValue {
		return fmt.Errorf("%w: value of %d bytes is over kv.max_value (%d)", ErrTooLarge, len(value), maxValue)
	}
	return nil
}

// CheckTTL returns ErrInvalid for a negative ttl.
func CheckTTL(ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("%w: negative ttl %v", ErrInvalid, ttl)
	}
	return nil
}

// CheckList validates a Keys call and returns the page size to use: limit
// lowered to MaxPage. A prefix or after longer than MaxKey is ErrTooLarge, a
// limit below 1 ErrInvalid.
func CheckList(prefix, after []byte, limit int) (int, error) {
	if len(prefix) > MaxKey || len(after) > MaxKey {
		return 0, fmt.Errorf("%w: prefix of %d or after of %d bytes is over %d", ErrTooLarge, len(prefix), len(after), MaxKey)
	}
	if limit < 1 {
		return 0, fmt.Errorf("%w: limit %d is below 1", ErrInvalid, limit)
	}
	return min(limit, MaxPage), nil
}

// AddInt64 adds delta to cur, failing with ErrNotNumber on overflow (the
// result would not be a decimal int64).
func AddInt64(cur, delta int64) (int64, error) {
	sum := cur + delta
	if (delta > 0 && sum < cur) || (delta < 0 && sum > cur) {
		return 0, fmt.Errorf("%w: %d + %d overflows int64", ErrNotNumber, cur, delta)
	}
	return sum, nil
}

// ParseInt parses a stored counter: the decimal form strconv.FormatInt
// writes (an optional '-', digits, no '+', no spaces). Anything else is
// ErrNotNumber, so every backend accepts the same values as Redis's INCRBY.
func ParseInt(b []byte) (int64, error) {
	bad := func() (int64, error) {
		q := b
		if len(q) > 32 {
			q = q[:32]
		}
		return 0, fmt.Errorf("%w: %q", ErrNotNumber, q)
	}
	neg, digits := false, b
	if len(digits) > 0 && digits[0] == '-' {
		neg, digits = true, digits[1:]
	}
	if len(digits) == 0 || len(digits) > 19 || (digits[0] == '0' && (len(digits) > 1 || neg)) {
		return bad()
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return bad()
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case !neg && u <= 1<<63-1:
		return int64(u), nil
	case neg && u <= 1<<63:
		return int64(-u), nil //nolint:gosec // -u wraps to MinInt64 exactly when u == 1<<63
	}
	return bad()
}
