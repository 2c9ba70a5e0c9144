import FoundationEssentials

/// One object of `go mod download -json` output.
package struct DownloadRecord: Decodable, Sendable {
    var path: String
    var version: String?
    var error: String?
    var sum: String?
    var goModSum: String?
    var zip: String?

    enum CodingKeys: String, CodingKey {
        case path = "Path"
        case version = "Version"
        case error = "Error"
        case sum = "Sum"
        case goModSum = "GoModSum"
        case zip = "Zip"
    }

    /// Splits concatenated JSON objects and decodes each.
    package static func parseStream(_ bytes: [UInt8]) throws -> [DownloadRecord] {
        var records: [DownloadRecord] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start = 0
        let decoder = JSONDecoder()
        for (i, b) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if b == 0x5C {
                    escaped = true
                } else if b == 0x22 {
                    inString = false
                }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x7B:
                if depth == 0 { start = i }
                depth += 1
            case 0x7D:
                depth -= 1
                if depth == 0 {
                    records.append(try decoder.decode(DownloadRecord.self, from: Data(bytes[start...i])))
                }
            default: break
            }
        }
        return records
    }
}
