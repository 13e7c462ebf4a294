package workers

import (
	"bufio"
	"io/fs"
	"math"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// UsableCPUs is the number of CPUs this process may use: the smallest of
// the scheduler affinity mask and the cgroup CPU quota (v2 cpu.max or v1
// cfs_quota_us/cfs_period_us, rounded up, over the cgroup and its parents),
// at least 1. Not the host's core count: in a container the two differ.
func UsableCPUs() int {
	n := affinityCPUs()
	if q, ok := cgroupCPULimit(os.DirFS("/")); ok && q < n {
		n = q
	}
	return max(n, 1)
}

func affinityCPUs() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil {
		if c := set.Count(); c > 0 {
			return c
		}
	}
	return max(1, numCPUFallback())
}

// numCPUFallback reads /proc/cpuinfo-free sources; runtime.NumCPU already
// honours affinity, so it is only a fallback.
func numCPUFallback() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return 1
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, found := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		if err1 != nil {
			continue
		}
		if !found {
			n++
			continue
		}
		if b, err := strconv.Atoi(hi); err == nil && b >= a {
			n += b - a + 1
		}
	}
	return n
}

// cgroupCPULimit returns ceil(quota/period) of the tightest CPU limit on
// this process's cgroup path, reading from fsys rooted at "/". ok is false
// when there is no limit.
func cgroupCPULimit(fsys fs.FS) (limit int, ok bool) {
	f, err := fsys.Open("proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	best := math.Inf(1)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls, p := parts[1], parts[2]
		switch {
		case parts[0] == "0" && ctrls == "": // v2 unified
			for dir := p; ; dir = path.Dir(dir) {
				if q, ok := readCPUMax(fsys, path.Join("sys/fs/cgroup", dir, "cpu.max")); ok && q < best {
					best = q
				}
				if dir == "/" || dir == "." || dir == "" {
					break
				}
			}
		case hasController(ctrls, "cpu"):
			for _, mount := range []string{"sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpu"} {
				for dir := p; ; dir = path.Dir(dir) {
					if q, ok := readCFSQuota(fsys, path.Join(mount, dir)); ok && q < best {
						best = q
					}
					if dir == "/" || dir == "." || dir == "" {
						break
					}
				}
			}
		}
	}
	if math.IsInf(best, 1) {
		return 0, false
	}
	return max(1, int(math.Ceil(best))), true
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// readCPUMax parses cgroup v2 "cpu.max": "max 100000" or "150000 100000".
func readCPUMax(fsys fs.FS, name string) (float64, bool) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(b))
	if len(fields) < 1 || fields[0] == "max" {
		return 0, false
	}
	quota, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || quota <= 0 {
		return 0, false
	}
	period := 100000.0
	if len(fields) > 1 {
		if p, err := strconv.ParseFloat(fields[1], 64); err == nil && p > 0 {
			period = p
		}
	}
	return quota / period, true
}

// readCFSQuota parses cgroup v1 cpu.cfs_quota_us (-1 = none) and period.
func readCFSQuota(fsys fs.FS, dir string) (float64, bool) {
	qb, err := fs.ReadFile(fsys, path.Join(dir, "cpu.cfs_quota_us"))
	if err != nil {
		return 0, false
	}
	quota, err := strconv.ParseFloat(strings.TrimSpace(string(qb)), 64)
	if err != nil || quota <= 0 {
		return 0, false
	}
	pb, err := fs.ReadFile(fsys, path.Join(dir, "cpu.cfs_period_us"))
	if err != nil {
		return 0, false
	}
	period, err := strconv.ParseFloat(strings.TrimSpace(string(pb)), 64)
	if err != nil || period <= 0 {
		return 0, false
	}
	return quota / period, true
}
