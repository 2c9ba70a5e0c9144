import Dispatch
import Glibc
public import Logging

/// The GOCACHEPROG helper: reads the go command's requests, serves them from the local
/// store (and the remote tier on a local miss), and writes the responses.
///
/// Local gets and puts are served on the reading thread in microseconds; gets that must
/// ask the remote run as children of the remote tier's root task group (`BackgroundTasks`)
/// and answer out of order, so a slow remote never blocks the requests behind them. A put's
/// body is received by a `BlobReceiver`. Every response goes through one `ResponseWriter`.
public final class HelperServer {
    /// How the helper behaves.
    public struct Options: Sendable {
        /// How long close waits for background uploads.
        public var uploadTimeout: Duration = .seconds(5)
        /// Creates the default options.
        public init() {}
    }

    /// How a run ended.
    public enum Outcome: Equatable, Sendable {
        /// The go command sent close.
        case closed
        /// Standard input ended without close.
        case endOfInput
        /// A request could not be read; the message says what was wrong.
        case malformed(String)
    }

    /// The local store.
    public let local: LocalStore
    /// The remote tier, if one is configured.
    public let remote: RemoteTier?
    /// The run's counters.
    public let statistics: HelperStatistics
    let options: Options
    let logger: Logger
    let reader: InputReader
    let writer: ResponseWriter
    let inFlight = DispatchGroup()
    /// Uploads still pending when close gave up on them.
    public private(set) var droppedUploads = 0
    /// Puts the local store could not keep (its file system full or read-only, say). The
    /// first is logged in full; the others, which would say the same, are counted and
    /// summed up once when the run ends.
    public private(set) var unstoredPuts = 0
    /// Runs once close has waited for gets and uploads, before close is answered: what the run
    /// reports (stats file, `-v` line) is then complete when the go command exits, even if its
    /// process group is killed with it.
    public var willAnswerClose: (() -> Void)?

    /// Creates a helper reading requests from `input` and answering on `output`.
    public init(
        local: LocalStore, remote: RemoteTier?, statistics: HelperStatistics, options: Options = Options(),
        logger: Logger, input: Int32 = 0, output: Int32 = 1
    ) {
        self.local = local
        self.remote = remote
        self.statistics = statistics
        self.options = options
        self.logger = logger
        reader = InputReader(fd: input)
        writer = ResponseWriter(fd: output)
        reader.willBlock = { [writer] in writer.flush() }
    }

    /// Serves requests until close or the end of input.
    public func run() -> Outcome {
        writer.send(.capabilities(["get", "put", "close"]))
        // An empty local store will miss: the warm manifest need not wait for the first get.
        if let remote, local.isEmpty { remote.startWarming(into: local) }
        local.startPrecheck()
        defer {
            local.stopPrecheck()
            if unstoredPuts > 1 {
                logger.error("cacheprog: \(unstoredPuts) puts in all could not be stored in \(local.directory)")
            }
        }
        var lineNumber = 0
        do {
            while true {
                lineNumber += 1
                let parsed: ProgRequest?? = try reader.nextLine { line throws(CASError) -> ProgRequest? in
                    if isBlank(line) { return nil }
                    do throws(CASError) {
                        return try RequestDecoder.decode(line)
                    } catch {
                        throw CASError(
                            .malformedInput,
                            "malformed request on input line \(lineNumber): \(error.message): \(preview(line))")
                    }
                }
                guard let maybe = parsed else { break }
                guard let request = maybe else { continue }
                switch request.command {
                case .get:
                    handleGet(request)
                case .put:
                    try handlePut(request)
                case .close:
                    finish()
                    willAnswerClose?()
                    writer.send(.closed(id: request.id))
                    return .closed
                case .other(let name):
                    writer.enqueue(.failure(id: request.id, message: "cacheprog: unknown command \"\(name)\""))
                }
            }
        } catch let error as CASError {
            inFlight.wait()
            writer.flush()
            return .malformed(error.message)
        } catch {
            inFlight.wait()
            writer.flush()
            return .malformed("\(error)")
        }
        // End of input without close: answer what is in flight and stop promptly.
        inFlight.wait()
        writer.flush()
        return .endOfInput
    }

