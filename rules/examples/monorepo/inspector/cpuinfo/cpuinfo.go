// Package cpuinfo reports CPU features through golang.org/x/sys/cpu.
package cpuinfo

import "golang.org/x/sys/cpu"

// Features lists a few x86 features the CPU has.
func Features() []string {
	var out []string
	for _, f := range []struct {
		name string
		has  bool
	}{{"sse2", cpu.X86.HasSSE2}, {"avx2", cpu.X86.HasAVX2}, {"aes", cpu.X86.HasAES}} {
		if f.has {
			out = append(out, f.name)
		}
	}
	return out
}
