package workers

import (
	"time"

	"github.com/wasmcluster/wasmcluster/internal/digest"
)

// Hooks the roller calls into the operations side (sd_notify, metrics,
// readiness, recycling), kept here so roll.go changes by two lines.

// rollBegin runs when the roller starts a roll toward spec; the returned
// func runs when it ends, with its outcome ("ok", "aborted", ...).
func (pr *Primary) rollBegin(spec Spec) func(outcome string) {
	start := time.Now()
	pr.do(func() {
		pr.ops.rolling, pr.ops.rollFrom, pr.ops.target = true, start, spec.Version
	})
	pr.sd.reloading("rolling workers to version " + digest.ShortOrDash(spec.Version))
	return func(outcome string) {
		pr.rollObserved(outcome, time.Since(start))
		var line string
		pr.do(func() {
			pr.ops.rolling = false
			line = pr.readyLine()
		})
		if outcome != "ok" {
			line = "roll to " + digest.ShortOrDash(spec.Version) + ": " + outcome + "; " + line
		}
		pr.sd.reloadEnded(line)
	}
}
