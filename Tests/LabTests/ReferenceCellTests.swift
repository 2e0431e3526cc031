import Foundation
import LabStore
import Reporting
import ReportingSynthetic
import Testing

@testable import Lab

/// `minMeasuredSeconds`, and `wrk` as a reference engine: spec checks, wrk's output, a real sweep, the report.
@Suite(.timeLimit(.minutes(2))) struct ReferenceCellTests {
    private func spec(_ extra: String, engines: String = #"["async"]"#, quick: Bool = false) throws(SpecErrors)
        -> ExperimentSpec
    {
        try ExperimentSpec.parse(
            text: #"{"name":"x","question":"q","engines":\#(engines),"axes":{"concurrency":[1,2]}\#(extra)}"#,
            path: "x.json", quick: quick)
    }

    private func errors(_ extra: String, engines: String = #"["async"]"#, quick: Bool = false) -> [SpecError] {
        do {
            _ = try spec(extra, engines: engines, quick: quick)
            return []
        } catch {
            return error.errors
        }
    }

    // MARK: minMeasuredSeconds

    @Test func minMeasuredSecondsIsReadAndChangesNoCellIdOrSeed() throws {
        let plain = try spec("")
        let timed = try spec(#","minMeasuredSeconds":1.5"#)
        #expect(plain.minMeasuredSeconds == nil)
        #expect(timed.minMeasuredSeconds == 1.5)
        #expect(timed.referenceSeconds == 2)
        #expect(plain.referenceSeconds == 1)
        #expect(timed.grid().map(\.key) == plain.grid().map(\.key))
        #expect(timed.grid().map { $0.seed(master: 1) } == plain.grid().map { $0.seed(master: 1) })
        let configuration = timed.grid()[0].engineConfiguration(
            baseURL: "http://127.0.0.1:1", requests: 10, warmup: 0, seed: 1,
            minMeasuredSeconds: timed.minMeasuredSeconds)
        #expect(configuration.minimumMeasuredDuration == .milliseconds(1500))
        #expect(
            plain.grid()[0].engineConfiguration(baseURL: "http://127.0.0.1:1", requests: 10, warmup: 0, seed: 1)
                .minimumMeasuredDuration == nil)
    }

    @Test func theQuickProfileOverridesMinMeasuredSeconds() throws {
        let text = #","minMeasuredSeconds":3,"quick":{"minMeasuredSeconds":0.25}"#
        #expect(try spec(text).minMeasuredSeconds == 3)
        #expect(try spec(text, quick: true).minMeasuredSeconds == 0.25)
        #expect(try spec(#","quick":{"requests":5}"#, quick: true).minMeasuredSeconds == nil)
        let switchedOff = #","minMeasuredSeconds":3,"quick":{"minMeasuredSeconds":null}"#
        #expect(try spec(switchedOff).minMeasuredSeconds == 3)
        #expect(try spec(switchedOff, quick: true).minMeasuredSeconds == nil)
    }

    @Test(arguments: [
        (#","minMeasuredSeconds":0"#, "minMeasuredSeconds", "0 is out of range"),
        (#","minMeasuredSeconds":-2"#, "minMeasuredSeconds", "-2 is out of range"),
        (#","minMeasuredSeconds":100000"#, "minMeasuredSeconds", "100000 is out of range"),
        (#","minMeasuredSeconds":"2""#, "minMeasuredSeconds", "found the string \"2\""),
        (#","minMeasuredSeconds":true"#, "minMeasuredSeconds", "found true"),
        (#","quick":{"minMeasuredSeconds":0}"#, "quick.minMeasuredSeconds", "0 is out of range"),
    ])
    func badMinMeasuredSecondsIsRefusedByName(extra: String, keyPath: String, fragment: String) {
        let found = errors(extra)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.keyPath == keyPath)
        #expect(found.first?.message.contains(fragment) == true, "\(found)")
        #expect(found.first?.message.contains("a number of seconds above 0") == true, "\(found)")
    }

    // MARK: wrk in specs

    @Test func wrkIsAnEngineOfTheGridWithTheSameKeyScheme() throws {
        let spec = try spec("", engines: #"["async","wrk"]"#)
        #expect(spec.engines == [.async, .wrk])
        let wrk = spec.grid().filter { $0.engine == .wrk }
        #expect(wrk.map(\.concurrency) == [1, 2])
        #expect(wrk.allSatisfy { $0.parameters.engine == "wrk" })
        // Apart from the engine, its parameters are the async cell's at the same point.
        let async = spec.grid().filter { $0.engine == .async }
        for (a, w) in zip(async, wrk) {
            var parameters = w.parameters
            parameters[key: "engine"] = .string("async")
            #expect(parameters == a.parameters)
        }
    }

    @Test func wrkIsRefusedWithAnOpenLoop() {
        let found = errors(#","fixed":{"load":"poisson","rate":100}"#, engines: #"["async","wrk"]"#)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.keyPath == "fixed.load")
        #expect(found.first?.message.contains("wrk runs closed loop only") == true, "\(found)")
        // The same open loop without wrk is fine; so is wrk filtered out of the open-loop cells.
        #expect(errors(#","fixed":{"load":"poisson","rate":100}"#).isEmpty)
        #expect(
            errors(
                #","axes":{"concurrency":[1],"load":["closed","fixed"]},"fixed":{"rate":100},"filters":[{"engine":"wrk","load":"fixed"}]"#
                    .replacingOccurrences(of: #","axes":{"concurrency":[1],"#, with: #","axes":{"#),
                engines: #"["async","wrk"]"#
            ).filter { $0.message.contains("wrk") }.isEmpty)
    }

    @Test func wrkIsRefusedWithRetriesOrABreaker() {
        let retries = errors(#","fixed":{"backoff":"full"}"#, engines: #"["async","wrk"]"#)
        #expect(retries.contains { $0.keyPath == "fixed.backoff" && $0.message.contains("wrk never retries") })
        let breaker = errors(#","fixed":{"breaker":"on"}"#, engines: #"["async","wrk"]"#)
        #expect(breaker.contains { $0.keyPath == "fixed.breaker" && $0.message.contains("no circuit breaker") })
    }

    @Test func aSpecListingWrkIsRefusedBeforeTheSweepWhenWrkIsMissing() async throws {
        let folder = try temporaryFolder()
        let path = try writeSpec(
            #"{"name":"refwrk","question":"q","engines":["async","wrk"],"fixed":{"concurrency":2}}"#)
        var options = RunOptions(specPaths: [path])
        options.databasePath = folder + "/lab.sqlite"
        options.mockServerPath = Built.folder + "/mock-server"
        options.cellExecutable = Built.experiments
        options.pin = false
        options.findTool = { _ in nil }
        do {
            _ = try await ExperimentRunner(options: options).run { _ in }
            Issue.record("a spec listing wrk ran without wrk")
        } catch let error as SpecErrors {
            #expect(error.errors.count == 1)
            #expect(error.errors.first?.keyPath == "engines[1]")
            #expect(error.description.contains("wrk is not installed"))
            #expect(error.description.contains("apt-get install wrk"))
        }
        #expect(!FileManager.default.fileExists(atPath: options.databasePath), "refused before the database")
        // A dry run needs no wrk.
        options.dryRun = true
        _ = try await ExperimentRunner(options: options).run { _ in }
    }

    @Test func wrkArgumentsFollowTheCell() throws {
        let spec = try spec(#","fixed":{"pooling":"naive","timeoutMs":2500,"path":"/bytes/10"}"#, engines: #"["wrk"]"#)
        let cell = try #require(spec.grid().first { $0.concurrency == 2 })
        let wrk = WrkCell(executable: "/usr/bin/wrk", cell: cell, spec: spec, baseURL: "http://127.0.0.1:8080")
        #expect(
            wrk.arguments(seconds: 3) == [
                "-t1", "-c2", "-d3s", "--latency", "--timeout", "3s", "-H", "Connection: close",
                "http://127.0.0.1:8080/bytes/10",
            ])
    }

    // MARK: wrk's output

    static let sample = """
        Running 1s test @ http://127.0.0.1:18931/get
          1 threads and 2 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency   504.50us  290.15us   6.11ms   83.30%
            Req/Sec     4.05k   730.13     4.79k    54.55%
          Latency Distribution
             50%  459.00us
             75%  630.00us
             90%  708.00us
             99%    1.09ms
          4426 requests in 1.10s, 746.02KB read
          Non-2xx or 3xx responses: 425
          Socket errors: connect 0, read 2, write 0, timeout 1
        Requests/sec:   4023.63
        Transfer/sec:    678.20KB
        """

    @Test func wrkOutputIsParsed() throws {
        let figures = try WrkOutput.parse(Self.sample)
        #expect(figures.requests == 4426)
        #expect(figures.requestsPerSecond == 4023.63)
        #expect(abs(figures.p50Ns - 459_000) < 1e-6)
        #expect(abs(figures.p99Ns - 1_090_000) < 1e-6)
        #expect(figures.errors == 428)
        #expect(WrkOutput.nanoseconds("2.50s") == 2.5e9)
        #expect(WrkOutput.nanoseconds("1.00m") == 60e9)
    }

    @Test func wrkOutputWithoutTheLatencyDistributionIsAnError() {
        let text = Self.sample.split(separator: "\n").filter { !$0.contains("%  ") }.joined(separator: "\n")
        #expect(throws: LabError.self) { try WrkOutput.parse(text) }
        do {
            _ = try WrkOutput.parse("")
        } catch {
            #expect(error.description.contains("Requests/sec"))
        }
    }

    // MARK: A real sweep

    @Test(.timeLimit(.minutes(2))) func aWrkCellIsStoredBesideTheEngines() async throws {
        guard ExternalTools.find("wrk") != nil else {
            withKnownIssue("wrk is not installed (apt-get install wrk); the sweep with a wrk cell is not tested") {
                Issue.record("wrk missing")
            }
            return
        }
        let folder = try temporaryFolder()
        let path = try writeSpec(
            """
            {"name":"refsweep","question":"How close is async to wrk?","engines":["async","wrk"],
             "fixed":{"concurrency":2,"latencyMs":1},"requests":20,"warmup":2,"minMeasuredSeconds":1,"seed":9}
            """)
        var options = RunOptions(specPaths: [path])
        options.databasePath = folder + "/lab.sqlite"
        options.jsonlPath = folder + "/lab.jsonl"
        options.mockServerPath = Built.folder + "/mock-server"
        options.cellExecutable = Built.experiments
        options.pin = false
        let outcome = try await ExperimentRunner(options: options).run { _ in }
        #expect(outcome.cellsRun == 2)

        let store = try LabStore.openForReading(path: options.databasePath)
        let cells = try store.cells()
        let wrk = try #require(cells.first { $0.engine == "wrk" })
        let async = try #require(cells.first { $0.engine == "async" })
        #expect(wrk.status == .complete)
        #expect(wrk.repetition == async.repetition)
        #expect(wrk.params == async.params.replacingOccurrences(of: #""engine":"async""#, with: #""engine":"wrk""#))
        let figures = try #require(wrk.reference)
        #expect(figures.requests > 50, "wrk at concurrency 2 for 1 s against a 1 ms server")
        #expect(figures.requestsPerSecond > 50 && figures.requestsPerSecond < 2100, "\(figures)")
        #expect(figures.p50Ns >= 1_000_000 && figures.p50Ns <= figures.p99Ns, "\(figures)")
        #expect(figures.errors == 0)
        #expect(wrk.elapsedNs >= 1_000_000_000 && wrk.elapsedNs < 10_000_000_000)
        // wrk's own process, not the runner's: a little CPU, a small peak RSS.
        let client = try #require(wrk.client)
        #expect(client.cpuUserSeconds + client.cpuSysSeconds > 0)
        #expect(client.peakRSSBytes > 0 && client.peakRSSBytes < 256 << 20)
        // The server counted wrk's requests (the 1 s warm-up run's too).
        let server = try #require(wrk.server)
        #expect(server.requests >= figures.requests)
        #expect(wrk.plannedRequests == 0 && wrk.warmupRequests == 0)
        var samples = 0
        try store.forEachSample(cellID: wrk.id) { _ in samples += 1 }
        #expect(samples == 0)
        #expect(async.reference == nil)

        // The JSON lines mirror carries the figures.
        let contents = try JSONLReader.read(path: folder + "/lab.jsonl")
        let mirrored = contents.cells.first { $0.cellKey == wrk.cellKey && $0.status == .complete }
        #expect(mirrored?.reference == figures)
    }

    // MARK: The report

    @Test func aReportWithWrkCellsHasTheReferenceSectionAndTheRatiosCSV() throws {
        let folder = try temporaryFolder()
        let database = folder + "/lab.sqlite"
        try SyntheticLab.write(
            path: database,
            SyntheticLab.Configuration(
                name: "limit", engines: ["sync", "async"], concurrencies: [4, 8], requests: 40, warmup: 2,
                repetitions: 2, seed: 5))
        let store = try LabStore.openForWriting(path: database)
        let engineCells = try store.cells().filter { $0.engine == "async" }
        #expect(engineCells.count == 4)
        for cell in engineCells {
            var wrk = cell
            wrk.id = 0
            wrk.engine = "wrk"
            wrk.cellKey = "wrk-\(cell.concurrency)-\(cell.repetition)"
            wrk.params = cell.params.replacingOccurrences(of: #""engine":"async""#, with: #""engine":"wrk""#)
            wrk.plannedRequests = 0
            wrk.warmupRequests = 0
            wrk.reference = ReferenceFigures(
                requests: 40_000, requestsPerSecond: 40_000 + Double(cell.repetition) * 1000, p50Ns: 90_000,
                p99Ns: 250_000, errors: 0)
            wrk.id = try store.insertCell(wrk)
            wrk.status = .complete
            try store.completeCell(wrk)
        }
        let out = folder + "/reports"
        _ = try renderReport(
            ReportOptions(databasePath: database, outputDirectory: out, renderCharts: false, bootstrapResamples: 200))
        let page = try String(contentsOfFile: out + "/limit/README.md", encoding: .utf8)
        #expect(page.contains("## The reference: wrk at the same concurrency"))
        // wrk is in no generic table: the throughput table has no wrk row.
        let throughput = try #require(page.components(separatedBy: "## Throughput and latency").last)
        let generic = try #require(throughput.components(separatedBy: "## The reference").first)
        #expect(!generic.contains("| wrk"))
        let csv = try String(contentsOfFile: out + "/limit/wrk-ratios.csv", encoding: .utf8)
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.first == "pooling,concurrency,engine,reps,ratio,ratio_low,ratio_high,wrk_rps")
        let async = try #require(lines.first { $0.hasPrefix("pooled,4,async,2,") })
        let fields = async.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let ratio = try #require(Double(fields[4]))
        let low = try #require(Double(fields[5]))
        let high = try #require(Double(fields[6]))
        #expect(ratio > 0 && low <= ratio && ratio <= high)
        #expect(Double(fields[7]) == 40_500)
        // The ratio is paired by repetition: engine rep r / wrk rep r.
        let stats = try LabStore.openForReading(path: database).cells().filter { $0.engine == "async" }
        #expect(stats.count == 4)
        #expect(page.contains("| async"))
        // The throughput chart against concurrency draws wrk's line beside the engines'.
        let script = try String(contentsOfFile: out + "/limit/throughput.gp", encoding: .utf8)
        #expect(script.contains("title 'wrk (reference)'"))
        let data = try String(contentsOfFile: out + "/limit/throughput.dat", encoding: .utf8)
        #expect(data.contains("4 40500 40000 41000"), "wrk's median and range at concurrency 4")
    }
}
