package names

import "testing"

func TestCleanComposes(t *testing.T) {
	if got := Clean("  e\u0301 "); got != "\u00e9" {
		t.Fatalf("Clean = %q, want %q", got, "\u00e9")
	}
}
