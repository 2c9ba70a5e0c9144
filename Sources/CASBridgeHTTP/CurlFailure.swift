import CASBridge
internal import CCurl

/// A transport failure with curl's code, so the client can tell what is worth retrying.
struct CurlFailure: Error, Sendable, CustomStringConvertible {
    var code: Int
    var error: CASError
    var description: String { error.description }
    var retryable: Bool {
        switch CURLcode(rawValue: UInt32(code)) {
        case CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
            CURLE_PARTIAL_FILE, CURLE_COULDNT_RESOLVE_HOST, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            true
        default:
            false
        }
    }
}
