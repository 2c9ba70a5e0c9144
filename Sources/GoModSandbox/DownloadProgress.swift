import CASBridge
import Glibc

/// Progress of a download on a terminal: modules done of total, and bytes, redrawn on
/// one stderr line. Counts what the go command has written to the private module cache.
struct DownloadProgress {
    let cacheRoot: String
    let label: String
    let total: Int?
    var lastDraw: ContinuousClock.Instant?
    var drew = false

    init(cacheRoot: String, label: String, total: Int?) {
        self.cacheRoot = cacheRoot
        self.label = label
        self.total = total
    }

    mutating func tick(force: Bool = false) {
        let now = ContinuousClock.now
        guard force || lastDraw.map({ now - $0 >= .milliseconds(250) }) ?? true else { return }
        lastDraw = now
        var modules = 0
        var bytes: Int64 = 0
        count("\(cacheRoot)/cache/download", modules: &modules, bytes: &bytes)
        let of = total.map { "/\($0)" } ?? ""
        let line = "\r\u{1B}[K\(label): \(modules)\(of) modules, \(Self.format(bytes))"
        _ = line.withCString { write(2, $0, strlen($0)) }
        drew = true
    }

    func finish() {
        if drew { _ = "\r\u{1B}[K".withCString { write(2, $0, strlen($0)) } }
    }

    private func count(_ dir: String, modules: inout Int, bytes: inout Int64) {
        for name in FileSystem.list(dir) {
            let path = "\(dir)/\(name)"
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                if name != "sumdb" { count(path, modules: &modules, bytes: &bytes) }
            } else if name.hasSuffix(".ziphash") {
                modules += 1
            } else if name.contains(".zip") {
                bytes += Int64(st.st_size)
            }
        }
    }

    static func format(_ bytes: Int64) -> String {
        if bytes >= 1 << 20 { return "\(bytes / (1 << 20)).\((bytes % (1 << 20)) * 10 / (1 << 20)) MiB" }
        if bytes >= 1 << 10 { return "\(bytes / (1 << 10)) KiB" }
        return "\(bytes) B"
    }
}
