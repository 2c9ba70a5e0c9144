import CASBridge
internal import CCurl
import Glibc

/// One HTTP request attempt on a curl easy handle. Created on the caller's task, then
/// touched only by the `CurlLoop` thread until it completes.
final class CurlTransfer: @unchecked Sendable {
    static let errorBodyCap = 64 * 1024

    let easy: UnsafeMutableRawPointer
    let method: String
    let url: String
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    // Upload side.
    private var uploadBytes: [UInt8] = []
    private var uploadFD: Int32 = -1
    private var uploadOffset = 0
    private var uploadRemaining: Int64 = 0

    /// Where a 2xx body goes and how.
    struct Download {
        /// The file that receives a 2xx body, hashed as it is written; nil keeps the body
        /// in memory.
        var path: String?
        /// Takes a 2xx body instead of `path` (not hashed).
        var sink: (any BlobSink)?
        /// A response header that, when it says `zstd`, marks the body as compressed (like
        /// `Content-Encoding: zstd`).
        var zstdMarker: String?
    }

    // Download side.
    private let downloadPath: String?
    private let sink: (any BlobSink)?
    private let zstdMarker: String?
    private var file: BlobFileWriter?
    private var sinkStarted = false
    private var decompressor: ZstdDecompressor?
    private var decided = false
    private var toFile = false
    private var decodeBody = false
    private var keepWholeBody = false

    // Results.
    var status = 0
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    /// A failure inside a callback (disk full, bad zstd data) that aborted the transfer.
    var callbackError: (any Error & Sendable)?
    var continuation: CheckedContinuation<HTTPClient.Response, any Error>?
    var cancelled = false

