import CASBridge
internal import COpenSSL

/// HMAC-SHA256 over OpenSSL's libcrypto (the one-shot `HMAC`, not the deprecated context API).
public enum HMACSHA256 {
    /// The 32-byte MAC of `data` under `key`.
    public static func mac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                out.withUnsafeMutableBytes { o in
                    _ = HMAC(
                        EVP_sha256(), k.baseAddress, Int32(k.count),
                        d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count,
                        o.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
                }
            }
        }
        return out
    }

    /// The MAC of the UTF-8 bytes of `text` under `key`.
    public static func mac(key: [UInt8], _ text: String) -> [UInt8] {
        mac(key: key, data: Array(text.utf8))
    }
}
