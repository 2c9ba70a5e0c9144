import CASBridge
internal import CLibXML2

/// The XML error document an S3 server returns with a failed request:
/// `<Error><Code>…</Code><Message>…</Message>…</Error>`, parsed with libxml2.
public struct S3ErrorResponse: Sendable, Equatable {
    /// The S3 error code, such as `NoSuchBucket` or `SignatureDoesNotMatch`.
    public var code: String
    /// The human-readable message.
    public var message: String
    /// The region the server expected, when it says (`AuthorizationHeaderMalformed`, redirects).
    public var region: String?
    /// The request ID, for reports to the operator.
    public var requestID: String?

    /// Parses an error document; nil when `body` is not one.
    public init?(xml body: [UInt8]) {
        guard !body.isEmpty, body.count < 1 << 20, casb_xml_load() != 0 else { return nil }
        let options = Int32(
            XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
                | XML_PARSE_NOBLANKS.rawValue)
        let document: xmlDocPtr? = body.withUnsafeBytes { raw in
            raw.withMemoryRebound(to: CChar.self) { chars in
                casb_xml_read_memory(chars.baseAddress, Int32(chars.count), "s3-error.xml", options)
            }
        }
        guard let document else { return nil }
        defer { casb_xml_free_doc(document) }
        guard let root = casb_xml_root_element(document), Self.name(of: root) == "Error" else { return nil }
        var fields: [String: String] = [:]
        var child = root.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { fields[Self.name(of: node)] = Self.text(of: node) }
            child = node.pointee.next
        }
        guard let code = fields["Code"], !code.isEmpty else { return nil }
        self.code = code
        message = fields["Message"] ?? ""
        region = fields["Region"]
        requestID = fields["RequestId"]
    }

    /// Creates an error response from its parts.
    public init(code: String, message: String, region: String? = nil, requestID: String? = nil) {
        self.code = code
        self.message = message
        self.region = region
        self.requestID = requestID
    }

    private static func name(of node: xmlNodePtr) -> String {
        guard let name = node.pointee.name else { return "" }
        return String(cString: name)
    }

    /// The concatenated text and CDATA children of `node` (no allocation by libxml2).
    private static func text(of node: xmlNodePtr) -> String {
        var out = ""
        var child = node.pointee.children
        while let c = child {
            if c.pointee.type == XML_TEXT_NODE || c.pointee.type == XML_CDATA_SECTION_NODE,
                let content = c.pointee.content
            {
                out += String(cString: content)
            }
            child = c.pointee.next
        }
        return out
    }
}