    init(
        method: String, url: String, headers: [(name: String, value: String)], body: HTTPClient.Body,
        download: Download, options: HTTPClient.Options
    ) throws {
        guard let easy = casb_easy_init() else { throw CASError(.remote, "\(method) \(url): curl_easy_init failed") }
        self.easy = easy
        self.method = method
        self.url = url
        downloadPath = download.path
        sink = download.sink
        zstdMarker = download.zstdMarker?.lowercased()
        errorBuffer[0] = 0
        let me = Unmanaged.passUnretained(self).toOpaque()
        casb_easy_setopt_string(easy, CURLOPT_URL, url)
        casb_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        casb_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        casb_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        casb_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        casb_easy_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        casb_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        // Fewer, larger write callbacks and reads for multi-megabyte blobs.
        casb_easy_setopt_long(easy, CURLOPT_BUFFERSIZE, 256 * 1024)
        casb_easy_setopt_long(easy, CURLOPT_UPLOAD_BUFFERSIZE, 256 * 1024)
        casb_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(options.connectTimeout))
        casb_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(options.requestTimeout))
        casb_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
        casb_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, Int(options.stallTimeout.inSeconds.rounded(.up))))
        if options.insecure {
            casb_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
            casb_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
        }
        casb_easy_setopt_write(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
        casb_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, me)
        casb_easy_setopt_write(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback)
        casb_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, me)

        var size: Int64 = -1
        switch body {
        case .none:
            break
        case .bytes(let bytes):
            uploadBytes = bytes
            size = Int64(bytes.count)
        case .file(let path, let fileSize):
            do {
                uploadFD = try FileSystem.open(path, O_RDONLY)
            } catch {
                casb_easy_cleanup(easy)
                errorBuffer.deallocate()
                throw CASError(.io, "\(method) \(url): cannot open the body \(path)", cause: error)
            }
            size = fileSize
        }
        uploadRemaining = max(size, 0)
        switch method {
        case "GET":
            break
        case "HEAD":
            casb_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        case "PUT":
            casb_easy_setopt_long(easy, CURLOPT_UPLOAD, 1)
            casb_easy_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(max(size, 0)))
        case "POST":
            casb_easy_setopt_long(easy, CURLOPT_POST, 1)
            casb_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(max(size, 0)))
        default:
            casb_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
            if size >= 0 {
                casb_easy_setopt_long(easy, CURLOPT_UPLOAD, 1)
                casb_easy_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(size))
            }
        }
        if method == "PUT" || method == "POST" || size >= 0 {
            casb_easy_setopt_read(easy, curlReadCallback)
            casb_easy_setopt_ptr(easy, CURLOPT_READDATA, me)
        }
        // A 100-continue round trip costs a full RTT per upload; the bodies are retried anyway.
        headerList = casb_slist_append(headerList, "Expect:")
        for (name, value) in headers {
            headerList = casb_slist_append(headerList, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        casb_easy_setopt_ptr(easy, CURLOPT_HTTPHEADER, headerList)
    }

    deinit {
        casb_easy_cleanup(easy)
        casb_slist_free_all(headerList)
        errorBuffer.deallocate()
        if uploadFD >= 0 { close(uploadFD) }
        decompressor?.recycle()
    }

    /// Fills `buffer` with the next upload bytes; returns how many (0 at the end).
    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        let want = Int(min(Int64(capacity), uploadRemaining))
        guard want > 0 else { return 0 }
        if uploadFD >= 0 {
            while true {
                let n = Glibc.read(uploadFD, buffer, want)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    callbackError = CASError(
                        .io, "\(method) \(url): the body file ended or failed early",
                        cause: n < 0 ? SystemError("read", errno: errno) : nil)
                    return Int(CURL_READFUNC_ABORT)
                }
                uploadRemaining -= Int64(n)
                return n
            }
        }
        uploadBytes.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + uploadOffset, byteCount: want)
        }
        uploadOffset += want
        uploadRemaining -= Int64(want)
        return want
    }

    /// Takes one header line.
    func header(_ line: UnsafeRawBufferPointer) {
        var end = line.count
        while end > 0 && (line[end - 1] == 0x0A || line[end - 1] == 0x0D) { end -= 1 }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<end]), as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            headers = [:]  // a new response (after 100 Continue, or a retried connection)
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
        headers[name] = String(value)
    }

    /// Takes a piece of the body; returns false to abort.
    func write(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if !decided {
            decided = true
            var code = 0
            casb_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
            let success = (200..<300).contains(code)
            toFile = success && (downloadPath != nil || sink != nil)
            keepWholeBody = success && !toFile
            decodeBody =
                success
                && (headers["content-encoding"]?.lowercased() == "zstd"
                    || zstdMarker.map { headers[$0]?.lowercased() == "zstd" } ?? false)
            if decodeBody { decompressor = ZstdDecompressor.take() }
            if toFile, !openDownload() { return false }
        }
        do {
            if let decompressor {
                try decompressor.feed(chunk) { try deliver($0) }
            } else {
                try deliver(chunk)
            }
            return true
        } catch {
            callbackError = error
            return false
        }
    }

    private func deliver(_ piece: UnsafeRawBufferPointer) throws {
        if toFile, let sink {
            try sink.write(piece)
        } else if toFile {
            try file!.write(piece)
        } else if keepWholeBody || body.count < CurlTransfer.errorBodyCap {
            body.append(contentsOf: piece)
        }
    }

    private func openDownload() -> Bool {
        do {
            if let sink {
                try sink.restart()
                sinkStarted = true
                return true
            }
            file = try BlobFileWriter(path: downloadPath!)
            return true
        } catch {
            callbackError = CASError(.io, "\(method) \(url): cannot write \(downloadPath ?? "the body")", cause: error)
            return false
        }
    }

    /// Builds the outcome once curl reports `code` for the transfer.
    func finish(_ code: CURLcode) -> Result<HTTPClient.Response, any Error> {
        if cancelled { return .failure(CancellationError()) }
        if let callbackError { return .failure(callbackError) }
        guard code == CURLE_OK else {
            let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: casb_easy_strerror(code))
            let kind: CASError.Code = code == CURLE_OPERATION_TIMEDOUT ? .timeout : .remote
            return .failure(CurlFailure(code: Int(code.rawValue), error: CASError(kind, "\(method) \(url): \(detail)")))
        }
        var response = 0
        casb_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &response)
        let success = (200..<300).contains(response)
        if success, downloadPath != nil || sink != nil, file == nil, !sinkStarted, !openDownload() {
            return .failure(callbackError ?? CASError(.io, "\(method) \(url): cannot take the body"))
        }
        if let decompressor, !decompressor.finished {
            return .failure(CASError(.remote, "\(method) \(url): truncated zstd body"))
        }
        if !success && body.count > CurlTransfer.errorBodyCap {
            body.removeLast(body.count - CurlTransfer.errorBodyCap)
        }
        var hash: ContentHash? = nil
        if success, let file {
            do {
                hash = try file.finish()
            } catch {
                return .failure(CASError(.io, "\(method) \(url): cannot write \(file.path)", cause: error))
            }
        }
        return .success(HTTPClient.Response(status: response, headers: headers, body: body, downloadHash: hash))
    }
}

private let curlHeaderCallback: curl_write_callback = { data, size, count, user in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
    transfer.header(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

private let curlWriteCallback: curl_write_callback = { data, size, count, user in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
    return transfer.write(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
}

private let curlReadCallback: curl_read_callback = { buffer, size, count, user in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
    return transfer.read(into: buffer!, capacity: size * count)
}

extension CurlTransfer {
    /// `duration` in whole milliseconds, as libcurl's `_MS` options take it (at least 1: 0 means no limit).
    static func milliseconds(_ duration: Duration) -> Int {
        Int(max(1, min(duration.inSeconds * 1000, Double(Int32.max)).rounded(.up)))
    }
}
