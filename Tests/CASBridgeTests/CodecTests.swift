import CASBridge
import Foundation
import Testing

@Suite("Codec")
struct CodecTests {
    @Test("base64 matches Foundation for every length, and streaming decode equals whole decode")
    func base64() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = Base64.encode(bytes)
            #expect(encoded == Data(bytes).base64EncodedString())
            #expect(Base64.decode(Array(encoded.utf8)) == bytes)
            // Fed one byte at a time.
            var decoder = Base64StreamDecoder()
            var out: [UInt8] = []
            for c in encoded.utf8 {
                let ok = [c].withUnsafeBytes { decoder.decode($0) { out.append(contentsOf: $0) } }
                #expect(ok)
            }
            let finished = decoder.finish()
            #expect(finished)
            #expect(out == bytes)
        }
    }

    @Test("streaming base64 of long bodies: any chunking decodes the same; a bad character anywhere is rejected")
    func base64LongBodies() {
        var generator = SystemRandomNumberGenerator()
        for length in [4_095, 4_096, 4_097, 65_537] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Array(Base64.encode(bytes).utf8)
            for chunkSize in [1, 2, 3, 5, 4_096, 65_536, encoded.count] {
                var decoder = Base64StreamDecoder()
                var out: [UInt8] = []
                var start = 0
                while start < encoded.count {
                    let end = min(encoded.count, start + chunkSize)
                    let ok = encoded[start..<end].withUnsafeBytes { decoder.decode($0) { out.append(contentsOf: $0) } }
                    #expect(ok)
                    start = end
                }
                let finished = decoder.finish()
                #expect(finished)
                #expect(out == bytes, "length \(length), chunks of \(chunkSize)")
            }
            for position in [0, 1, 2, 3, 4, 1_001, encoded.count / 2, encoded.count - 5] {
                for bad in [UInt8(ascii: "!"), UInt8(ascii: "="), UInt8(ascii: " "), 0x80] {
                    var damaged = encoded
                    damaged[position] = bad
                    #expect(Base64.decode(damaged) == nil, "\(bad) at \(position) of \(encoded.count)")
                }
            }
        }
    }

    @Test("invalid base64 is rejected", arguments: ["QQ", "QQ=", "Q===", "QUJD=", "QU=D", "QUJ!", "QUJD QUJD", "=QUJ"])
    func invalidBase64(_ text: String) {
        #expect(Base64.decode(Array(text.utf8)) == nil)
    }

    @Test("requests decode in Go's field order and in any other, unknown fields skipped")
    func requests() throws {
        let action = Data(repeating: 0xAB, count: 32).base64EncodedString()
        let output = Data(repeating: 0xCD, count: 32).base64EncodedString()
        let lines = [
            #"{"ID":42,"Command":"put","ActionID":"\#(action)","OutputID":"\#(output)","BodySize":123}"#,
            #"{ "BodySize" : 123 , "Extra":{"a":[1,2,{"b":null}],"c":"\"}"}, "OutputID":"\#(output)", "ActionID":"\#(action)","Command":"put","ID":42 }"#,
            #"{"ID":42,"Command":"put","ActionID":"\#(action)","ObjectID":"\#(output)","BodySize":123}"#,
        ]
        for line in lines {
            let request = try Array(line.utf8).withUnsafeBytes { try RequestDecoder.decode($0) }
            #expect(request.id == 42)
            #expect(request.command == .put)
            #expect(request.actionID == Array(repeating: 0xAB, count: 32))
            #expect(request.outputID == Array(repeating: 0xCD, count: 32))
            #expect(request.bodySize == 123)
        }
        let close = try Array(#"{"ID":7,"Command":"close"}"#.utf8).withUnsafeBytes { try RequestDecoder.decode($0) }
        #expect(close == ProgRequest(id: 7, command: .close))
    }

    @Test("responses are the JSON the go command decodes")
    func responses() throws {
        var out: [UInt8] = []
        let entry = ActionEntry(
            outputID: Digest(bytes: Array(repeating: 1, count: 32))!, size: 77,
            time: Timestamp(nanoseconds: 1_700_000_000_000_000_001))
        ProgResponse.found(id: 3, entry: entry, diskPath: "/tmp/a \"quoted\" path\\x").encode(into: &out)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.dropLast())) as? [String: Any])
        #expect(object["ID"] as? Int == 3)
        #expect(object["Size"] as? Int == 77)
        #expect(object["DiskPath"] as? String == "/tmp/a \"quoted\" path\\x")
        #expect(object["Time"] as? String == "2023-11-14T22:13:20.000000001Z")
        #expect(object["OutputID"] as? String == Data(repeating: 1, count: 32).base64EncodedString())
        #expect(out.last == 0x0A)
    }

    @Test("RFC 3339 formatting and parsing round-trip, trailing zeros dropped like Go's RFC3339Nano")
    func rfc3339() {
        let cases: [(Int64, String)] = [
            (0, "1970-01-01T00:00:00Z"),
            (1_500_000_000, "1970-01-01T00:00:01.5Z"),
            (951_782_400_123_000_000, "2000-02-29T00:00:00.123Z"),
            (-1, "1969-12-31T23:59:59.999999999Z"),
            (4_102_444_800_000_000_000, "2100-01-01T00:00:00Z"),
        ]
        for (ns, text) in cases {
            #expect(Timestamp(nanoseconds: ns).rfc3339 == text)
            #expect(Timestamp(rfc3339: text)?.nanoseconds == ns)
        }
        #expect(Timestamp(rfc3339: "2024-01-01T01:00:00+01:00")?.nanoseconds == 1_704_067_200_000_000_000)
        #expect(Timestamp(rfc3339: "2024-13-01T00:00:00Z") == nil)
        #expect(Timestamp(rfc3339: "yesterday") == nil)
    }

    @Test("digests: hex round trip and SHA-256 of known inputs")
    func digests() {
        #expect(SHA256.hash([UInt8]()) == Digest.empty)
        #expect(
            SHA256.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let d = SHA256.hash(Array("x".utf8))
        #expect(Digest(hex: d.hex) == d)
        #expect(Digest(hex: "zz") == nil)
        #expect(Digest(bytes: [1, 2, 3]) == nil)
    }
}
