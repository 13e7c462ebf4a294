package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at link time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// versionString is the one-line answer to `wasmcluster version`.
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return formatVersion(version, bi)
}

// formatVersion renders "wasmcluster VERSION (commit C, modified, TIME) GO OS/ARCH".
// With no -ldflags version, a module version from `go install ...@vX` is used;
// VCS details appear when the binary was built in a checkout with -buildvcs.
func formatVersion(v string, bi *debug.BuildInfo) string {
	var details []string
	if bi != nil {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if rev := settings["vcs.revision"]; rev != "" {
			details = append(details, "commit "+rev[:min(12, len(rev))])
		}
		if settings["vcs.modified"] == "true" {
			details = append(details, "modified")
		}
		if t := settings["vcs.time"]; t != "" {
			details = append(details, t)
		}
	}
	s := "wasmcluster " + v
	if len(details) > 0 {
		s += " (" + strings.Join(details, ", ") + ")"
	}
	return fmt.Sprintf("%s %s %s/%s", s, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
