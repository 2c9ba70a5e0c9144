import CASBridge

extension HTTPCacheStore {
    /// The content of the probe blob: compressible, 4 KiB, the same for every client, so
    /// probing never leaves more than this one blob behind.
    static let probeContent: [UInt8] = Array(
        String(repeating: "casbridge zstd probe v1: does this server speak Content-Encoding zstd?\n", count: 58).utf8)

    /// Whether uploads go compressed: by the URL's `zstd=` mode, probing once for `auto`.
    func uploadsCompressed() async -> Bool {
        switch zstdMode {
        case .on: return true
        case .off: return false
        case .auto: break
        }
        let task: Task<Bool, Never> = zstdState.withLock { state in
            switch state {
            case .known(let value):
                return Task { value }
            case .probing(let task):
                return task
            case .unknown:
                let task = Task { await self.probeZstd() }
                state = .probing(task)
                return task
            }
        }
        let value = await task.value
        zstdState.withLock { $0 = .known(value) }
        return value
    }

    /// Asks for the probe blob with `Accept-Encoding: zstd` (uploading it plainly first if
    /// it is absent). A server that answers with a zstd body that decodes to the probe
    /// understands zstd (bazel-remote); one that ignores the header (a WebDAV server, which
    /// would also store compressed uploads verbatim) does not. Failures count as "no".
    func probeZstd() async -> Bool {
        let digest = SHA256.hash(HTTPCacheStore.probeContent)
        let target = url("cas", digest)
        let accept = [(name: "Accept-Encoding", value: "zstd")]
        do {
            var response = try await request("GET", target, extraHeaders: accept)
            if response.status == 404 {
                _ = try await request("PUT", target, body: .bytes(HTTPCacheStore.probeContent))
                response = try await request("GET", target, extraHeaders: accept)
            }
            return response.isSuccess && response.headers["content-encoding"]?.lowercased() == "zstd"
                && response.body == HTTPCacheStore.probeContent
        } catch {
            return false
        }
    }
}
