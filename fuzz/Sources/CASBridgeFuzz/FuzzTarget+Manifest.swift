import CASBridge
import Glibc

extension FuzzTarget {
    /// A warm manifest as read from a remote: decoded; one that decodes is re-encoded (which must
    /// decode to the same manifest) and planned from, as the next writer does.
    static func manifest(_ input: UnsafeRawBufferPointer) {
        guard let manifest = try? WarmManifest(decoding: [UInt8](input)) else { return }
        let again = try? WarmManifest(decoding: manifest.encoded())
        precondition(again == manifest, "a decoded manifest does not survive encoding")
        let plan = WarmManifest.plan(used: manifest.records, older: manifest)
        _ = plan.compressing(true)
        _ = manifest.removingSegments([0])
    }

    /// The local store that segment pieces are written to.
    nonisolated(unsafe) static var segmentStore: LocalStore? = nil

    /// A manifest, a `----` line, then a segment's bytes: the segment split into the local
    /// store by the manifest's placements, as a prefetch does, fed in uneven chunks.
    static func segment(_ input: UnsafeRawBufferPointer) {
        let (manifestBytes, segmentBytes) = halves(input)
        guard let manifest = try? WarmManifest(decoding: manifestBytes), !manifest.segments.isEmpty else { return }
        if segmentStore == nil {
            segmentStore = try? LocalStore(directory: "\(scratch)/store")
        }
        guard let local = segmentStore else { fatalError("cannot open a local store in \(scratch)") }
        _ = DecoderProbe.split(segment: segmentBytes, of: manifest, into: local)
    }
}
