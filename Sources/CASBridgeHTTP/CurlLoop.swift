import CASBridge
internal import CCurl
import Glibc
import Synchronization

/// A curl multi handle driven by one dedicated thread: the transfers `HTTPClient` gives it run
/// there, concurrently, over the multi handle's shared pool of kept-alive connections.
/// Blocking curl work never runs on the Swift concurrency pool.
final class CurlLoop: @unchecked Sendable {
    private struct Inbox: ~Copyable {
        var incoming: [CurlTransfer] = []
        var cancelled: [ObjectIdentifier] = []
        var stopping = false
        var started = false
    }

    /// Opens libcurl (once per process); nil when it loaded, else why not.
    private static let loadFailure: String? = {
        if casb_curl_load() != 0 { return nil }
        return casb_curl_load_error().map { String(cString: $0) } ?? "libcurl.so.4 lacks a needed function"
    }()

    private static let preloading: Void = {
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { _ in
                _ = CurlLoop.loadFailure
                return nil
            }, nil)
        if rc == 0 {
            pthread_detach(thread)
        }
    }()

    /// Starts opening libcurl on a thread of its own (once per process).
    static func preload() {
        _ = preloading
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    // Touched only by the loop thread.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    /// Creates a loop; throws when libcurl cannot be loaded.
    init(maxConnectionsPerHost: Int = 32) throws(CASError) {
        if let failure = CurlLoop.loadFailure {
            throw CASError(.remote, "cannot load libcurl (install libcurl4): \(failure)")
        }
        guard let multi = casb_multi_init() else { throw CASError(.remote, "curl_multi_init failed") }
        self.multi = multi
        casb_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        casb_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnectionsPerHost * 2)
    }

    deinit {
        casb_multi_cleanup(multi)
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
                if startThread { start() } else { casb_multi_wakeup(multi) }
            }
        } onCancel: {
            inbox.withLock { $0.cancelled.append(ObjectIdentifier(transfer)) }
            casb_multi_wakeup(multi)
        }
    }

    /// Ends the loop thread once it has failed whatever is in flight.
    func shutdown() {
        inbox.withLock { $0.stopping = true }
        casb_multi_wakeup(multi)
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
                casb_multi_add_handle(multi, t.easy)
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
            casb_multi_perform(multi, &running)
            var left: Int32 = 0
            while let message = casb_multi_info_read(multi, &left) {
                if message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle {
                    complete(easy, message.pointee.data.result)
                }
            }
            casb_multi_poll(multi, 1000)
        }
    }

    private func complete(_ easy: UnsafeMutableRawPointer, _ code: CURLcode) {
        guard let t = active.removeValue(forKey: easy) else { return }
        casb_multi_remove_handle(multi, easy)
        let outcome = t.finish(code)
        let continuation = t.continuation
        t.continuation = nil
        continuation?.resume(with: outcome)
    }
}
