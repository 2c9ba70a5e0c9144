import CASBridge
public import Foundation

/// SHA-256 for test data.
public enum SHA256Digest {
    /// The 32 bytes of sha256(`data`).
    public static func of(_ data: Data) -> [UInt8] {
        SHA256.hash(Array(data)).bytes
    }

    /// Lowercase hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
