import ArgumentParser
import CASBridge
import FoundationEssentials
import Glibc
import Logging

/// What `serve` runs with: its flags as plain values (nil: not given), environment variables and defaults
/// are applied by `run`.
struct ServeSettings: Equatable {
    var dir: String?
    var remote: String?
    var remoteRead: [String] = []
    var remoteMode: String?
    var uploadTimeout: String?
    var insecure = false
    var verbose = false
    var statsFile: String?
    var statsDir: String?
    var metricsFile: String?
    var metricsPush: String?
    var maxSize: String?
    var maxAge: String?
    var trimInterval: String?
    var manifest: String?
    var trust = TrustSettings()

    func run() throws {
        // A go command that went away must not kill the helper mid-write: EPIPE is handled.
        signal(SIGPIPE, SIG_IGN)
        ProcessMemory.reuseFreedMemory()
        let verbose = self.verbose || EnvironmentVariable.verbose.isTrue
        var logger = Logger(label: "cacheprog")
        logger.logLevel = verbose ? .info : .notice

        let policy = TrimPolicy(
            maxSize: try Parsing.size(maxSize ?? EnvironmentVariable.maxSize.value ?? "10GiB", what: "--max-size"),
            maxAge: try Parsing.duration(maxAge ?? EnvironmentVariable.maxAge.value ?? "7d", what: "--max-age"))
        let interval = try Parsing.duration(
            trimInterval ?? EnvironmentVariable.trimInterval.value ?? "1h", what: "--trim-interval")
        if let raw = EnvironmentVariable.directWrites.value,
            try !Parsing.toggle(raw, what: EnvironmentVariable.directWrites.rawValue)
        {
            BlobFileWriter.turnOffDirectWrites()
        }
        var options = HelperServer.Options()
        let timeout = try Parsing.duration(
            uploadTimeout ?? EnvironmentVariable.uploadTimeout.value ?? "5s", what: "--upload-timeout")
        options.uploadTimeout = timeout

        let local = try StoreOptions.openStore(at: StoreOptions.directory(dir))
        let statistics = HelperStatistics()
        let remoteTier = try makeRemote(statistics: statistics, logger: logger)
        let server = HelperServer(
            local: local, remote: remoteTier, statistics: statistics, options: options, logger: logger)
        // Everything the run reports is written before close is answered: a go command whose process
        // group ends with it must still find it.
        var reported: RunRecord?
        server.willAnswerClose = {
            reported = report(statistics, remote: remoteTier, local: local, logger: logger)
        }
        let outcome = server.run()
        if case .malformed(let message) = outcome {
            logger.critical("cacheprog: \(message)")
            throw ExitCode(2)
        }
        let record = reported ?? report(statistics, remote: remoteTier, local: local, logger: logger)
        // The go command waits only for stdout to close: housekeeping happens after.
        close(1)
        pushMetrics(record, logger: logger)
        if interval > .zero, case .closed = outcome,
            let report = local.trimIfDue(interval: interval, policy: policy)
        {
            logger.info(
                "automatic trim: removed \(report.blobsRemoved) blobs (\(report.bytesRemoved) bytes), kept \(report.entriesAfter) entries"
            )
        } else {
            // A trim compacts too; otherwise fold a long journal into the table.
            local.compactIfDue()
        }
    }

    func makeRemote(statistics: HelperStatistics, logger: Logger) throws -> RemoteTier? {
        // Checked with or without a remote: a wrong trust setting is an error wherever it is given.
        let trust = try self.trust.resolve()
        guard let url = remote ?? EnvironmentVariable.remote.value else { return nil }
        let modeText = remoteMode ?? EnvironmentVariable.remoteMode.value ?? "readwrite"
        guard let mode = RemoteMode(rawValue: modeText) else {
            throw ValidationError("--remote-mode: '\(modeText)' is not readwrite or readonly")
        }
        let readURLs =
            remoteRead.isEmpty
            ? RemoteConfiguration.parseURLList(EnvironmentVariable.remoteRead.value ?? "") : remoteRead
        // Every layer is verified on its own, so an untrusted entry in one falls through to the next.
        let report = UntrustedEntryReport(statistics: statistics, logger: logger)
        do {
            let written = trust.wrap(try remoteConfiguration(url).makeStore(), report: report)
            var readOnly: [any CacheStore] = []
            for readURL in readURLs {
                do {
                    readOnly.append(trust.wrap(try remoteConfiguration(readURL).makeStore(), report: report))
                } catch {
                    throw ValidationError("--remote-read: \(error)")
                }
            }
            let store = readOnly.isEmpty ? written : LayeredStore(written: written, readOnly: readOnly)
            let backend = InstrumentedStore(store, statistics: statistics)
            let manifestName = manifest ?? EnvironmentVariable.manifest.value ?? "default"
            return RemoteTier(
                store: backend, mode: mode, statistics: statistics, logger: logger,
                manifestName: manifestName == "off" ? nil : manifestName)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("--remote: \(error)")
        }
    }

    /// The configuration of the remote at `url`, with the flags and variables every remote shares.
    func remoteConfiguration(_ url: String) throws -> RemoteConfiguration {
        var configuration = RemoteConfiguration(url: url)
        configuration.insecure = insecure
        if let t = EnvironmentVariable.remoteTimeout.value {
            let timeout = try Parsing.duration(t, what: EnvironmentVariable.remoteTimeout.rawValue)
            guard timeout > .zero else {
                throw ValidationError("\(EnvironmentVariable.remoteTimeout.rawValue) must be positive")
            }
            configuration.requestTimeout = timeout
        }
        if let h = EnvironmentVariable.httpHeaders.value {
            configuration.httpHeaders = try RemoteConfiguration.parseHeaders(h)
        }
        if let h = EnvironmentVariable.grpcHeaders.value {
            configuration.grpcHeaders = try RemoteConfiguration.parseHeaders(h)
        }
        return configuration
    }
}
