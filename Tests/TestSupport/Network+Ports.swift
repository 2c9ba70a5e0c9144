import Foundation
import Synchronization

extension Network {
    /// Where this process hands out ports: below the kernel's ephemeral range (32768–60999 on
    /// Linux), which outgoing connections take their local ports from. A port chosen there
    /// can be taken by any client socket between the choice and the server's bind (SeaweedFS
    /// then dies with "address already in use" while something else answers on its port), so
    /// servers get ports from 20000–31999, each handed out once per process, starting at a
    /// random point so that concurrent test processes rarely meet.
    private static let nextPort = Mutex(Int.random(in: 20_000..<32_000))

    /// `count` distinct TCP ports on 127.0.0.1, free right now, outside the ephemeral range
    /// and not handed out before by this process.
    public static func freePorts(_ count: Int) -> [Int] {
        var ports: [Int] = []
        while ports.count < count {
            let port = nextPort.withLock { next in
                defer { next = next + 1 < 32_000 ? next + 1 : 20_000 }
                return next
            }
            if isFree(port) { ports.append(port) }
        }
        return ports
    }

    /// Whether a listening socket can bind 127.0.0.1:`port` now.
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = loopback(port: port)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return bound == 0
    }
}
