import CASBridgeTestSupport
import Synchronization
import Testing

@testable import CASBridge

@Suite("SegmentSplitter")
struct SegmentSplitterTests {
    static func piece(_ text: String, at offset: Int64) -> SegmentSplitter.Piece {
        let bytes = Array(text.utf8)
        return SegmentSplitter.Piece(
            offset: offset, entry: ActionEntry(outputID: SHA256.hash(bytes), size: Int64(bytes.count), time: .now()))
    }

    static func feed(_ splitter: SegmentSplitter, _ segment: [UInt8], chunk: Int) throws {
        try splitter.restart()
        var at = 0
        while at < segment.count {
            let end = min(segment.count, at + chunk)
            try segment[at..<end].withUnsafeBytes { try splitter.write($0) }
            at = end
        }
        splitter.finish()
    }

    @Test(
        "stores each asked-for piece, verified, whatever the chunking; skips gaps and pieces not asked for",
        arguments: [1, 3, 7, 1000])
    func splits(chunk: Int) throws {
        let dir = try TemporaryDirectory("splitter")
        let local = try LocalStore(directory: dir.sub("store"))
        let segment = Array("alpha|beta|gamma|delta".utf8)
        let pieces = [Self.piece("gamma", at: 11), Self.piece("alpha", at: 0), Self.piece("delta", at: 17)]
        let splitter = SegmentSplitter(pieces: pieces, local: local)
        try Self.feed(splitter, segment, chunk: chunk)
        #expect(splitter.published == [pieces[1], pieces[0], pieces[2]].map(\.entry.outputID), "in segment order")
        #expect(splitter.publishedBytes == 15 && splitter.corrupt.isEmpty)
        for p in pieces {
            #expect(try FileSystem.readFile(local.blobPath(p.entry.outputID)) == Array(Self.text(p, in: segment)))
        }
        #expect(!local.hasBlob(SHA256.hash(Array("beta".utf8))), "not asked for")
    }

    static func text(_ p: SegmentSplitter.Piece, in segment: [UInt8]) -> ArraySlice<UInt8> {
        segment[Int(p.offset)..<Int(p.offset + p.entry.size)]
    }

    @Test("each stored piece is announced at once, before the rest of the segment arrives; damaged ones are not")
    func announcesPieces() throws {
        let dir = try TemporaryDirectory("splitter")
        let local = try LocalStore(directory: dir.sub("store"))
        let pieces = [Self.piece("alpha", at: 0), Self.piece("beta", at: 6), Self.piece("gamma", at: 11)]
        let announced = Mutex<[Digest]>([])
        let splitter = SegmentSplitter(pieces: pieces, local: local) { digest in
            #expect(local.hasBlob(digest), "announced only once it is in the store")
            announced.withLock { $0.append(digest) }
        }
        try splitter.restart()
        try Array("alpha|bXta|ga".utf8).withUnsafeBytes { try splitter.write($0) }
        #expect(announced.withLock { $0 } == [pieces[0].entry.outputID], "alpha, while gamma is still coming")
        try Array("mma".utf8).withUnsafeBytes { try splitter.write($0) }
        splitter.finish()
        #expect(announced.withLock { $0 } == [pieces[0], pieces[2]].map(\.entry.outputID))
    }

    @Test("a damaged piece is counted and never stored; the others still are")
    func damaged() throws {
        let dir = try TemporaryDirectory("splitter")
        let local = try LocalStore(directory: dir.sub("store"))
        let pieces = [Self.piece("alpha", at: 0), Self.piece("beta", at: 6)]
        let splitter = SegmentSplitter(pieces: pieces, local: local)
        try Self.feed(splitter, Array("alpha|bXta".utf8), chunk: 4)
        #expect(splitter.published == [pieces[0].entry.outputID])
        #expect(splitter.corrupt == [pieces[1].entry.outputID])
        #expect(!local.hasBlob(pieces[1].entry.outputID))
        let shard = dir.sub("store/v1/blobs/\(pieces[1].entry.outputID.hex.prefix(2))")
        #expect(FileSystem.list(shard).allSatisfy { !$0.hasPrefix(".tmp") }, "no temporary file left")
    }

    @Test("a segment cut short stores the whole pieces and leaves no partial one; a restart starts over")
    func truncatedThenRestarted() throws {
        let dir = try TemporaryDirectory("splitter")
        let local = try LocalStore(directory: dir.sub("store"))
        let pieces = [Self.piece("alpha", at: 0), Self.piece("gamma-delta", at: 6)]
        let splitter = SegmentSplitter(pieces: pieces, local: local)
        try splitter.restart()
        try Array("alpha|gamma".utf8).withUnsafeBytes { try splitter.write($0) }
        #expect(splitter.published == [pieces[0].entry.outputID])
        try Self.feed(splitter, Array("alpha|gamma-delta".utf8), chunk: 5)
        #expect(splitter.published == pieces.map(\.entry.outputID), "the retry stores the rest, alpha once")
        #expect(splitter.corrupt.isEmpty)
        let shard = dir.sub("store/v1/blobs/\(pieces[1].entry.outputID.hex.prefix(2))")
        #expect(FileSystem.list(shard).allSatisfy { !$0.hasPrefix(".tmp") }, "no temporary file left")
    }
}
