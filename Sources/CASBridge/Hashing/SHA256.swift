internal import COpenSSL

/// Incremental SHA-256 over OpenSSL's libcrypto, which uses the CPU's SHA extensions.
public struct SHA256: ~Copyable {
    private let context: OpaquePointer

    /// Starts a new hash.
    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Adds bytes to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Adds bytes to the hash.
    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Finishes the hash and returns the digest.
    public consuming func finalize() -> Digest {
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &out) { raw in
            var length: UInt32 = 0
            _ = EVP_DigestFinal_ex(
                context, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
        }
        return withUnsafeBytes(of: &out) { Digest(rawBytes: $0) }
    }

    /// The SHA-256 of `bytes`.
    public static func hash(_ bytes: some ContiguousBytes) -> Digest {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }
}

/// Types whose bytes are contiguous in memory.
public protocol ContiguousBytes {
    /// Calls `body` with the bytes.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}
extension UnsafeRawBufferPointer: ContiguousBytes {
    /// Calls `body` with the buffer itself.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(self)
    }
}