    private func handleGet(_ request: ProgRequest) {
        statistics.add(.gets)
        guard let bytes = request.actionID, let actionID = Digest(bytes: bytes) else {
            writer.enqueue(.failure(id: request.id, message: "cacheprog: get needs a 32-byte ActionID"))
            return
        }
        if let hit = local.lookup(actionID) {
            statistics.update {
                $0[.localHits] += 1
                $0[.hitBytes] += hit.entry.size
            }
            writer.enqueue(.found(id: request.id, entry: hit.entry, diskPath: hit.path))
            remote?.noteUse(actionID, hit.entry)
            return
        }
        guard let remote else {
            statistics.add(.misses)
            statistics.noteMiss(actionID)
            writer.enqueue(.miss(id: request.id))
            return
        }
        if let hit = remote.readyHit(actionID, in: local) {
            statistics.update {
                $0[.remoteHits] += 1
                $0[.hitBytes] += hit.entry.size
            }
            writer.enqueue(.found(id: request.id, entry: hit.entry, diskPath: hit.path))
            remote.noteUse(actionID, hit.entry)
            return
        }
        inFlight.enter()
        let (local, writer, statistics, group) = (self.local, self.writer, self.statistics, inFlight)
        let id = request.id
        // A child of the tier's root task group, like all of the tier's background work.
        let spawned = remote.tasks.spawn {
            if let hit = await remote.fetch(actionID, into: local) {
                statistics.update {
                    $0[.remoteHits] += 1
                    $0[.hitBytes] += hit.entry.size
                }
                writer.send(.found(id: id, entry: hit.entry, diskPath: hit.path))
                remote.noteUse(actionID, hit.entry)
            } else {
                statistics.add(.misses)
                statistics.noteMiss(actionID)
                writer.send(.miss(id: id))
            }
            group.leave()
        }
        if !spawned {
            statistics.add(.misses)
            statistics.noteMiss(actionID)
            writer.send(.miss(id: id))
            group.leave()
        }
    }

    private func handlePut(_ request: ProgRequest) throws {
        statistics.add(.puts)
        // The body must be consumed whatever else is wrong with the request.
        let receiver: BlobReceiver
        do {
            receiver = try BlobReceiver(
                into: local, expecting: request.outputID.flatMap { Digest(bytes: $0) }, throughPageCache: true)
        } catch {
            if request.bodySize > 0 { _ = try reader.readBody { _ in } }
            statistics.add(.putErrors)
            failToStore(request, "cacheprog: cannot create a temporary file in \(local.directory): \(error)")
            return
        }
        // A failed write leaves the receiver hashing the rest, so the body is consumed and
        // its digest still known.
        var writeError: (any Error)? = nil
        var outcome = InputReader.BodyOutcome.decoded(bytes: 0)
        if request.bodySize > 0 {
            outcome = try reader.readBody { chunk in
                do { try receiver.write(chunk) } catch { writeError = writeError ?? error }
            }
        }
        func reject(_ message: String, storing: Bool = false) {
            receiver.discard()
            statistics.add(.putErrors)
            if storing { failToStore(request, message) } else { fail(request, message) }
        }
        guard let actionBytes = request.actionID, let actionID = Digest(bytes: actionBytes) else {
            return reject("cacheprog: put needs a 32-byte ActionID")
        }
        guard let outputBytes = request.outputID, let outputID = Digest(bytes: outputBytes) else {
            return reject("cacheprog: put for action \(actionID) needs a 32-byte OutputID")
        }
        guard case .decoded(let size) = outcome else {
            return reject("cacheprog: put for action \(actionID): the body is not valid base64")
        }
        guard size == request.bodySize else {
            return reject(
                "cacheprog: put for action \(actionID): body has \(size) bytes but BodySize is \(request.bodySize)")
        }
        if let writeError {
            let digest = receiver.discard()?.digest
            if let digest, digest != outputID {
                return reject(
                    "cacheprog: put for action \(actionID): body hashes to \(digest), not OutputID \(outputID)")
            }
            return reject(
                "cacheprog: put for action \(actionID): writing \(receiver.path) failed: \(writeError)", storing: true)
        }
        let entry = ActionEntry(outputID: outputID, size: size, time: .now())
        let path: String
        do {
            switch try receiver.publish(as: outputID, actionID: actionID, time: entry.time) {
            case .published(_, let published):
                path = published
            case .mismatch(let hash):
                return reject(
                    "cacheprog: put for action \(actionID): body hashes to \(hash.digest), not OutputID \(outputID)")
            }
        } catch {
            return reject("cacheprog: put for action \(actionID): \(error)", storing: true)
        }
        statistics.add(.putBytes, size)
        statistics.notePut(actionID)
        writer.enqueue(.found(id: request.id, entry: entry, diskPath: path))
        remote?.enqueueUpload(actionID: actionID, entry: entry, path: path)
        remote?.noteUse(actionID, entry)
    }

    private func fail(_ request: ProgRequest, _ message: String) {
        logger.error("\(message)")
        writer.enqueue(.failure(id: request.id, message: message))
    }

    /// Answers a put that the local store could not keep; logs only the first of the run.
    private func failToStore(_ request: ProgRequest, _ message: String) {
        unstoredPuts += 1
        if unstoredPuts == 1 {
            logger.error("\(message) (further puts that cannot be stored are counted, not logged)")
        }
        writer.enqueue(.failure(id: request.id, message: message))
    }

    /// Waits for in-flight gets and, with a remote, for background uploads.
    private func finish() {
        inFlight.wait()
        writer.flush()
        if let remote {
            let timeout = options.uploadTimeout
            droppedUploads = waitForTask { await remote.drain(timeout: timeout) }
            if droppedUploads > 0 {
                logger.warning("close: \(droppedUploads) uploads to \(remote.store.name) did not finish in \(timeout)")
            }
        }
    }

    private func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private func preview(_ line: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: line.prefix(120), as: UTF8.self)
        return JSONString.quote(text) + (line.count > 120 ? "…" : "")
    }
}
