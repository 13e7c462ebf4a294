package workers

import "strings"

// workerProcs is the GOMAXPROCS a worker serves with: setting when
// positive, Go's default (0) when negative or when env sets GOMAXPROCS,
// else the usable CPUs shared out over the workers, rounded up.
//
// With one worker per core, each worker's Go runtime otherwise keeps a P
// per core: every goroutine a request starts (net/http's background read,
// wazero's per-call watcher) wakes an idle P on another thread, and on a
// VM a cross-thread wake-up costs more than the request's own work. The
// cores are already shared out by the processes.
func workerProcs(setting, cpus, workers int, env []string) int {
	if setting != 0 {
		return max(setting, 0)
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOMAXPROCS=") {
			return 0
		}
	}
	if workers < 1 {
		return 0
	}
	return max(1, (cpus+workers-1)/workers)
}
