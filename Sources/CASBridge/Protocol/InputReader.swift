import Glibc

/// A buffered reader of the go command's requests on a file descriptor.
package final class InputReader {
    private let fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEOF = false
    /// Called just before the reader blocks waiting for more input.
    package var willBlock: () -> Void = {}

    /// The longest request line accepted.
    package static let maxLineLength = 1 << 20

    /// Creates a reader over `fd`.
    package init(fd: Int32, capacity: Int = 1 << 18) {
        self.fd = fd
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Reads more input into the buffer; returns false at end of input.
    private func fill() throws(CASError) -> Bool {
        if atEOF { return false }
        if start > 0 {
            if end > start {
                buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        if end == buffer.count {
            guard buffer.count < InputReader.maxLineLength else {
                throw CASError(.malformedInput, "request line longer than \(InputReader.maxLineLength) bytes")
            }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
        }
        willBlock()
        while true {
            let n = read(fd, buffer.baseAddress! + end, buffer.count - end)
            if n > 0 {
                end += n
                return true
            }
            if n == 0 {
                atEOF = true
                return false
            }
            if errno != EINTR {
                throw CASError(.io, "reading requests from stdin failed", cause: SystemError("read", errno: errno))
            }
        }
    }

    /// Calls `body` with the next line (without its newline). Returns false at end of
    /// input. A final line without a newline is still delivered.
    package func nextLine<R>(_ body: (UnsafeRawBufferPointer) throws(CASError) -> R) throws(CASError) -> R? {
        var scanFrom = start
        while true {
            let available = UnsafeRawBufferPointer(rebasing: buffer[scanFrom..<end])
            if let base = available.baseAddress,
                let hit = memchr(base, 0x0A, available.count)
            {
                let lineEnd = scanFrom + (UnsafeRawPointer(hit) - base)
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<lineEnd])
                start = lineEnd + 1
                return try body(line)
            }
            let consumed = end - start
            guard try fill() else {
                if end > start {
                    let line = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                    start = end
                    return try body(line)
                }
                return nil
            }
            scanFrom = start + consumed
        }
    }

    /// The outcome of reading a put's body line.
    package enum BodyOutcome: Equatable, Sendable {
        /// The body decoded; `bytes` bytes were passed on.
        case decoded(bytes: Int64)
        /// The line was not valid base64; the rest of the line was skipped.
        case invalidBase64(bytesBeforeError: Int64)
    }

    /// Reads a body line, `"<base64>"`, skipping blank lines before it, and passes the
    /// decoded bytes to `sink` chunk by chunk: the body is never held whole in memory.
    /// Throws if the input ends or the line does not start with a quote.
    package func readBody(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> BodyOutcome {
        while true {
            while start < end, buffer[start] == 0x0A || buffer[start] == 0x0D || buffer[start] == 0x20 {
                start += 1
            }
            if start < end { break }
            guard try fill() else { throw CASError(.malformedInput, "input ended before the put body") }
        }
        guard buffer[start] == UInt8(ascii: "\"") else {
            throw CASError(
                .malformedInput, "expected the put body as a base64 JSON string on the line after the request")
        }
        start += 1
        var decoder = Base64StreamDecoder()
        var total: Int64 = 0
        var valid = true
        while true {
            let available = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
            let quote = available.baseAddress.flatMap { memchr($0, 0x22, available.count) }
            let stop = quote.map { start + (UnsafeRawPointer($0) - available.baseAddress!) } ?? end
            if stop > start, memchr(buffer.baseAddress! + start, 0x0A, stop - start) != nil {
                throw CASError(.malformedInput, "the put body line ended without its closing quote")
            }
            if valid {
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[start..<stop])
                valid = try decoder.decode(chunk) { bytes in
                    total += Int64(bytes.count)
                    try sink(bytes)
                }
            }
            start = stop
            if quote != nil {
                start += 1
                if try start < end || fill() {
                    if buffer[start] == 0x0A { start += 1 }
                }
                break
            }
            guard try fill() else { throw CASError(.malformedInput, "input ended inside a put body") }
        }
        guard valid, decoder.finish() else { return .invalidBase64(bytesBeforeError: total) }
        return .decoded(bytes: total)
    }
}
