import CASBridge
import CASBridgeS3
import CASBridgeTestSupport
import Foundation
import Testing

/// Credential chain, URL parsing and S3 error documents: no server needed.
@Suite("S3 configuration")
struct S3ConfigurationTests {
    /// A temporary HOME with `~/.aws/credentials` and `~/.aws/config`.
    final class AWSHome {
        let dir: TemporaryDirectory
        init(credentials: String?, config: String?) throws {
            dir = try TemporaryDirectory("aws-home")
            try FileManager.default.createDirectory(atPath: dir.sub(".aws"), withIntermediateDirectories: true)
            if let credentials {
                try credentials.write(toFile: dir.sub(".aws/credentials"), atomically: true, encoding: .utf8)
            }
            if let config { try config.write(toFile: dir.sub(".aws/config"), atomically: true, encoding: .utf8) }
        }
        func environment(_ variables: [String: String] = [:]) -> AWSEnvironment {
            AWSEnvironment(home: dir.path, variables: variables)
        }
    }

    static let credentialsFile = """
        # comment
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = secret-default

        [ci]
        aws_access_key_id=AKIDCI
        aws_secret_access_key=secret-ci ; inline comment
        aws_session_token = token-ci
        """
    static let configFile = """
        [default]
        region = eu-west-1

        [profile fromconfig]
        aws_access_key_id = AKIDCONFIG
        aws_secret_access_key = secret-config
        region = ap-south-1
        s3 =
          addressing_style = path

        [profile ci]
        region = us-west-2
        aws_access_key_id = AKIDSHADOWED
        """

