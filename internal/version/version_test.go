package version

import (
	"strings"
	"testing"
)

func TestStringCarriesStampedVersionAndCommit(t *testing.T) {
	oldV, oldC := Version, Commit
	t.Cleanup(func() { Version, Commit = oldV, oldC })
	Version, Commit = "v9.8.7", "0123456789abcdef0123456789abcdef01234567"
	got := String()
	for _, want := range []string{"landlord v9.8.7 ", "commit 0123456789abcdef0123456789abcdef01234567"} {
		if !strings.Contains(got, want) {
			t.Errorf("String() = %q, want it to contain %q", got, want)
		}
	}
}
