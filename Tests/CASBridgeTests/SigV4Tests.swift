import CASBridge
import CASBridgeS3
import Testing

/// AWS Signature Version 4 against AWS's published vectors.
///
/// Sources: the "aws-sig-v4-test-suite" (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html;
/// also shipped as botocore's tests/unit/auth/aws4_testsuite and aws-sdk-js-v3's signature-v4
/// suite.fixture) with credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
/// us-east-1, service `service`, 2015-08-30T12:36:00Z; and the GET Object example of the S3
/// API reference, "Signature Calculations for the Authorization Header"
/// (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
@Suite("SigV4 signing")
struct SigV4Tests {
    static let suiteCredentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteDate = Timestamp(rfc3339: "2015-08-30T12:36:00Z")!
    static let scope = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var query: [(name: String, value: String)]
        var headers: [(name: String, value: String)]
        var body: String
        var canonicalRequest: String
        var stringToSignHash: String
        var authorization: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "get-vanilla", method: "GET", query: [], headers: [("Host", "example.amazonaws.com")], body: "",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization:
                "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ),
        Vector(
            name: "get-vanilla-query-order-key-case", method: "GET",
            query: [("Param2", "value2"), ("Param1", "value1")],
            headers: [("Host", "example.amazonaws.com")], body: "",
            canonicalRequest: """
                GET
                /
                Param1=value1&Param2=value2
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            stringToSignHash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            authorization:
                "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        ),
        Vector(
            name: "post-vanilla", method: "POST", query: [], headers: [("Host", "example.amazonaws.com")], body: "",
            canonicalRequest: """
                POST
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            stringToSignHash: "",
            authorization:
                "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ),
        Vector(
            name: "post-x-www-form-urlencoded", method: "POST", query: [],
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com")],
            body: "Param1=value1",
            canonicalRequest: """
                POST
                /

                content-type:application/x-www-form-urlencoded
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                content-type;host;x-amz-date
                9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
                """,
            stringToSignHash: "",
            authorization:
                "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        ),
    ]

    @Test("AWS test suite vectors", arguments: vectors)
    func suiteVector(_ v: Vector) {
        let signer = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
        let signed = signer.sign(
            method: v.method, path: "/", query: v.query, headers: v.headers,
            payloadHash: SHA256.hash(Array(v.body.utf8)).hex, date: Self.suiteDate)
        #expect(signed.canonicalRequest == v.canonicalRequest)
        if !v.stringToSignHash.isEmpty {
            #expect(
                signed.stringToSign
                    == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(v.stringToSignHash)"
            )
        }
        #expect(signed.authorization == v.authorization)
        #expect(signed.headers.contains { $0.name == "x-amz-date" && $0.value == "20150830T123600Z" })
    }

    @Test("S3 GET Object example with Range and x-amz-content-sha256")
    func s3GetObjectExample() {
        let credentials = AWSCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
        let signed = signer.sign(
            method: "GET", path: "/test.txt",
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash),
            ],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Timestamp(rfc3339: "2013-05-24T00:00:00Z")!)
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test("a session token is sent and signed")
    func sessionToken() {
        var credentials = Self.suiteCredentials
        credentials.sessionToken = "token-value"
        let signed = SigV4Signer(credentials: credentials, region: "us-east-1").sign(
            method: "GET", path: "/", headers: [("host", "h")], payloadHash: SigV4Signer.emptyPayloadHash,
            date: Self.suiteDate)
        #expect(signed.headers.contains { $0.name == "x-amz-security-token" && $0.value == "token-value" })
        #expect(signed.authorization.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
    }

    @Test("URI encoding keeps unreserved characters and slashes in keys")
    func uriEncoding() {
        #expect(SigV4Signer.uriEncode("a b/ü~.-_", encodeSlash: false) == "a%20b/%C3%BC~.-_")
        #expect(SigV4Signer.uriEncode("a/b") == "a%2Fb")
        #expect(SigV4Signer.amzDate(Timestamp(nanoseconds: 1_440_938_160_999_999_999)) == "20150830T123600Z")
    }

    @Test("HMAC-SHA256 matches RFC 4231 test case 2")
    func hmac() {
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), "what do ya want for nothing?")
        #expect(Digest(bytes: mac)?.hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
