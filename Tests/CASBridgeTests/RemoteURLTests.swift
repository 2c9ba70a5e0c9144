import CASBridge
import Testing

@Suite("Remote URLs: the one parser")
struct RemoteURLTests {
    @Test("scheme, decoded userinfo, host, port, path and parameters")
    func parts() throws {
        let url = try RemoteURL("HTTPS://al%40ce:s3cr%2Ft@cache.example:8443/team/a%20b/?zstd=off&x=a+b%26c&flag")
        #expect(url.scheme == "https")
        #expect(url.user == "al@ce")
        #expect(url.password == "s3cr/t")
        #expect(url.host == "cache.example")
        #expect(url.port == 8443)
        #expect(url.encodedPath == "/team/a%20b/")
        #expect(url.path == "team/a b")
        #expect(url.parameters.map(\.name) == ["zstd", "x", "flag"])
        #expect(url.parameter("x") == "a b&c")
        #expect(url.parameter("flag") == "")
        #expect(url.authority == "cache.example:8443")
        let bare = try RemoteURL("grpc://h")
        #expect(bare.port == nil && bare.path.isEmpty && bare.encodedPath.isEmpty && bare.user == nil)
    }

    @Test("an IPv6 host is given without brackets and put back in them for URLs")
    func ipv6() throws {
        let url = try RemoteURL("grpc://[::1]:9092/inst")
        #expect(url.host == "::1")
        #expect(url.port == 9092)
        #expect(url.urlHost == "[::1]")
        #expect(url.authority == "[::1]:9092")
        #expect(url.path == "inst")
        #expect(try RemoteURL("http://[fe80::1]").port == nil)
    }

    @Test(
        "malformed URLs are refused naming the part that is wrong",
        arguments: [
            ("cache.example:80", "no scheme"),
            ("://h", "no scheme"),
            ("http://", "no host"),
            ("http://:80/x", "no host"),
            ("http://h:0", "port '0' is not a number from 1 to 65535"),
            ("http://h:65536", "port '65536' is not a number from 1 to 65535"),
            ("http://h:8o", "port '8o' is not a number from 1 to 65535"),
            ("http://h:", "port '' is not a number"),
            ("http://[::1", "unterminated IPv6 address"),
            ("http://[::1]x", "after the IPv6 address"),
            ("http://[host]", "is not an IPv6 address"),
            ("http://h/a%2", "malformed percent-encoding in the path"),
            ("http://h/?a=%zz", "malformed percent-encoding in the parameter"),
            ("http://h/#top", "a fragment"),
        ])
    func malformed(_ text: String, _ reason: String) {
        let error = #expect(throws: CASError.self) { try RemoteURL(text) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test(
        "a password never appears in an error, however the URL is broken",
        arguments: [
            "http://user:hunter2@h:99999/x",
            "http://user:hunter2@[::1/x",
            "http://user:hunt%2er2%zz@h/x",
            "http://user:hun/ter2@h/x",
            "ftp://user:hunter2@h/x",
            "http://user:hunter2@/x",
            "user:hunter2@h/x",
        ])
    func passwordNotEchoed(_ text: String) {
        var message: String?
        do {
            let url = try RemoteURL(text)
            try url.require(scheme: ["http"], form: "http://")
            try url.requireParameters(in: [])
            // Parsed: the redacted form must still hide the password.
            message = url.redacted
        } catch let error as CASError {
            message = error.description
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(message?.contains("hunter2") == false, "\(message ?? "")")
        #expect(message?.contains("hun") == false, "no piece of it either: \(message ?? "")")
        #expect(message?.contains("user") == true, "the user is named: \(message ?? "")")
    }

    @Test("redaction keeps everything but the password")
    func redaction() {
        #expect(RemoteURL.redact("https://u:p@h:1/x?y=z") == "https://u:***@h:1/x?y=z")
        #expect(RemoteURL.redact("https://h/x@y") == "https://h/x@y")
        // An '@' in the path could end a password with an unencoded '/': hidden too, rather than shown.
        #expect(RemoteURL.redact("https://h:1/x@y") == "https://h:***@y")
        #expect(RemoteURL.redact("https://token@h") == "https://token@h")
        #expect(RemoteConfiguration(url: "http://a:b@c").redactedURL == "http://a:***@c")
    }

    @Test("unknown schemes and parameters are named")
    func schemesAndParameters() throws {
        let url = try RemoteURL("ftp://h/x?colour=blue")
        let scheme = #expect(throws: CASError.self) { try url.require(scheme: ["http"], form: "http://") }
        #expect(scheme?.message.contains("the scheme 'ftp' is not http://") == true)
        let parameter = #expect(throws: CASError.self) { try url.requireParameters(in: ["zstd"]) }
        #expect(parameter?.message.contains("unknown parameter 'colour' (known: zstd)") == true)
    }

    @Test("an s3:// URL without a bucket is refused naming the bucket")
    func emptyHostForS3() {
        for text in ["s3://", "s3:///prefix", "s3://?region=x"] {
            let error = #expect(throws: CASError.self, "\(text)") { try RemoteURL(text) }
            #expect(error?.message.contains("no bucket") == true, "\(error?.message ?? "")")
        }
    }
}
