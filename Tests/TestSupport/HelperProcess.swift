public import Foundation

/// A running cacheprog helper driven over pipes exactly as the go command drives it:
/// each request is a JSON line followed by an empty line, and a put's body follows as a
/// base64 JSON string on its own line. Responses and the exit are awaited as events (a
/// thread of its own reads stdout): no thread of the concurrency pool is held meanwhile.
public final class HelperProcess: @unchecked Sendable {
    /// The process.
    public let process: Process
    private let stdin: FileHandle
    private let stderrPipe: Pipe
    private let lines = LineQueue()
    private var nextID: Int64 = 0

    /// Starts `cacheprog` with `arguments` and `environment` added.
    public init(arguments: [String] = [], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.cacheprog)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("CASBRIDGE_") { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        let inPipe = Pipe()
        let outPipe = Pipe()
        stderrPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = stderrPipe
        stdin = inPipe.fileHandleForWriting
        let lines = lines
        process.terminationHandler = { p in
            lines.exited(p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus)
        }
        try process.run()
        let stdout = outPipe.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let chunk = stdout.availableData
                lines.append(chunk)
                if chunk.isEmpty { return }
            }
        }
    }

    /// Writes raw bytes to the helper's stdin.
    public func write(_ text: String) {
        stdin.write(Data(text.utf8))
    }

    /// Writes raw bytes to the helper's stdin.
    public func write(_ data: Data) {
        stdin.write(data)
    }

    /// Closes the helper's stdin.
    public func closeInput() {
        try? stdin.close()
    }

    /// Reads one response line; nil at end of output.
    public func readLine() async -> String? {
        await lines.next()
    }

    /// Reads one response and decodes it as a JSON object.
    public func readResponse() async -> [String: Any]? {
        guard let line = await readLine(),
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { return nil }
        return object
    }

    /// The next request ID.
    public func makeID() -> Int64 {
        nextID += 1
        return nextID
    }

    /// Sends a get as the go command writes it and returns its ID.
    @discardableResult
    public func sendGet(actionID: [UInt8], id: Int64? = nil) -> Int64 {
        let id = id ?? makeID()
        write("{\"ID\":\(id),\"Command\":\"get\",\"ActionID\":\"\(Data(actionID).base64EncodedString())\"}\n\n")
        return id
    }

    /// Sends a put as the go command writes it (body digest computed unless given) and returns its ID.
    @discardableResult
    public func sendPut(
        actionID: [UInt8], outputID: [UInt8], body: Data, bodySize: Int? = nil, idField: String = "OutputID",
        id: Int64? = nil
    ) -> Int64 {
        let id = id ?? makeID()
        let size = bodySize ?? body.count
        var header = "{\"ID\":\(id),\"Command\":\"put\",\"ActionID\":\"\(Data(actionID).base64EncodedString())\""
        header += ",\"\(idField)\":\"\(Data(outputID).base64EncodedString())\""
        if size > 0 { header += ",\"BodySize\":\(size)" }
        header += "}\n\n"
        write(header)
        if size > 0 {
            write("\"\(body.base64EncodedString())\"\n")
        }
        return id
    }

    /// Sends close and returns its ID.
    @discardableResult
    public func sendClose() -> Int64 {
        let id = makeID()
        write("{\"ID\":\(id),\"Command\":\"close\"}\n\n")
        return id
    }

    /// Waits for the helper to exit and returns its status (128 + signal when killed).
    public func exitStatus() async -> Int32 {
        await lines.exitStatus()
    }

    /// Everything the helper wrote to stderr (call after it exited).
    public var stderr: String {
        String(decoding: stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// The helper's peak resident set size in bytes, from /proc (while it runs).
    public var peakRSS: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return kb.map { $0 * 1024 }
        }
        return nil
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
