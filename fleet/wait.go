package fleet

import (
	"fmt"
	"strings"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/digest"
)

// Progress is the fleet view judged against one version: who runs it,
// who will not (refused or went back from it) and who is still on the
// way (rolling, waiting for a roll slot, not there yet).
type Progress struct {
	Running  []Report
	Settling []Report // run it, still watched for a crash loop
	Failed   []Failure
	Behind   []Report
}

// Failure is an instance that will not run the version, and why.
type Failure struct {
	Report
	Why string
}

// Done reports whether every live instance runs the version or failed it,
// and there is at least one. With stable, an instance running it counts
// only once its crash-loop watch is over (Report.Settling).
func (p Progress) Done(stable bool) bool {
	return len(p.Behind) == 0 && (!stable || len(p.Settling) == 0) && len(p.Running)+len(p.Settling)+len(p.Failed) > 0
}

// Judge sorts reps against version (its SHA-256 hex, or a prefix of 7 hex
// digits or more). A refusal or revert counts when it happened at since
// or later (zero: any), so one of an earlier publish of the same bytes is
// not taken for this one's.
func Judge(reps []Report, version string, since time.Time) Progress {
	var p Progress
	is := func(f *Refusal) bool {
		return f != nil && len(version) >= 7 && strings.HasPrefix(f.Version, version) && !f.At.Before(since)
	}
	for _, r := range reps {
		runs := Runs([]Report{r}, version)
		switch {
		case runs && r.Settling:
			p.Settling = append(p.Settling, r)
		case runs:
			p.Running = append(p.Running, r)
		case is(r.LastRefused):
			p.Failed = append(p.Failed, Failure{r, "refused it: " + r.LastRefused.Error})
		case is(r.LastReverted):
			p.Failed = append(p.Failed, Failure{r, "went back from it: " + r.LastReverted.Error})
		default:
			p.Behind = append(p.Behind, r)
		}
	}
	return p
}

// Err is nil when every live instance runs the version (with stable,
// past its crash-loop watch); else it names each instance that does not
// and why (what it runs, or is waiting for).
func (p Progress) Err(version string, stable bool) error {
	n := len(p.Running) + len(p.Settling) + len(p.Failed) + len(p.Behind)
	if n == 0 {
		return fmt.Errorf("no live instance serves the source")
	}
	var why []string
	for _, f := range p.Failed {
		why = append(why, fmt.Sprintf("%s (%s) %s", f.ID, f.Listen, f.Why))
	}
	for _, r := range p.Behind {
		why = append(why, fmt.Sprintf("%s (%s) %s", r.ID, r.Listen, behind(r)))
	}
	if !stable && len(why) == 0 {
		return nil
	}
	settling := 0
	if stable {
		for _, r := range p.Settling {
			why = append(why, fmt.Sprintf("%s (%s) runs it, still watched for a crash loop (plugin.stable_after)", r.ID, r.Listen))
		}
		settling = len(p.Settling)
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d live instances do not run %s: %s", len(p.Failed)+len(p.Behind)+settling, n, digest.Short(version), strings.Join(why, "; "))
}

// behind says where an instance not yet on the version is.
func behind(r Report) string {
	switch {
	case r.Waiting != "":
		return "waits for a roll slot (publish --max-unavailable)"
	case r.Holding != "":
		return "is rolling to it (holds a roll slot), on " + digest.Short(r.Version) + " still"
	case r.WorkersReady == 0:
		return fmt.Sprintf("has no worker ready, on %s", digest.Short(r.Version))
	}
	return "runs " + digest.Short(r.Version)
}