    @Test("environment variables come first")
    func environmentFirst() throws {
        let home = try AWSHome(credentials: Self.credentialsFile, config: Self.configFile)
        let c = try AWSCredentials.resolve(
            home.environment([
                "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env", "AWS_SESSION_TOKEN": "tok",
                "AWS_PROFILE": "ci",
            ]))
        #expect(
            c
                == AWSCredentials(
                    accessKeyID: "AKIDENV", secretAccessKey: "secret-env", sessionToken: "tok", source: "environment"))
        #expect(!c.description.contains("secret-env"))
        #expect(!c.description.contains("tok"))
    }

    @Test("incomplete environment credentials are an error naming the missing variable")
    func incompleteEnvironment() throws {
        let home = try AWSHome(credentials: Self.credentialsFile, config: nil)
        #expect(throws: CASError.self) {
            try AWSCredentials.resolve(home.environment(["AWS_ACCESS_KEY_ID": "AKIDENV"]))
        }
    }

    @Test("the default profile, a named profile, and the credentials file over the config file")
    func profiles() throws {
        let home = try AWSHome(credentials: Self.credentialsFile, config: Self.configFile)
        let d = try AWSCredentials.resolve(home.environment())
        #expect(d.accessKeyID == "AKIDDEFAULT")
        #expect(d.secretAccessKey == "secret-default")
        #expect(d.sessionToken == nil)
        let ci = try AWSCredentials.resolve(home.environment(["AWS_PROFILE": "ci"]))
        #expect(ci.accessKeyID == "AKIDCI")
        #expect(ci.secretAccessKey == "secret-ci")
        #expect(ci.sessionToken == "token-ci")
        #expect(ci.source.contains(".aws/credentials"))
        let fromConfig = try AWSCredentials.resolve(home.environment(["AWS_PROFILE": "fromconfig"]))
        #expect(fromConfig.accessKeyID == "AKIDCONFIG")
        #expect(fromConfig.source.contains(".aws/config"))
    }

    @Test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE override the paths")
    func overriddenPaths() throws {
        let home = try AWSHome(credentials: nil, config: nil)
        let other = try TemporaryDirectory("aws-files")
        try "[x]\naws_access_key_id = AKIDX\naws_secret_access_key = sx\n".write(
            toFile: other.sub("creds"), atomically: true, encoding: .utf8)
        try "[profile y]\naws_access_key_id = AKIDY\naws_secret_access_key = sy\nregion = sa-east-1\n".write(
            toFile: other.sub("conf"), atomically: true, encoding: .utf8)
        let vars = ["AWS_SHARED_CREDENTIALS_FILE": other.sub("creds"), "AWS_CONFIG_FILE": other.sub("conf")]
        #expect(
            try AWSCredentials.resolve(home.environment(vars.merging(["AWS_PROFILE": "x"]) { $1 })).accessKeyID
                == "AKIDX")
        let y = home.environment(vars.merging(["AWS_PROFILE": "y"]) { $1 })
        #expect(try AWSCredentials.resolve(y).accessKeyID == "AKIDY")
        #expect(try S3Location(url: "s3://b", environment: y).region == "sa-east-1")
    }

    @Test("no credentials anywhere is an error that names where it looked")
    func none() throws {
        let home = try AWSHome(credentials: nil, config: nil)
        do {
            _ = try AWSCredentials.resolve(home.environment(["AWS_PROFILE": "nobody"]))
            Issue.record("expected an error")
        } catch let error as CASError {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("nobody"))
            #expect(error.message.contains(".aws/credentials"))
        }
    }

    @Test("AWS URLs are virtual-hosted; region from the URL, then AWS_REGION, AWS_DEFAULT_REGION, the profile")
    func awsAddressing() throws {
        let home = try AWSHome(credentials: nil, config: Self.configFile)
        let plain = try S3Location(url: "s3://my-bucket/some/prefix/", environment: home.environment())
        #expect(plain.bucket == "my-bucket")
        #expect(plain.prefix == "some/prefix")
        #expect(plain.region == "eu-west-1")  // the default profile's region
        #expect(!plain.pathStyle)
        #expect(plain.host == "my-bucket.s3.eu-west-1.amazonaws.com")
        #expect(plain.path(forKey: plain.key("cas", "ab")) == "/some/prefix/cas/ab")
        #expect(plain.url(path: "/x") == "https://my-bucket.s3.eu-west-1.amazonaws.com/x")

        let env = home.environment(["AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-1"])
        #expect(try S3Location(url: "s3://b1b", environment: env).region == "us-east-2")
        #expect(
            try S3Location(url: "s3://b1b", environment: home.environment(["AWS_DEFAULT_REGION": "us-west-1"])).region
                == "us-west-1")
        #expect(try S3Location(url: "s3://b1b?region=ca-central-1", environment: env).region == "ca-central-1")
        #expect(
            try S3Location(url: "s3://b1b", environment: AWSEnvironment(home: "/nonexistent", variables: [:])).region
                == "us-east-1")

        let forced = try S3Location(url: "s3://my-bucket/p?path_style=true", environment: env)
        #expect(forced.pathStyle)
        #expect(forced.host == "s3.us-east-2.amazonaws.com")
        #expect(forced.path(forKey: forced.key("ac", "cd")) == "/my-bucket/p/ac/cd")
        // Dotted bucket names cannot be TLS host names: path style.
        #expect(try S3Location(url: "s3://my.bucket", environment: env).pathStyle)
    }

    @Test("custom endpoints are path-style; endpoint from the URL, then AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL")
    func customEndpoints() throws {
        let env = AWSEnvironment(
            home: "/nonexistent",
            variables: [
                "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8333", "AWS_ENDPOINT_URL": "https://generic.example:9000",
            ])
        let fromS3Variable = try S3Location(url: "s3://cache", environment: env)
        #expect(fromS3Variable.pathStyle)
        #expect(fromS3Variable.scheme == "http")
        #expect(fromS3Variable.host == "127.0.0.1:8333")
        #expect(
            fromS3Variable.url(path: fromS3Variable.path(forKey: fromS3Variable.key("cas", "ff")))
                == "http://127.0.0.1:8333/cache/cas/ff")

        let generic = try S3Location(
            url: "s3://cache",
            environment: AWSEnvironment(
                home: "/nonexistent", variables: ["AWS_ENDPOINT_URL": "https://generic.example:9000/"]))
        #expect(generic.host == "generic.example:9000")
        #expect(generic.scheme == "https")

        let fromURL = try S3Location(
            url: "s3://cache/pre?endpoint=http%3A%2F%2Flocalhost%3A9000&region=auto", environment: env)
        #expect(fromURL.host == "localhost:9000")
        #expect(fromURL.region == "auto")
        let virtual = try S3Location(
            url: "s3://cache?endpoint=https://minio.example&path_style=false", environment: env)
        #expect(virtual.host == "cache.minio.example")
        #expect(virtual.path(forKey: "cas/x") == "/cas/x")
        #expect(virtual.compresses, "zstd=on by default")
        #expect(try !S3Location(url: "s3://cache?zstd=off", environment: env).compresses)
        #expect(try S3Location(url: "s3://cache?zstd=ON", environment: env).compresses)
    }

    @Test(
        "malformed s3 URLs are rejected with the reason",
        arguments: [
            "s3://", "s3:///prefix", "s3://b?colour=blue", "s3://b?path_style=maybe", "s3://b?endpoint=ftp://x",
            "s3://b?endpoint=http://h:99999", "s3://bad%bucket", "s3://b?zstd=auto", "s3://b?region=eu%2",
            "s3://b?region=%zz",
        ])
    func malformed(_ url: String) {
        #expect(throws: CASError.self) {
            try S3Location(url: url, environment: AWSEnvironment(home: "/x", variables: [:]))
        }
    }

    @Test("S3 error documents: code, message, region")
    func errorDocuments() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><StringToSign>AWS4-HMAC-SHA256 …</StringToSign><RequestId>4442587FB7D0A2F9</RequestId></Error>
            """
        let parsed = S3ErrorResponse(xml: Array(xml.utf8))
        #expect(parsed?.code == "SignatureDoesNotMatch")
        #expect(parsed?.message.hasPrefix("The request signature we calculated") == true)
        #expect(parsed?.requestID == "4442587FB7D0A2F9")
        let redirect = S3ErrorResponse(
            xml: Array(
                "<Error><Code>AuthorizationHeaderMalformed</Code><Message>wrong region</Message><Region>eu-central-1</Region></Error>"
                    .utf8))
        #expect(redirect?.region == "eu-central-1")
        let noBucket = S3ErrorResponse(
            xml: Array(
                "<Error>\n  <Code>NoSuchBucket</Code>\n  <Message><![CDATA[The specified bucket does not exist]]></Message>\n</Error>"
                    .utf8))
        #expect(noBucket == S3ErrorResponse(code: "NoSuchBucket", message: "The specified bucket does not exist"))
        #expect(S3ErrorResponse(xml: Array("<html><body>Bad gateway</body></html>".utf8)) == nil)
        #expect(S3ErrorResponse(xml: Array("not xml at all <".utf8)) == nil)
        #expect(S3ErrorResponse(xml: []) == nil)
        #expect(S3ErrorResponse(xml: Array("<Error><Message>no code</Message></Error>".utf8)) == nil)
    }
}
