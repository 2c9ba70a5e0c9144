import COpenSSL

/// An Ed25519 private key in libcrypto (`EVP_PKEY`), for signing entries. Its secret never
/// leaves libcrypto except through `secretKeyBytes` (written once, by `keygen`), and its
/// description names no secret.
///
/// `@unchecked Sendable`: the key is never changed after creation, and libcrypto allows a
/// key to be used by several threads at once, each signature having a context of its own.
package final class Ed25519PrivateKey: @unchecked Sendable, CustomStringConvertible {
    /// Bytes in a seed, the private key proper.
    package static let seedByteCount = 32

    private let key: OpaquePointer
    /// The matching public key.
    package let publicKey: Ed25519PublicKey

    /// The key of a 32-byte seed; nil if libcrypto refuses it.
    package convenience init?(seed: [UInt8]) {
        guard seed.count == Self.seedByteCount,
            let key = seed.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            })
        else { return nil }
        self.init(key: key)
    }

    /// A new random key from libcrypto's generator; nil if libcrypto fails.
    package static func generate() -> Ed25519PrivateKey? {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_keygen(context, &key) == 1, let key else { return nil }
        return Ed25519PrivateKey(key: key)
    }

    private init?(key: OpaquePointer) {
        var raw = [UInt8](repeating: 0, count: Ed25519PublicKey.byteCount)
        var length = raw.count
        guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1, length == raw.count,
            let publicKey = Ed25519PublicKey(bytes: raw)
        else {
            EVP_PKEY_free(key)
            return nil
        }
        self.key = key
        self.publicKey = publicKey
    }

    deinit { EVP_PKEY_free(key) }

    /// The Ed25519 signature (64 bytes) of `message`.
    package func sign(_ message: [UInt8]) -> [UInt8]? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1 else { return nil }
        var signature = [UInt8](repeating: 0, count: Ed25519PublicKey.signatureByteCount)
        var length = signature.count
        let ok = message.withUnsafeBufferPointer { m in
            EVP_DigestSign(context, &signature, &length, m.baseAddress, m.count) == 1
        }
        return ok && length == signature.count ? signature : nil
    }

    /// The secret key as Nix writes it: the 32-byte seed, then the 32-byte public key.
    package var secretKeyBytes: [UInt8]? {
        var seed = [UInt8](repeating: 0, count: Self.seedByteCount)
        var length = seed.count
        guard EVP_PKEY_get_raw_private_key(key, &seed, &length) == 1, length == seed.count else { return nil }
        return seed + publicKey.bytes
    }

    package var description: String { "Ed25519PrivateKey(public: \(Base64.encode(publicKey.bytes)))" }
}
