import CASBridge
import FoundationEssentials
import Glibc
import Logging

extension ServeSettings {
    /// Writes what a run reports: the `-v` line, `--stats-file`, a file in `--stats-dir`, `--metrics-file`
    /// and the store's run log. The helper calls this before it answers close, so all of it is on disk
    /// (and on stderr) by the time the go command can exit; none of it waits on the network.
    func report(_ statistics: HelperStatistics, remote: RemoteTier?, local: LocalStore, logger: Logger)
        -> RunRecord
    {
        if let reporting = remote?.store as? any CompressionReporting {
            let compression = reporting.compressionStatistics
            statistics.update { $0.remoteCompression = compression }
        }
        let corruptLocal = local.corruptBlobsRemoved
        if corruptLocal > 0 { statistics.add(.corruptBlobs, Int64(corruptLocal)) }
        var record = RunRecord(
            statistics.snapshot, elapsed: statistics.elapsed, cpuSeconds: ProcessCPU.seconds(),
            remoteName: remote?.store.name)
        record.peakRSSKiB = ProcessMemory.peakResidentKiB()
        if verbose || EnvironmentVariable.verbose.isTrue { logger.info("\(record.summaryLine)") }
        let statsPath = statsFile ?? EnvironmentVariable.statsFile.value
        let statsDirectory = statsDir ?? EnvironmentVariable.statsDir.value
        // Encoded only when asked for: this runs before close is answered, while the go command waits.
        var json: [UInt8] = []
        if statsPath != nil || statsDirectory != nil {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            json = (try? Array(encoder.encode(record)) + [0x0A]) ?? []
        }
        if let path = statsPath {
            do {
                try FileSystem.writeFileAtomically(path, json)
            } catch {
                logger.error("cannot write the stats file \(path): \(error)")
            }
        }
        if let directory = statsDirectory {
            // One file per run, renamed into place whole: a reader summing the directory's *.json
            // never sees a partial one, and runs sharing the directory never overwrite each other.
            let name = "\(record.time.filter { $0 != ":" })-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
            do {
                try FileSystem.makeDirectories(directory)
                try FileSystem.writeFileAtomically("\(directory)/\(name)", json)
            } catch {
                logger.error("cannot write the run's stats into \(directory): \(error)")
            }
        }
        if let file = metricsFile ?? EnvironmentVariable.metricsFile.value {
            do {
                try FileSystem.writeFileAtomically(file, Array(PrometheusExposition.text(record).utf8))
            } catch {
                logger.error("cannot write the metrics file \(file): \(error)")
            }
        }
        local.appendRun(record)
        return record
    }

    /// Pushes the run's metrics to `--metrics-push`; runs after close is answered, as it may wait on
    /// the network.
    func pushMetrics(_ record: RunRecord, logger: Logger) {
        guard let gateway = metricsPush ?? EnvironmentVariable.metricsPush.value else { return }
        let text = PrometheusExposition.text(record)
        let failure: String? = waitForTask {
            do {
                try await PrometheusExposition.push(text, to: gateway)
                return nil
            } catch {
                return "\(error)"
            }
        }
        if let failure { logger.warning("cannot push metrics: \(failure)") }
    }
}
