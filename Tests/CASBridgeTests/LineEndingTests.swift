import CASBridge
import CASBridgeS3
import Foundation
import Testing

/// Swift reads "\r\n" as one Character, equal to neither "\n" nor "\r": line splitting that
/// compared with those two alone saw a CRLF file (as Windows editors write them) as one line.
@Suite("CRLF line endings")
struct LineEndingTests {
    @Test("an AWS credentials file with CRLF line endings reads as with LF")
    func credentialsFile() {
        let text = "[default]\naws_access_key_id = AKID\naws_secret_access_key = secret\n\n[ci]\nregion = eu-west-1\n"
        let crlf = INIFile(parsing: text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(crlf == INIFile(parsing: text))
        #expect(crlf["default"]?["aws_access_key_id"] == "AKID")
        #expect(crlf["ci"]?["region"] == "eu-west-1")
    }

    @Test("a header list with CRLF line endings gives one header a line")
    func headers() throws {
        let headers = try RemoteConfiguration.parseHeaders("Authorization: Bearer abc\r\nX-Team: go\r\n")
        #expect(headers.map(\.name) == ["Authorization", "X-Team"])
        #expect(headers.map(\.value) == ["Bearer abc", "go"])
    }
}
