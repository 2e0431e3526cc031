import AsyncPatterns
import LabStore
import Testing

@testable import Reporting

@Suite("Cell statistics")
struct CellStatisticsTests {
    func cell(concurrency: Int = 2, params: String = #"{"concurrency":2,"engine":"async","latencyMs":10}"#)
        -> CellRecord
    {
        CellRecord(
            id: 1, cellKey: "k", runID: 1, experiment: "x", engine: "async", concurrency: concurrency,
            repetition: 0, params: params, seed: 1, status: .complete, plannedRequests: 3, warmupRequests: 1,
            startedAt: "",
            server: ServerFigures(
                requests: 9, connections: 2, serviceMeanNs: 0, serviceP99Ns: 0,
                countersJSON: "{}"))
    }

    func sample(
        _ id: Int64, _ attempt: Int32, intended: Int64, start: Int64, end: Int64, _ error: ErrorClass = .ok,
        final: Bool = true, warmup: Bool = false
    ) -> AttemptSample {
        AttemptSample(
            requestID: id, attempt: attempt, intendedNs: intended, startNs: start, endNs: end, status: 200,
            errorClass: error, bytes: 0, isFinal: final, isWarmup: warmup)
    }

    @Test func figuresFollowTheDefinitions() {
        var stats = CellStatistics(cell: cell())
        var pending: [Int64: (intended: Int64, start: Int64)] = [:]
        let samples = [
            sample(0, 1, intended: 0, start: 0, end: 5_000_000, warmup: true),
            // Request 1: one attempt, 10 ms, sent 1 ms late (open loop): corrected 11 ms.
            sample(1, 1, intended: 10_000_000, start: 11_000_000, end: 21_000_000),
            // Request 2: fails, then a breaker rejection, then succeeds.
            sample(2, 1, intended: 20_000_000, start: 20_000_000, end: 30_000_000, .http5xx, final: false),
            sample(2, 2, intended: 31_000_000, start: 31_000_000, end: 31_000_000, .circuitOpen, final: false),
            sample(2, 3, intended: 40_000_000, start: 40_000_000, end: 50_000_000),
            // Request 3: fails for good.
            sample(3, 1, intended: 30_000_000, start: 30_000_000, end: 60_000_000, .timeout),
        ]
        for s in samples { stats.add(s, firstAttempts: &pending) }
        #expect(stats.finals == 3)
        #expect(stats.successes == 2)
        #expect(stats.warmupFinals == 1)
        #expect(stats.attempts == 5)
        #expect(stats.attemptsSent == 4)
        #expect(pending.isEmpty)
        // Span: first intended 10 ms to last end 60 ms.
        #expect(abs(stats.spanSeconds - 0.05) < 1e-12)
        #expect(abs(stats.throughput - 60) < 1e-9)
        #expect(abs(stats.goodput - 40) < 1e-9)
        #expect(abs(stats.errorRate - 1.0 / 3) < 1e-12)
        #expect(abs(stats.attemptsPerRequest - 4.0 / 3) < 1e-12)
        // Amplification: 9 server requests / 4 logical requests (warm-up included).
        #expect(stats.amplification == 2.25)
        // Request 3 gave up unfinished: the clients' work never completed, so there is no completion time.
        let completion = Metric.named("completion_s")!
        #expect(completion.value(stats, []) == nil)
        var finished = CellStatistics(cell: cell())
        for s in samples.dropLast() { finished.add(s, firstAttempts: &pending) }
        #expect(completion.value(finished, []) == finished.spanSeconds)
        // Request 2's latency runs from its first intended send (20 ms) to its final end (50 ms).
        #expect(stats.latency.maxRecorded >= 29_900_000)
        #expect(stats.latency.min >= 10_900_000 && stats.latency.min <= 11_100_000)
        #expect(stats.uncorrectedLatency.min >= 9_900_000 && stats.uncorrectedLatency.min <= 10_100_000)
        // No server service time: no Little's-law bound, so no efficiency (the spec's nominal latencyMs = 10 says
        // nothing about the server that was measured).
        #expect(stats.serviceMeanNs == nil)
        #expect(stats.efficiency == nil)
    }

    @Test("the p99 of sent requests leaves out the requests the client rejected itself; those attempts were not sent")
    func sentLatencyLeavesOutLocalRejections() {
        var stats = CellStatistics(cell: cell())
        var pending: [Int64: (intended: Int64, start: Int64)] = [:]
        // 50 served in 10 ms, 50 that waited 100 ms for a permit and timed out without being sent.
        for id in Int64(0)..<100 {
            let served = id % 2 == 0
            stats.add(
                sample(
                    id, 1, intended: id * 1_000_000, start: id * 1_000_000,
                    end: id * 1_000_000 + (served ? 10_000_000 : 100_000_000), served ? .ok : .limiterTimeout),
                firstAttempts: &pending)
        }
        stats.finishPercentiles()
        #expect(stats.attempts == 100 && stats.attemptsSent == 50)
        #expect(abs(stats.p99Ns - 100_000_000) < 200_000, "all requests: the timeouts set the p99")
        #expect(abs(stats.sentP99Ns - 10_000_000) < 20_000, "sent requests only: \(stats.sentP99Ns)")
        #expect(abs(Metric.named("p99_sent_ms")!.value(stats, [])! - 10) < 0.02)
    }

    @Test("client CPU per request: the measured phase's CPU over measured requests, else the cell's over all")
    func clientCPUPerRequest() {
        var record = cell()
        record.client = ResourceFigures(
            cpuUserSeconds: 0.3, cpuSysSeconds: 0.1, peakRSSBytes: 0, voluntarySwitches: 0, involuntarySwitches: 0)
        var stats = CellStatistics(cell: record)
        var pending: [Int64: (intended: Int64, start: Int64)] = [:]
        stats.add(sample(0, 1, intended: 0, start: 0, end: 1, warmup: true), firstAttempts: &pending)
        for id in Int64(1)...4 {
            stats.add(sample(id, 1, intended: id, start: id, end: id + 1), firstAttempts: &pending)
        }
        let metric = Metric.named("client_cpu_us_per_request")!
        // Without the event (an older database): 0.4 s over 5 logical requests, warm-up included.
        #expect(metric.value(stats, []) == 80_000)
        // With it: 0.02 s of the measured phase over its 4 requests; the start-up and warm-up's CPU is not counted.
        let measured = EventRecord(tNs: 0, kind: .measuredCPUNs, value: 20_000_000)
        #expect(metric.value(stats, [measured]) == 5_000)
    }

    @Test func slugsAreSafeFolderNames() {
        #expect(ModelBuilder.slugify("Retry Storm (v2)") == "retry-storm-v2")
        #expect(ModelBuilder.slugify("../../etc/passwd") == "etc-passwd")
        #expect(ModelBuilder.slugify("`rm -rf`") == "rm-rf")
        #expect(ModelBuilder.slugify("") == "experiment")
    }

    @Test func jsonKeepsKeyOrderAndRoundTrips() throws {
        let value = try #require(JSONValue.parse(#"{"b": [1, 2.5, "x\n\"y\""], "a": {"z": true, "c": null}}"#))
        #expect(value.objectValue?.map(\.0) == ["b", "a"])
        #expect(value.canonical == #"{"b":[1,2.5,"x\n\"y\""],"a":{"z":true,"c":null}}"#)
        #expect(JSONValue.parse(value.canonical) == value)
        #expect(JSONValue.parse("{") == nil)
        #expect(JSONValue.parse(#"{"a":1} x"#) == nil)
    }
}
