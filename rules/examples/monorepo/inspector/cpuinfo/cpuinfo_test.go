package cpuinfo

import (
	"runtime"
	"testing"
)

func TestFeaturesOnAMD64(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86 features only")
	}
	found := false
	for _, f := range Features() {
		found = found || f == "sse2"
	}
	if !found {
		t.Fatal("every amd64 CPU has SSE2")
	}
}
