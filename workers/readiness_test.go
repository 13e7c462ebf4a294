package workers

import (
	"testing"
	"time"
)

func TestReadiness(t *testing.T) {
	now := time.Now()
	v1, v2 := Spec{Version: "v1"}, Spec{Version: "v2"}
	ready := func(id int, s Spec) *slot {
		return &slot{id: id, cur: &proc{id: id, spec: s, state: stateReady}}
	}
	starting := func(id int, s Spec) *slot {
		return &slot{id: id, cur: &proc{id: id, spec: s, state: stateStarting}}
	}
	for _, tc := range []struct {
		name     string
		slots    []*slot
		rolling  string
		rollFrom time.Duration // ago
		stopping bool
		want     bool
	}{
		{"all ready", []*slot{ready(1, v1), ready(2, v1), ready(3, v1), ready(4, v1)}, "", 0, false, true},
		{"half ready (one respawning)", []*slot{ready(1, v1), ready(2, v1), starting(3, v1), {id: 4}}, "", 0, false, true},
		{"under half", []*slot{ready(1, v1), starting(2, v1), starting(3, v1), {id: 4}}, "", 0, false, false},
		{"half on the current version", []*slot{ready(1, v2), ready(2, v2), ready(3, v1), ready(4, v1)}, "", 0, false, true},
		{"stale version", []*slot{ready(1, v2), ready(2, v2), ready(3, v2), ready(4, v1)}, "", 0, false, false},
		{"mid roll to v2", []*slot{ready(1, v2), ready(2, v2), ready(3, v2), ready(4, v1)}, "v2", time.Second, false, true},
		{"roll stuck", []*slot{ready(1, v2), ready(2, v2), ready(3, v1), ready(4, v1)}, "v2", time.Hour, false, false},
		{"stopping", []*slot{ready(1, v1), ready(2, v1), ready(3, v1), ready(4, v1)}, "", 0, true, false},
	} {
		pr := &Primary{opts: PrimaryOptions{}.withDefaults(), spec: v1, desired: 4, slots: tc.slots, stopping: tc.stopping}
		if tc.rolling != "" {
			pr.ops.rolling, pr.ops.target, pr.ops.rollFrom = true, tc.rolling, now.Add(-tc.rollFrom)
		}
		rd := pr.readiness(now)
		if rd.Ready != tc.want {
			t.Errorf("%s: ready %v (%s), want %v", tc.name, rd.Ready, rd.Reason, tc.want)
		}
		if !rd.Ready && rd.Reason == "" {
			t.Errorf("%s: not ready without a reason", tc.name)
		}
	}
}
