package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The KV extension: a key-value store shared by every worker of an instance
// (and, with an external backend, by every instance of a fleet). Its host
// functions live in module ExtModule and are named KVPrefix + op. A plugin
// importing any of them is refused at load when the operator turned the
// store off (`kv.url = "off"`).
//
// Keys are arbitrary bytes, 1..KVMaxKey long (NUL and any other byte
// allowed). Values are 0..kv.max_value bytes (operator setting, 1 MiB by
// default). A revision is a positive number that changes on every write of
// a key; 0 means "absent" where a revision is expected. TTLs are in
// milliseconds; 0 means none, a negative TTL is StatusInvalid.
//
// Integers a function returns besides its status (a revision, a counter)
// are written as 8 bytes, little-endian, at a pointer the guest passes
// (rev_ptr, result_ptr), and only when the status is StatusOK. Every pointer
// and length must lie inside guest memory: a range outside it traps, like
// the http_handler functions. Everything else that can go wrong is a
// Status, explained by last_error:
//
//	StatusNotFound     kv_get: no such key
//	StatusConflict     kv_cas: the key's revision is not expected_rev (or, for 0, the key exists)
//	StatusTooLarge     a key over KVMaxKey, a value over kv.max_value
//	StatusInvalid      an empty key, a negative TTL
//	StatusNotNumber    kv_incr: the value is not a decimal int64 (or the sum overflows)
//	StatusUnavailable  the store is down
//	StatusTimeout      the request's deadline (or kv.timeout) passed
//	StatusFailed       anything else
//
// Consistency: every call goes to the store, except that within one request
// the host remembers what the request read and wrote (read-your-writes):
// a kv_get after a kv_set, kv_cas or kv_delete of the same key in the same
// request sees that write, and a kv_get retried with a bigger buffer is
// answered from the first call's value, without a second round trip and
// with the same revision. kv_incr and kv_cas are atomic in the store across
// all workers and instances.
//
// Raw use from WAT (the Go SDK is package abi/guest/kv):
//
//	(import "wasmcluster" "kv_get" (func $kv_get (param i32 i32 i32 i32 i32) (result i64)))
//	(import "wasmcluster" "kv_incr" (func $kv_incr (param i32 i32 i64 i64 i32) (result i32)))
//	;; key "hits" at 0; add 1 with no TTL, the new count lands at 16
//	(if (i32.eqz (call $kv_incr (i32.const 0) (i32.const 4) (i64.const 1) (i64.const 0) (i32.const 16)))
//	  (then (local.set $count (i64.load (i32.const 16))))
//	  (else ...))  ;; a Status: last_error says why
//	;; the value of "hits" into [64, 64+256), its revision at 24
//	(local.set $r (call $kv_get (i32.const 0) (i32.const 4) (i32.const 64) (i32.const 256) (i32.const 24)))
//	;; status = $r >> 32; len = (i32.wrap_i64 $r); len > 256: call again with a
//	;; buffer of len bytes (served from the first call's value, no second trip)

// KVMaxKey is the longest key, in bytes.
const KVMaxKey = 256

// KVKeysPageMax is the most keys one kv_keys call returns.
const KVKeysPageMax = 256

// FuncKVGet is `kv_get(key, key_len, buf, buf_limit, rev_ptr) -> StatusLen`.
//
// On StatusOK, len is the value's length; the value is written at buf when
// len <= buf_limit (the buffer rule), and its revision at rev_ptr either
// way. A retry with a bigger buffer in the same request is served from the
// value the first call fetched. A missing key is StatusNotFound with len 0.
const FuncKVGet = KVPrefix + "get"

// FuncKVSet is `kv_set(key, key_len, val, val_len, ttl_ms i64, rev_ptr) -> status i32`.
//
// It stores the value (ttl_ms > 0: the key expires after it) and writes the
// new revision at rev_ptr.
const FuncKVSet = KVPrefix + "set"

// FuncKVDelete is `kv_delete(key, key_len) -> status i32`. Deleting an
// absent key is StatusOK.
const FuncKVDelete = KVPrefix + "delete"

// FuncKVIncr is `kv_incr(key, key_len, delta i64, ttl_ms i64, result_ptr) -> status i32`.
//
// It adds delta to the decimal int64 stored at key (absent counts as 0),
// atomically across every client of the store, and writes the new value at
// result_ptr (8 bytes, little-endian, two's complement). ttl_ms applies
// only when this call creates the key, so a counter with a TTL is a fixed
// window. Not idempotent: a call that returned StatusUnavailable or
// StatusTimeout may or may not have been applied.
const FuncKVIncr = KVPrefix + "incr"

