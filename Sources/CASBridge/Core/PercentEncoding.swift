/// The one percent-decoder of remote URLs (the userinfo of `http(s)://`, the query of `s3://`),
/// so every backend reads `%XX` the same way.
package enum PercentEncoding {
    /// `text` with each `%XX` replaced by its byte (and `+` by a space when `plusAsSpace`, as
    /// in query strings), read as UTF-8; nil when a `%` is not followed by two hex digits.
    package static func decode(_ text: Substring, plusAsSpace: Bool = false) -> String? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%") {
                guard bytes.count >= 2, let hi = Digest.hexValue(bytes.popFirst()!),
                    let lo = Digest.hexValue(bytes.popFirst()!)
                else { return nil }
                out.append(hi << 4 | lo)
            } else if plusAsSpace && b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
