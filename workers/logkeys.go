package workers

// Log attribute keys, in one place so the primary's stream stays greppable.
const (
	keyWorker  = "worker" // slot id
	keyPID     = "pid"
	keyVersion = "version"
	keyErr     = "err"
	keyState   = "state"
	keyDelay   = "delay"
	keyReason  = "reason"
	keyAddr    = "addr"
	keyCount   = "workers"
	keyStream  = "stream"
)