// FuncKVCAS is `kv_cas(key, key_len, val, val_len, expected_rev i64, ttl_ms i64, rev_ptr) -> status i32`.
//
// It stores the value only if the key's revision is still expected_rev
// (expected_rev 0: only if the key is absent), and writes the new revision
// at rev_ptr; otherwise StatusConflict.
const FuncKVCAS = KVPrefix + "cas"

// FuncKVKeys is `kv_keys(prefix, prefix_len, after, after_len, buf, buf_limit) -> KeysResult`.
//
// It lists, in byte order, up to KVKeysPageMax keys that start with prefix
// and sort after `after` (after_len 0: from the first key), encoded as a
// KeyList, under the buffer rule: the page is written at buf only when its
// encoded length fits buf_limit. A retry with a bigger buffer in the same
// request is served from the page the first call fetched. The next page
// starts after the last key of this one.
const FuncKVKeys = KVPrefix + "keys"

// KeysResult is the result of kv_keys.
//
//	bit  63      more    1 when keys remain past this page
//	bits 62..32  status  a Status; 0 on success
//	bits 31..0   len     the encoded page's length in bytes (a KeyList)
//
// With more clear it reads as a StatusLen.
//
//	NewKeysResult(StatusOK, false, 0)          == 0          // no keys
//	NewKeysResult(StatusOK, false, 7)          == 7          // "a", "bc" (see KeyList)
//	NewKeysResult(StatusOK, true, 7)           == 1<<63 | 7  // and more after "bc"
//	NewKeysResult(StatusUnavailable, false, 0) == 4<<32
type KeysResult uint64

const keysMore = 1 << 63

// NewKeysResult packs a status, the more flag and a length. The status is
// kept to its 31 bits.
func NewKeysResult(s Status, more bool, length uint32) KeysResult {
	v := KeysResult(s&0x7fffffff)<<32 | KeysResult(length)
	if more {
		v |= keysMore
	}
	return v
}

// Status is the call's outcome (bits 62..32).
func (v KeysResult) Status() Status { return Status(v>>32) & 0x7fffffff }

// More reports whether keys remain past the page (bit 63).
func (v KeysResult) More() bool { return v&keysMore != 0 }

// Len is the encoded page's length (low 32 bits).
func (v KeysResult) Len() uint32 { return uint32(v) }

// A KeyList is kv_keys' page: each key as its length in 2 bytes,
// little-endian, followed by its bytes. Keys may contain NUL, so they are
// length-prefixed rather than NUL-terminated.
//
//	[]                    -> ""
//	["a"]                 -> 01 00 'a'
//	["a", "bc"]           -> 01 00 'a' 02 00 'b' 'c'   (7 bytes)
//	["x\x00y"]            -> 03 00 'x' 00 'y'
//
// AppendKeyList encodes, SplitKeyList decodes.
const keyLenSize = 2

// AppendKeyList appends the KeyList encoding of keys to dst. Keys longer
// than 65535 bytes cannot be encoded (KVMaxKey is far below): it panics.
func AppendKeyList(dst []byte, keys ...[]byte) []byte {
	for _, k := range keys {
		if len(k) > 0xffff {
			panic(fmt.Sprintf("abi: key of %d bytes cannot be encoded in a KeyList", len(k)))
		}
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(k)))
		dst = append(dst, k...)
	}
	return dst
}

// KeyListLen is the length of the KeyList encoding of keys.
func KeyListLen(keys [][]byte) int {
	n := 0
	for _, k := range keys {
		n += keyLenSize + len(k)
	}
	return n
}

// ErrBadKeyList is returned by SplitKeyList for a truncated encoding.
var ErrBadKeyList = errors.New("abi: truncated key list")

// SplitKeyList decodes a KeyList. The keys alias buf.
func SplitKeyList(buf []byte) ([][]byte, error) {
	var keys [][]byte
	for len(buf) > 0 {
		if len(buf) < keyLenSize {
			return keys, ErrBadKeyList
		}
		n := int(binary.LittleEndian.Uint16(buf))
		buf = buf[keyLenSize:]
		if n > len(buf) {
			return keys, ErrBadKeyList
		}
		keys = append(keys, buf[:n:n])
		buf = buf[n:]
	}
	return keys, nil
}

// PutInt64 writes v as the 8-byte little-endian integer kv_* functions
// write at rev_ptr and result_ptr.
func PutInt64(dst []byte, v int64) { binary.LittleEndian.PutUint64(dst, uint64(v)) }

// Int64 reads the 8-byte little-endian integer at the start of src.
func Int64(src []byte) int64 { return int64(binary.LittleEndian.Uint64(src)) }
