import CASBridge
import Glibc

extension FuzzTarget {
    /// The helper's reading of stdin: lines decoded as requests, a put's body line read
    /// after it, as `HelperServer` does, through a pipe so the reader's buffer refills and
    /// grows at every boundary. A small starting buffer makes refills frequent.
    static func request(_ input: UnsafeRawBufferPointer) {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed")
        defer { close(fds[0]) }
        // libFuzzer's -max_len keeps inputs within the pipe's buffer, so this never blocks.
        var done = 0
        while done < input.count {
            let n = write(fds[1], input.baseAddress! + done, input.count - done)
            precondition(n > 0, "write to pipe failed")
            done += n
        }
        close(fds[1])
        let reader = InputReader(fd: fds[0], capacity: 16)
        while true {
            let parsed: ProgRequest??
            do {
                parsed = try reader.nextLine { line throws(CASError) -> ProgRequest? in
                    try? RequestDecoder.decode(line)
                }
            } catch { return }
            guard let parsed else { return }
            guard let request = parsed, request.bodySize > 0 else { continue }
            var hasher = SHA256()
            var total: Int64 = 0
            do {
                let outcome = try reader.readBody { chunk in
                    hasher.update(chunk)
                    total += Int64(chunk.count)
                }
                if case .decoded(let size) = outcome { precondition(size == total, "body size miscounted") }
            } catch { return }
            _ = hasher.finalize()
        }
    }
}
