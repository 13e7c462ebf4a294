package testkit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// asLibrary is the AssemblyScript guest library, which AssemblyScript
// plugins in the repository import by relative path.
const asLibrary = "abi/assemblyscript"

// npmInstalls holds one `npm ci` per package-lock.json content per test
// binary; its node_modules live in the run directory.
var npmInstalls memo[string]

// AssemblyScript builds the AssemblyScript plugin in dir (relative to the
// test's package directory, inside the repository) with its package.json's
// build script, which must write build/plugin.wasm. The build runs in a
// temp copy of dir placed as in the repository next to a copy of
// abi/assemblyscript, so neither node_modules nor the output lands in the
// source tree; node_modules comes from `npm ci` against dir's
// package-lock.json, run once per lock file per test binary. It needs npm
// (Require) and the npm registry or a warm npm cache.
func AssemblyScript(tb testing.TB, dir string) []byte {
	tb.Helper()
	npm := Require(tb, "npm")
	runDir := Dir(tb)
	root := ModuleRoot(tb)
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		tb.Fatalf("AssemblyScript: %s is not inside the repository %s", dir, root)
	}
	b, err := guests.get("asc\x00"+abs, func() ([]byte, error) {
		modules, err := npmInstall(npm, abs, runDir)
		if err != nil {
			return nil, err
		}
		return inTempDir(func(tmp string) ([]byte, error) {
			return ascBuild(npm, root, rel, modules, tmp)
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// npmInstall runs `npm ci` for dir's package.json and package-lock.json in
// the run directory and returns the node_modules directory.
func npmInstall(npm, dir, runDir string) (string, error) {
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "", fmt.Errorf("AssemblyScript plugin %s: %w (commit a package-lock.json)", dir, err)
	}
	sum := sha256.Sum256(lock)
	return npmInstalls.get(string(lock), func() (string, error) {
		inst := filepath.Join(runDir, "npm", hex.EncodeToString(sum[:8]))
		if err := os.MkdirAll(inst, 0o755); err != nil {
			return "", err
		}
		for _, f := range []string{"package.json", "package-lock.json"} {
			if err := copyFile(filepath.Join(dir, f), filepath.Join(inst, f)); err != nil {
				return "", err
			}
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = inst
		cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("npm ci for %s: %w\n%s", dir, err, msg)
		}
		return filepath.Join(inst, "node_modules"), nil
	})
}

// ascBuild copies the plugin at root/rel and the guest library into tmp,
// links node_modules and runs the package's build script.
func ascBuild(npm, root, rel, modules, tmp string) ([]byte, error) {
	for _, d := range []string{rel, asLibrary} {
		if err := copyTree(filepath.Join(root, d), filepath.Join(tmp, d)); err != nil {
			return nil, err
		}
	}
	work := filepath.Join(tmp, rel)
	if err := os.Symlink(modules, filepath.Join(work, "node_modules")); err != nil {
		return nil, err
	}
	cmd := exec.Command(npm, "run", "--silent", "build")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("npm run build in %s: %w\n%s", rel, err, msg)
	}
	return os.ReadFile(filepath.Join(work, "build", "plugin.wasm"))
}

// copyTree copies the regular files under src to dst, leaving out what a
// developer's own build left there (node_modules, build).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == "node_modules" || (d.Name() == "build" && path != src) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
