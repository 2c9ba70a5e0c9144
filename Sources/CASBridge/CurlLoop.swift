internal import CCurl
import Glibc
import Synchronization

/// A curl multi handle driven by one dedicated thread: every transfer of a client runs
/// there, concurrently, over the multi handle's shared pool of kept-alive connections.
/// Blocking curl work never runs on the Swift concurrency pool.
final class CurlLoop: @unchecked Sendable {
    private struct Inbox: ~Copyable {
        var incoming: [CurlTransfer] = []
        var cancelled: [ObjectIdentifier] = []
        var stopping = false
        var started = false
    }

    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    // Touched only by the loop thread.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(maxConnectionsPerHost: Int = 32) {
        _ = CurlLoop.globalInit
        multi = curl_multi_init()
        casb_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        casb_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnectionsPerHost * 2)
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Runs `transfer` and returns its response, or throws its failure.
    func perform(_ transfer: CurlTransfer) async throws -> HTTPClient.Response {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                let startThread: Bool = inbox.withLock { box in
                    box.incoming.append(transfer)
                    if box.started { return false }
                    box.started = true
                    return true
                }
                if startThread { start() } else { curl_multi_wakeup(multi) }
            }
        } onCancel: {
            inbox.withLock { $0.cancelled.append(ObjectIdentifier(transfer)) }
            curl_multi_wakeup(multi)
        }
    }

    /// Ends the loop thread once it has failed whatever is in flight.
    func shutdown() {
        inbox.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    private func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                let loop = Unmanaged<CurlLoop>.fromOpaque(raw!).takeRetainedValue()
                loop.run()
                return nil
            }, context)
        if rc != 0 {
            Unmanaged<CurlLoop>.fromOpaque(context).release()
            let pending = inbox.withLock { box in
                box.started = false
                defer { box.incoming.removeAll() }
                return box.incoming
            }
            for t in pending {
                t.continuation?.resume(
                    throwing: CASError(.remote, "\(t.method) \(t.url): cannot start the HTTP thread"))
            }
            return
        }
        pthread_detach(thread)
    }

    private func run() {
        while true {
            let (incoming, cancelled, stopping) = inbox.withLock { box in
                defer {
                    box.incoming.removeAll()
                    box.cancelled.removeAll()
                }
                return (box.incoming, box.cancelled, box.stopping)
            }
            for t in incoming {
                active[t.easy] = t
                curl_multi_add_handle(multi, t.easy)
            }
            if !cancelled.isEmpty {
                let ids = Set(cancelled)
                for (easy, t) in active where ids.contains(ObjectIdentifier(t)) {
                    t.cancelled = true
                    complete(easy, CURLE_ABORTED_BY_CALLBACK)
                }
            }
            if stopping {
                for (easy, t) in active {
                    t.cancelled = true
                    complete(easy, CURLE_ABORTED_BY_CALLBACK)
                }
                return
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                if message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle {
                    complete(easy, message.pointee.data.result)
                }
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func complete(_ easy: UnsafeMutableRawPointer, _ code: CURLcode) {
        guard let t = active.removeValue(forKey: easy) else { return }
        curl_multi_remove_handle(multi, easy)
        let outcome = t.finish(code)
        let continuation = t.continuation
        t.continuation = nil
        continuation?.resume(with: outcome)
    }
}
