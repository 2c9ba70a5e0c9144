internal import CZstd
import Glibc

/// zstd compression of blobs on the wire (libzstd).
public enum Zstd {
    /// Blobs smaller than this are never compressed.
    public static let minimumSize: Int64 = 1024
    /// Compression is used only if it saves at least this fraction of the size.
    public static let minimumSaving = 0.10
    /// The compression level. Blobs are written once (by CI) and read by every build after;
    /// storing literals raw is what makes decoding fast (~1.2 GB/s on build outputs, against
    /// ~0.75 GB/s with Huffman-coded literals). With raw literals, level 3 decodes as fast as
    /// level 6 and compresses ~3.3 times faster (~250 MB/s against ~73 MB/s, which slowed the
    /// compiles of a cold build that uploads), for ~8 % more bytes.
    static let level: Int32 = 3
    /// `ZSTD_c_literalCompressionMode` (experimental in libzstd 1.5) set to `ZSTD_ps_disable`:
    /// literals are stored raw instead of Huffman-coded, the slowest step of decoding.
    static let literalCompressionMode = (parameter: ZSTD_c_experimentalParam5, disable: Int32(2))
    /// The window (log2 bytes) of compressed blobs: 1 MiB. A reader's decoder holds a buffer
    /// of the window's size per download in flight; at the size-derived default (up to 8 MiB
    /// for the largest outputs) those buffers cost readers more than the 3 % of size that a
    /// larger window saves on build outputs.
    static let windowLog: Int32 = 20

    /// Whether sending `compressed` bytes instead of `original` ones pays.
    public static func pays(original: Int64, compressed: Int64) -> Bool {
        Double(compressed) <= Double(original) * (1 - minimumSaving)
    }

    /// Compresses the `size` bytes of the file at `source` into a new file at `target`,
    /// streaming. Returns the compressed file's hash (digest and size), or nil (and removes
    /// `target`) as soon as it is clear that compression does not pay.
    public static func compressFile(_ source: String, size: Int64, to target: String) throws -> ContentHash? {
        let input = try FileSystem.open(source, O_RDONLY)
        defer { close(input) }
        let output = try FileSystem.open(target, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        var keep = false
        defer {
            close(output)
            if !keep { unlink(target) }
        }
        guard let context = ZSTD_createCCtx() else { throw CASError(.io, "zstd: cannot create a compression context") }
        defer { ZSTD_freeCCtx(context) }
        configure(context)
        ZSTD_CCtx_setPledgedSrcSize(context, UInt64(size))
        let limit = Int64(Double(size) * (1 - minimumSaving))
        let inCapacity = ZSTD_CStreamInSize()
        let outCapacity = ZSTD_CStreamOutSize()
        let inBuffer = UnsafeMutableRawPointer.allocate(byteCount: inCapacity, alignment: 16)
        let outBuffer = UnsafeMutableRawPointer.allocate(byteCount: outCapacity, alignment: 16)
        defer {
            inBuffer.deallocate()
            outBuffer.deallocate()
        }
        var written: Int64 = 0
        var consumed: Int64 = 0
        var hasher = SHA256()
        while true {
            var n = 0
            while true {
                n = Glibc.read(input, inBuffer, inCapacity)
                if n >= 0 || errno != EINTR { break }
            }
            if n < 0 { throw SystemError("read \(source)", errno: errno) }
            consumed += Int64(n)
            let last = n == 0
            var inb = ZSTD_inBuffer(src: inBuffer, size: n, pos: 0)
            while true {
                var outb = ZSTD_outBuffer(dst: outBuffer, size: outCapacity, pos: 0)
                let remaining = ZSTD_compressStream2(context, &outb, &inb, last ? ZSTD_e_end : ZSTD_e_continue)
                if ZSTD_isError(remaining) != 0 {
                    throw CASError(.io, "zstd: compressing \(source): \(String(cString: ZSTD_getErrorName(remaining)))")
                }
                if outb.pos > 0 {
                    let bytes = UnsafeRawBufferPointer(start: outBuffer, count: outb.pos)
                    try FileSystem.writeAll(output, bytes, path: target)
                    hasher.update(bytes)
                    written += Int64(outb.pos)
                    if written > limit { return nil }
                }
                if last ? remaining == 0 : inb.pos == inb.size { break }
            }
            if last { break }
        }
        guard consumed == size, pays(original: size, compressed: written) else { return nil }
        keep = true
        return ContentHash(digest: hasher.finalize(), size: written)
    }

    /// Compresses bytes in memory (small payloads only), with the same level and window as
    /// `compressFile`.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        configure(context)
        let n = out.withUnsafeMutableBytes { o in
            bytes.withUnsafeBytes { i in ZSTD_compress2(context, o.baseAddress, bound, i.baseAddress, i.count) }
        }
        precondition(ZSTD_isError(n) == 0, "zstd: compressing \(bytes.count) bytes failed")
        out.removeLast(bound - n)
        return out
    }

    private static func configure(_ context: OpaquePointer?) {
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, windowLog)
        ZSTD_CCtx_setParameter(context, literalCompressionMode.parameter, literalCompressionMode.disable)
    }

    /// Decompresses bytes in memory (small payloads only); nil if they are not valid zstd.
    public static func decompress(_ bytes: [UInt8]) -> [UInt8]? {
        let decompressor = ZstdDecompressor.take()
        defer { decompressor.recycle() }
        var out: [UInt8] = []
        do {
            try bytes.withUnsafeBytes { raw in
                try decompressor.feed(raw) { out.append(contentsOf: $0) }
            }
        } catch {
            return nil
        }
        return decompressor.finished ? out : nil
    }
}
