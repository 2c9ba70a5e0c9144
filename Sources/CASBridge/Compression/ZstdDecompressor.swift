internal import CZstd
import Glibc
import Synchronization

/// Streaming zstd decompression: compressed chunks in, decompressed chunks out.
///
/// Used by one transfer at a time. Decompressors are pooled (`take()`, `recycle()`): a
/// decompression context keeps its window buffer (up to the frame's window, a few MiB), and
/// allocating and first touching a new one for every download costs more than decoding.
package final class ZstdDecompressor: @unchecked Sendable {
    /// The most idle decompressors kept for reuse.
    static let poolLimit = 16
    private static let pool = Mutex<[ZstdDecompressor]>([])

    private let context: OpaquePointer
    private let output: UnsafeMutableRawPointer
    private let outCapacity: Int
    /// Whether the input so far ends at a frame boundary.
    package private(set) var finished = true

    init() {
        context = ZSTD_createDCtx()
        outCapacity = ZSTD_DStreamOutSize()
        output = UnsafeMutableRawPointer.allocate(byteCount: outCapacity, alignment: 16)
    }

    deinit {
        ZSTD_freeDCtx(context)
        output.deallocate()
    }

    /// A decompressor at the start of a stream: an idle one from the pool, or a new one.
    package static func take() -> ZstdDecompressor {
        if let reused = pool.withLock({ $0.popLast() }) {
            ZSTD_DCtx_reset(reused.context, ZSTD_reset_session_only)
            reused.finished = true
            return reused
        }
        return ZstdDecompressor()
    }

    /// Returns the decompressor to the pool; the caller no longer uses it.
    package func recycle() {
        Self.pool.withLock { idle in
            if idle.count < Self.poolLimit { idle.append(self) }
        }
    }

    /// Decompresses `chunk`, passing every decompressed piece to `sink`.
    package func feed(_ chunk: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard chunk.count > 0 else { return }
        var inb = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
        while true {
            var outb = ZSTD_outBuffer(dst: output, size: outCapacity, pos: 0)
            let consumed = inb.pos
            let hint = ZSTD_decompressStream(context, &outb, &inb)
            if ZSTD_isError(hint) != 0 {
                throw CASError(.remote, "zstd: invalid compressed data: \(String(cString: ZSTD_getErrorName(hint)))")
            }
            // A call that moved nothing (after a frame ended exactly at a full output buffer)
            // says nothing about the frame: it only asks for the next frame's header.
            if hint == 0 {
                finished = true
            } else if inb.pos > consumed || outb.pos > 0 {
                finished = false
            }
            if outb.pos > 0 { try sink(UnsafeRawBufferPointer(start: output, count: outb.pos)) }
            // Done with this chunk once all input is consumed and the output was not full.
            if inb.pos == inb.size && outb.pos < outb.size { break }
        }
    }
}
