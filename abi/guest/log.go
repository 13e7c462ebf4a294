package guest

import (
	"github.com/wasmcluster/wasmcluster/abi"
)

// LogLevel is a log severity (see the abi package).
type LogLevel = abi.LogLevel

// Log levels, lowest first.
const (
	LevelDebug = abi.LogLevelDebug
	LevelInfo  = abi.LogLevelInfo
	LevelWarn  = abi.LogLevelWarn
	LevelError = abi.LogLevelError
)

// Log sends msg to the host's logger at level.
func Log(level LogLevel, msg string) { hostLog(int32(level), msg) }

// LogEnabled reports whether the host records messages at level; check it
// before building an expensive message.
func LogEnabled(level LogLevel) bool { return hostLogEnabled(int32(level)) != 0 }

// The SDK has no Logf: fmt and its dependencies add ~380 KB to a plugin.
// Use fmt.Sprintf with LogEnabled when the plugin already imports fmt.
