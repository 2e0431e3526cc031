import AsyncPatterns
import Foundation
import Testing

@testable import MockServer

@Suite struct ConfigurationTests {
    @Test func emptyObjectDecodesToDefaults() throws {
        let configuration = try MockServerConfiguration.decode(json: Data("{}".utf8))
        #expect(configuration == MockServerConfiguration())
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 0)
        #expect(configuration.eventLoops == 2)
        #expect(configuration.latency == .fixed(ms: 0))
        #expect(configuration.faults == .init(status500: 1))
    }

    @Test func roundTripsThroughJSON() throws {
        let configuration = MockServerConfiguration(
            seed: 7, latency: .lognormal(ms: 5, sigma: 0.3), errorRate: 0.25,
            faults: .init(status500: 1, status503: 2, hang: 0.5), spikeMs: 20,
            rateLimit: .init(after: 3, windowMs: 1000, retryAfterMinSeconds: 2, retryAfterMaxSeconds: 4),
            schedule: [.init(name: "down", durationMs: 500, errorRate: 1, latency: .exponential(ms: 1))],
            repeatSchedule: true, capacity: .init(limit: 4, whenFull: .reject, maxQueue: 2)
        )
        let decoded = try MockServerConfiguration.decode(json: Data(configuration.jsonString().utf8))
        #expect(decoded == configuration)
    }

    @Test(arguments: [
        (#"{"kind":"fixed","ms":5}"#, LatencyModel.fixed(ms: 5)),
        (#"{"kind":"uniform","ms":5,"jitter":0.2}"#, .uniform(ms: 5, jitter: 0.2)),
        (#"{"kind":"exponential","ms":5}"#, .exponential(ms: 5)),
        (#"{"kind":"lognormal","ms":5,"sigma":0.5}"#, .lognormal(ms: 5, sigma: 0.5)),
    ])
    func latencyJSONForms(json: String, expected: LatencyModel) throws {
        let configuration = try MockServerConfiguration.decode(json: Data(#"{"latency":\#(json)}"#.utf8))
        #expect(configuration.latency == expected)
    }

    @Test(arguments: [
        (#"{"errorRate":1.5}"#, "errorRate"),
        (#"{"bogus":1}"#, "bogus"),
        (#"{"latency":{"kind":"gaussian","ms":1}}"#, "gaussian"),
        (#"{"latency":{"kind":"uniform","ms":5,"jitter":2}}"#, "latency.jitter"),
        (#"{"faults":{"500":0}}"#, "faults"),
        (#"{"faults":{"404":1}}"#, "404"),
        (#"{"schedule":[{"errorRate":1}]}"#, "durationMs"),
        (#"{"schedule":[{"durationMs":-1}]}"#, "schedule[0].durationMs"),
        (#"{"capacity":{"whenFull":"drop"}}"#, "drop"),
        (#"{"rateLimit":{"retryAfterMinSeconds":5,"retryAfterMaxSeconds":1}}"#, "retryAfterMaxSeconds"),
        (#"{"eventLoops":0}"#, "eventLoops"),
        (#"{"port":70000}"#, "port"),
        (#"{"seed":"x"}"#, "seed"),
        ("not json", "configuration"),
    ])
    func badConfigurationNamesTheKey(json: String, mentioned: String) {
        #expect {
            _ = try MockServerConfiguration.decode(json: Data(json.utf8))
        } throws: { error in
            let description = (error as? MockServerConfigurationError)?.description ?? ""
            return description.contains(mentioned)
        }
    }

    @Test func faultMixPicksByWeight() {
        let mix = MockServerConfiguration.FaultMix(status500: 1, status503: 1, reset: 2)
        #expect(mix.pick(unit: 0.0) == .status500)
        #expect(mix.pick(unit: 0.24) == .status500)
        #expect(mix.pick(unit: 0.26) == .status503)
        #expect(mix.pick(unit: 0.6) == .reset)
        #expect(mix.pick(unit: 0.999) == .reset)
        #expect(MockServerConfiguration.FaultMix.only(.hang).pick(unit: 0.5) == .hang)
    }

    @Test func schedulePhasesByElapsedTime() {
        let configuration = MockServerConfiguration(schedule: [
            .init(name: "healthy", durationMs: 5), .init(durationMs: 5, errorRate: 1),
        ])
        let settings = LiveSettings(configuration)
        #expect(settings.phaseIndex(elapsed: 0) == 0)
        #expect(settings.phaseIndex(elapsed: 4_999_999) == 0)
        #expect(settings.phaseIndex(elapsed: 5_000_000) == 1)
        #expect(settings.phaseIndex(elapsed: 10_000_000) == nil)
        #expect(settings.phaseNames == ["healthy", "phase1"])
        var repeating = configuration
        repeating.repeatSchedule = true
        #expect(LiveSettings(repeating).phaseIndex(elapsed: 12_000_000) == 0)
        #expect(LiveSettings(repeating).phaseIndex(elapsed: 16_000_000) == 1)
    }
}

@Suite struct DecisionTests {
    @Test func shouldFailIsPureAndMatchesTheRate() {
        var failures = 0
        for i in 0..<20_000 {
            let id = "req-\(i)"
            let first = MockServer.shouldFail(seed: 42, requestID: id, attempt: 1, errorRate: 0.3)
            #expect(first == MockServer.shouldFail(seed: 42, requestID: id, attempt: 1, errorRate: 0.3))
            if first { failures += 1 }
        }
        // Binomial(20000, 0.3): the standard deviation is about 65.
        #expect((5_600...6_400).contains(failures))
        #expect(!MockServer.shouldFail(seed: 1, requestID: "x", attempt: 1, errorRate: 0))
        #expect(MockServer.shouldFail(seed: 1, requestID: "x", attempt: 1, errorRate: 1))
    }

    @Test func attemptsAndSeedsChangeTheDecision() {
        let ids = (0..<1000).map { "id\($0)" }
        let attempt1 = ids.filter { MockServer.shouldFail(seed: 9, requestID: $0, attempt: 1, errorRate: 0.5) }
        let attempt2 = ids.filter { MockServer.shouldFail(seed: 9, requestID: $0, attempt: 2, errorRate: 0.5) }
        let otherSeed = ids.filter { MockServer.shouldFail(seed: 10, requestID: $0, attempt: 1, errorRate: 0.5) }
        #expect(attempt1 != attempt2)
        #expect(attempt1 != otherSeed)
        // Independent draws: about a quarter fail on both attempts.
        #expect((180...320).contains(Set(attempt1).intersection(attempt2).count))
    }

    @Test(arguments: [
        LatencyModel.fixed(ms: 5), .uniform(ms: 5, jitter: 0.2), .exponential(ms: 5), .lognormal(ms: 5, sigma: 0.5),
    ])
    func latencyModelsHaveTheirMeanAndBounds(model: LatencyModel) {
        var generator = SplitMix64(seed: 3)
        var sum = 0.0
        var low = Int64.max
        var high = Int64.min
        let n = 20_000
        for _ in 0..<n {
            let ns = model.sampleNanoseconds(using: &generator)
            sum += Double(ns)
            low = min(low, ns)
            high = max(high, ns)
        }
        let mean = sum / Double(n) / 1_000_000
        #expect(abs(mean - 5) < 0.25, "mean \(mean) ms")
        #expect(low >= 0)
        switch model {
        case .fixed:
            #expect(low == 5_000_000 && high == 5_000_000)
        case .uniform:
            #expect(low >= 4_000_000 && high <= 6_000_000)
        default:
            #expect(high > 10_000_000)
        }
    }

    @Test func jsonObjectsEscapeAndGroupRepeatedNames() throws {
        let text = JSON.object([("a", "1"), ("b", "say \"hi\"\n"), ("a", "2"), ("c", "\u{1}"), ("a", "3")])
        #expect(text == #"{"a":["1","2","3"],"b":"say \"hi\"\n","c":"\u0001"}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(parsed?["b"] as? String == "say \"hi\"\n")
        #expect(JSON.object([]) == "{}")
        #expect(RequestTarget.parameter("attempt", in: "x=1&attempt=%202") == " 2")
    }

    @Test func contentionStoreCommitsConflictsAndIsBounded() {
        let core = ServerCore(configuration: .init())
        #expect(core.contentionVersion("k") == 0)
        #expect(core.contentionCommit("k", seen: 0) == true)
        #expect(core.contentionCommit("k", seen: 0) == false)
        #expect(core.contentionCommit("k", seen: 1) == true)
        #expect(core.contentionVersion("k") == 2)
        for i in 1..<ServerCore.maximumContentionKeys { _ = core.contentionCommit("key\(i)", seen: 0) }
        #expect(core.contentionCommit("one-too-many", seen: 0) == nil)
        #expect(core.contentionCommit("k", seen: 2) == true)
        core.reset()
        #expect(core.contentionCommit("one-too-many", seen: 0) == true)
    }

    @Test func histogramQuantilesAreWithinOnePercent() {
        var histogram = ServiceTimeHistogram()
        for value in 1...100_000 { histogram.record(UInt64(value) * 1000) }
        #expect(histogram.count == 100_000)
        #expect(histogram.max == 100_000_000)
        for (q, expected) in [(0.5, 50_000_000.0), (0.9, 90_000_000.0), (0.99, 99_000_000.0)] {
            let value = Double(histogram.quantile(q))
            #expect(abs(value - expected) / expected < 0.01, "q\(q) = \(value)")
        }
        #expect(abs(histogram.mean - 50_000_500) < 1)
        for value: UInt64 in [0, 1, 63, 64, 127, 128, 129, 255, 256, 1000, 123_456_789, UInt64(Int64.max), UInt64.max] {
            let (lower, upper) = ServiceTimeHistogram.bounds(of: ServiceTimeHistogram.index(of: value))
            #expect(lower <= value && value <= upper)
        }
    }

    @Test("a real-time priority outside 1...99 is refused with the allowed range", arguments: [0, 100])
    func realtimePriorityRange(priority: Int) {
        #expect {
            try ProcessAffinity.setRealtimePriority(priority)
        } throws: { error in
            String(describing: error).contains("allowed: 1...99")
        }
    }
}
