import COpenSSL

/// An Ed25519 public key in libcrypto (`EVP_PKEY`), for verifying entry signatures.
///
/// `@unchecked Sendable`: the key is never changed after creation, and libcrypto allows a
/// key to be used by several threads at once, each verification having a context of its own.
package final class Ed25519PublicKey: @unchecked Sendable {
    /// Bytes in a raw public key.
    package static let byteCount = 32
    /// Bytes in a signature.
    package static let signatureByteCount = 64

    private let key: OpaquePointer
    /// The 32 raw bytes of the key.
    package let bytes: [UInt8]

    /// The key of these 32 raw bytes; nil if libcrypto refuses them.
    package init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount,
            let key = bytes.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            })
        else { return nil }
        self.key = key
        self.bytes = bytes
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    package func verifies(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard signature.count == Self.signatureByteCount, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { return false }
        return signature.withUnsafeBufferPointer { s in
            message.withUnsafeBufferPointer { m in
                EVP_DigestVerify(context, s.baseAddress, s.count, m.baseAddress, m.count) == 1
            }
        }
    }
}
