public import CASBridge
import FoundationEssentials
import GRPCCore

extension REAPIStore {
    /// GetActionResult for the synthetic Action of `actionID`, asking the server to
    /// inline the output: when it does, the contents are kept for the `readBlob` that
    /// follows a hit, which then needs no round trip.
    public func entry(for actionID: Digest) async throws -> ActionEntry? {
        let connection = try connection()
        let key = ActionMapping.actionKey(for: actionID)
        var request = Build_Bazel_Remote_Execution_V2_GetActionResultRequest()
        request.instanceName = endpoint.instanceName
        request.actionDigest = Self.digest(key.digest, key.size)
        request.inlineOutputFiles = [ActionMapping.outputPath]
        let metadata = self.metadata
        var result: Build_Bazel_Remote_Execution_V2_ActionResult
        do {
            result = try await rpc("GetActionResult of action \(actionID) (key \(key.digest))") { [request] options in
                try await connection.actionCache.getActionResult(request, metadata: metadata, options: options)
            }
        } catch let error as CASError where error.code == .notFound {
            return nil
        }
        var inlined: Data? = nil
        if result.outputFiles.count == 1 {
            inlined = result.outputFiles[0].contents
            result.outputFiles[0].contents = Data()
        }
        let bytes: [UInt8]
        do {
            bytes = try result.serializedBytes()
        } catch {
            throw CASError(.remote, "grpc: cannot re-encode the action result of \(actionID)", cause: error)
        }
        // Results that are not of the CASBridge form (several outputs, a failed action)
        // are misses.
        guard let entry = ActionMapping.entry(fromActionResult: bytes) else { return nil }
        learnSize(entry.outputID, entry.size)
        if let inlined { inline.keep(entry.outputID, Array(inlined), size: entry.size) }
        return entry
    }

    /// Uploads the Command and Action of `actionID` (the API requires them in the CAS),
    /// then UpdateActionResult with the entry as an ActionResult.
    public func record(_ entry: ActionEntry, for actionID: Digest) async throws {
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
                serializedBytes: ActionMapping.actionResult(for: entry))
        } catch {
            throw CASError(.malformedInput, "grpc: cannot encode the action result of \(actionID)", cause: error)
        }
        let metadata = self.metadata
        _ = try await rpc("UpdateActionResult of action \(actionID) (key \(key.digest))") { [request] options in
            try await connection.actionCache.updateActionResult(request, metadata: metadata, options: options)
        }
    }
}
