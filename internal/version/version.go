// Package version holds the release version and commit stamped into the
// manager at build time (make image, make release):
//
//	-ldflags "-X github.com/landlord-dev/landlord/internal/version.Version=v0.1.0
//	          -X github.com/landlord-dev/landlord/internal/version.Commit=<sha>"
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release tag, "dev" for an unstamped build.
var Version = "dev"

// Commit is the git commit the binary was built from. Unstamped builds fall
// back to the commit the go command recorded, if any.
var Commit = ""

// String is what `manager --version` prints, e.g.
// "landlord v0.1.0 (commit 67cd2a5..., go1.26.8 linux/amd64)".
func String() string {
	return fmt.Sprintf("landlord %s (commit %s, %s %s/%s)", Version, commit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func commit() string {
	if Commit != "" {
		return Commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
