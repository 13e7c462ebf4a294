package workers

import "testing"

func TestWorkerProcs(t *testing.T) {
	for _, c := range []struct {
		setting, cpus, workers int
		env                    []string
		want                   int
	}{
		{0, 2, 2, nil, 1}, // one worker per core
		{0, 8, 3, nil, 3}, // shared out, rounded up
		{0, 2, 1, nil, 2}, // one worker: every core
		{0, 2, 5, nil, 1}, // more workers than cores
		{0, 4, 2, []string{"PATH=/bin", "GOMAXPROCS=3"}, 0}, // the operator's value wins
		{-1, 2, 2, nil, 0},                     // Go's default
		{4, 2, 2, []string{"GOMAXPROCS=3"}, 4}, // explicit setting
	} {
		if got := workerProcs(c.setting, c.cpus, c.workers, c.env); got != c.want {
			t.Errorf("workerProcs(%d, %d cpus, %d workers, %q) = %d, want %d", c.setting, c.cpus, c.workers, c.env, got, c.want)
		}
	}
}
