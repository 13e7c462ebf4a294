package main

import (
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// treeCPU counts the CPU of a process's descendants, not just its own: a
// shell that only waits, with two children that spin.
func TestTreeCPUCountsDescendants(t *testing.T) {
	cmd := exec.Command("sh", "-c", "(while :; do :; done) & (while :; do :; done) & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range descendants(cmd.Process.Pid) {
			exec.Command("kill", "-9", itoa(c)).Run()
		}
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var tree, own float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var err error
		if tree, err = treeCPU(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		ticks, err := procCPUTicks(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		own = float64(ticks) * 1e6 / clockTicks
		if tree >= own+100_000 { // the children's 0.1 s at least
			return
		}
	}
	t.Fatalf("tree CPU %.0f µs, the shell's own %.0f µs: the spinning children are not counted", tree, own)
}

func itoa(n int) string { return strconv.Itoa(n) }
