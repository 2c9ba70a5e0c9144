internal import CMalloc
import Glibc

/// How the helper's process allocates memory.
package enum ProcessMemory {
    /// Makes freed memory, up to buffers of 32 MiB, stay in the process for the next
    /// allocation instead of going back to the kernel.
    ///
    /// Downloads allocate and free buffers of hundreds of KiB to a few MiB (curl's receive
    /// buffers, zstd windows, gRPC messages). By default the C allocator maps each one anew
    /// from the kernel and unmaps it when freed, so every download pays a page fault per 4 KiB
    /// of buffer: on a virtual machine, where a fresh page may also cost the host a fault,
    /// that was a quarter of the helper's CPU time in a warm build from a remote. The helper
    /// lives for one go command, so the memory it keeps is returned when it exits.
    package static func reuseFreedMemory() {
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)
    }

    /// The process's peak resident memory so far, in KiB.
    package static func peakResidentKiB() -> Int {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss)
    }
}
