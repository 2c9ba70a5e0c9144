public import CASBridge
import FoundationEssentials
import GRPCCore

extension REAPIStore {
    /// GetActionResult for the synthetic Action of `actionID`, asking the server to
    /// inline the output: when it does, the contents are kept for the `readBlob` that
    /// follows a hit, which then needs no round trip.
    public func entry(for actionID: Digest) async throws -> ActionEntry? {
        guard var result = try await actionResult(for: actionID) else { return nil }
        var inlined: Data? = nil
        if result.outputFiles.count == 1 {
            inlined = result.outputFiles[0].contents
            result.outputFiles[0].contents = Data()
        }
        // Results that are not of the CASBridge form (several outputs, a failed action)
        // are misses.
        guard let entry = ActionMapping.entry(fromActionResult: try encoded(result, of: actionID)) else {
            return nil
        }
        learnSize(entry.outputID, entry.size)
        if let inlined { inline.keep(entry.outputID, Array(inlined), size: entry.size) }
        return entry
    }

    /// The entry recorded for `actionID` and the blobs its ActionResult carries (the
    /// output's inlined contents and the attachments in its metadata).
    public func entryWithAttachments(for actionID: Digest) async throws -> (
        entry: ActionEntry, attached: [AttachedBlob]
    )? {
        guard let result = try await actionResult(for: actionID) else { return nil }
        let bytes = try encoded(result, of: actionID)
        guard let entry = ActionMapping.entry(fromActionResult: bytes) else { return nil }
        learnSize(entry.outputID, entry.size)
        return (entry, ActionMapping.attachments(fromActionResult: bytes, entry: entry))
    }

    /// GetActionResult for the synthetic Action of `actionID`, with the output inlined if
    /// the server does that; nil when there is none.
    private func actionResult(for actionID: Digest) async throws -> Build_Bazel_Remote_Execution_V2_ActionResult? {
        let connection = try connection()
        let key = ActionMapping.actionKey(for: actionID)
        var request = Build_Bazel_Remote_Execution_V2_GetActionResultRequest()
        request.instanceName = endpoint.instanceName
        request.actionDigest = Self.digest(key.digest, key.size)
        request.inlineOutputFiles = [ActionMapping.outputPath]
        let metadata = self.metadata
        do {
            return try await rpc("GetActionResult of action \(actionID) (key \(key.digest))") { [request] options in
                try await connection.actionCache.getActionResult(request, metadata: metadata, options: options)
            }
        } catch let error as CASError where error.code == .notFound {
            return nil
        }
    }

    private func encoded(_ result: Build_Bazel_Remote_Execution_V2_ActionResult, of actionID: Digest) throws -> [UInt8]
    {
        do {
            return try result.serializedBytes()
        } catch {
            throw CASError(.remote, "grpc: cannot re-encode the action result of \(actionID)", cause: error)
        }
    }

    /// Uploads the Command and Action of `actionID` (the API requires them in the CAS),
    /// then UpdateActionResult with the entry as an ActionResult.
    public func record(_ entry: ActionEntry, for actionID: Digest) async throws {
        try await record(entry, for: actionID, attaching: [])
    }

    /// `record(_:for:)` with `blobs` carried in the ActionResult
    /// (`ActionMapping.actionResult(for:attaching:)`).
    public func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws {
        let command = ActionMapping.command(for: actionID)
        let action = ActionMapping.action(for: actionID)
        let key = (digest: SHA256.hash(action), size: Int64(action.count))
        try await batchUpdate([(SHA256.hash(command), command), (key.digest, action)])
        let connection = try connection()
        var request = Build_Bazel_Remote_Execution_V2_UpdateActionResultRequest()
        request.instanceName = endpoint.instanceName
        request.actionDigest = Self.digest(key.digest, key.size)
        do {
            request.actionResult = try Build_Bazel_Remote_Execution_V2_ActionResult(
                serializedBytes: ActionMapping.actionResult(for: entry, attaching: blobs))
        } catch {
            throw CASError(.malformedInput, "grpc: cannot encode the action result of \(actionID)", cause: error)
        }
        let metadata = self.metadata
        _ = try await rpc("UpdateActionResult of action \(actionID) (key \(key.digest))") { [request] options in
            try await connection.actionCache.updateActionResult(request, metadata: metadata, options: options)
        }
    }
}
