import Foundation

extension Network {
    /// `count` distinct TCP ports on 127.0.0.1 that are free right now (all held open while
    /// choosing, so no two are the same).
    public static func freePorts(_ count: Int) -> [Int] {
        var fds: [Int32] = []
        var ports: [Int] = []
        defer { for fd in fds { close(fd) } }
        while ports.count < count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            fds.append(fd)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
            }
            _ = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            let port = Int(UInt16(bigEndian: addr.sin_port))
            // SeaweedFS and friends also like port+10000 free; keep below 55535.
            if port > 0, port < 55535, !ports.contains(port) { ports.append(port) }
        }
        return ports
    }
}
