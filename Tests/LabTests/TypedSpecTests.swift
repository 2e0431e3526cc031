import Foundation
import MockServer
import Testing

@testable import Lab

/// The spec is decoded once into typed values: the mock server's configuration of a cell is built as a
/// `MockServerConfiguration` and sent as JSON that decodes back to the same value.
@Suite struct TypedSpecTests {
    /// The repository's root folder.
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The spec files in `experiments/`.
    static let specNames: [String] = {
        let folder = root.appendingPathComponent("experiments").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    static func load(_ name: String, quick: Bool = false) throws -> ExperimentSpec {
        try ExperimentSpec.load(path: root.appendingPathComponent("experiments/\(name)").path, quick: quick)
    }

    /// The configuration the server was sent before the spec was typed: the spec's raw `server` object with
    /// `seed`, `errorRate` and `latency` laid over it, decoded by the server. The typed value must equal it.
    private static func untypedConfiguration(spec: ExperimentSpec, cell: CellPlan, seed: UInt64) throws
        -> MockServerConfiguration
    {
        let root = try JSONSerialization.jsonObject(with: Data(spec.text.utf8)) as? [String: Any] ?? [:]
        var object = root["server"] as? [String: Any] ?? [:]
        object["seed"] = NSNumber(value: seed)
        let number = { (name: String) in cell[name].number ?? 0 }
        object["errorRate"] = number("errorRate")
        let (ms, jitter) = (number("latencyMs"), number("jitter"))
        switch cell["latencyModel"].description {
        case "exponential": object["latency"] = ["kind": "exponential", "ms": ms]
        case "lognormal": object["latency"] = ["kind": "lognormal", "ms": ms, "sigma": jitter > 0 ? jitter : 0.5]
        default:
            object["latency"] =
                jitter > 0 ? ["kind": "uniform", "ms": ms, "jitter": jitter] : ["kind": "fixed", "ms": ms]
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return try MockServerConfiguration.decode(json: data, source: "server")
    }

    @Test(arguments: specNames)
    func cellServerConfigurationRoundTrips(name: String) throws {
        for quick in [false, true] {
            let spec = try Self.load(name, quick: quick)
            for (index, cell) in spec.grid().enumerated() {
                let seed = UInt64(index) &* 0x9E37_79B9_7F4A_7C15
                let typed = cell.serverConfiguration(base: spec.server, seed: seed)
                let decoded = try MockServerConfiguration.decode(json: Data(typed.jsonString().utf8), source: "test")
                #expect(decoded == typed, "\(name) cell \(cell.key)")
                #expect(typed == (try Self.untypedConfiguration(spec: spec, cell: cell, seed: seed)), "\(name)")
                #expect(typed.seed == seed)
                #expect(typed.errorRate == cell["errorRate"].number)
                #expect(typed.latency.meanMilliseconds == cell["latencyMs"].number)
            }
        }
    }

    @Test func specKeepsTheDecodedServerConfiguration() throws {
        let spec = try Self.load("circuit-breaker.json")
        #expect(spec.server.schedule.map(\.name) == ["healthy", "failing", "recovered"])
        #expect(spec.server.schedule.map(\.durationMs) == [1500, 3000, 60000])
        #expect(spec.needsMockServer)
        let load = try Self.load("load.json")
        #expect(load.server.capacity.limit == 8)
        #expect(try Self.load("engines.json").server == MockServerConfiguration.default)
    }

    @Test func latencyModelFollowsTheCellParameters() throws {
        let text = #"""
            {"name":"x","question":"q","engines":["sync"],"server":{"spikeMs":7},
             "axes":{"latencyModel":["uniform","exponential","lognormal"],"jitter":[0,0.3]},
             "fixed":{"latencyMs":4,"errorRate":0.25}}
            """#
        let spec = try ExperimentSpec.parse(text: text, path: "x.json")
        var expected: [String: MockServerConfiguration] = [:]
        for (model, jitter, latency) in [
            ("uniform", 0.0, LatencyModel.fixed(ms: 4)), ("uniform", 0.3, .uniform(ms: 4, jitter: 0.3)),
            ("exponential", 0.0, .exponential(ms: 4)), ("exponential", 0.3, .exponential(ms: 4)),
            ("lognormal", 0.0, .lognormal(ms: 4, sigma: 0.5)), ("lognormal", 0.3, .lognormal(ms: 4, sigma: 0.3)),
        ] {
            var configuration = MockServerConfiguration(seed: 42, latency: latency, errorRate: 0.25)
            configuration.spikeMs = 7
            expected["\(model) \(jitter)"] = configuration
        }
        let cells = spec.grid()
        #expect(cells.count == 6)
        for cell in cells {
            let key = "\(cell["latencyModel"].description) \(cell["jitter"].number ?? -1)"
            let typed = cell.serverConfiguration(base: spec.server, seed: 42)
            #expect(typed == expected[key], "\(key)")
            #expect(try MockServerConfiguration.decode(json: Data(typed.jsonString().utf8)) == expected[key])
        }
    }

    @Test func injectedErrorRateEventsReadTheTypedSchedule() throws {
        let spec = try Self.load("circuit-breaker.json")
        let cell = try #require(spec.grid().first)
        let events = cell.injectedErrorRateEvents(schedule: spec.server.schedule)
        #expect(events.map(\.tNs) == [0, 1_500_000_000, 4_500_000_000])
        #expect(events.map(\.value) == [0, 1, 0])
        #expect(events.map(\.detail) == ["healthy", "failing", "recovered"])
        let plain = cell.injectedErrorRateEvents(schedule: [])
        #expect(plain.map(\.tNs) == [0])
        #expect(plain.map(\.value) == [cell["errorRate"].number ?? 0])
    }

    @Test func specKeepsTheDecodedResilienceConfiguration() throws {
        let text = #"""
            {"name":"x","question":"q","engines":["sync"],"fixed":{"throttle":"k:2"},
             "resilience":{"throttle":{"k":2,"windowMs":5000}}}
            """#
        let spec = try ExperimentSpec.parse(text: text, path: "x.json")
        #expect(spec.resilience.throttle?.windowMs == 5000)
        let cell = try #require(spec.grid().first)
        let typed = try ResilienceSettings(cell: cell, base: spec.resilience).configuration()
        #expect(typed == (try ResilienceSettings(cell: cell, baseJSON: spec.resilienceJSON).configuration()))
    }

    @Test func specValuesKeepBooleansAndWholeNumbersApart() throws {
        let decode = { (text: String) in try JSONDecoder().decode(SpecValue.self, from: Data(text.utf8)) }
        #expect(try decode("true") == .bool(true))
        #expect(try decode("true").numberValue == nil)
        #expect(try decode("3").intValue == 3)
        #expect(try decode("3.0").intValue == 3)
        #expect(try decode("3.5").intValue == nil)
        #expect(try decode("9007199254740993").intValue == 9_007_199_254_740_993)
        #expect(try decode(#"{"a":[1,"b",null]}"#).described == "an object")
        #expect(try decode("2.5").described == "the number 2.5")
        let round = try decode(#"{"b":[1,2.5,"x",false,null],"a":{}}"#)
        #expect(String(decoding: try round.jsonData(), as: UTF8.self) == #"{"a":{},"b":[1,2.5,"x",false,null]}"#)
    }

    @Test(arguments: [
        ("token:5.0", true), ("ratio:0.1", true), ("none", true), ("token:0", false), ("tokens:5", false),
    ])
    func budgetIsReadByItsSyntaxAndKeptAsWritten(text: String, allowed: Bool) throws {
        let value = ParameterSyntax.budget.parse(.string(text))
        #expect(value == (allowed ? .string(text) : nil))
        #expect(ParameterSyntax.budget.parse(.number(1, exact: 1)) == nil)
    }

    @Test func acquireTimeoutRefusesBooleans() {
        #expect(ParameterSyntax.acquireTimeout.parse(.bool(true)) == nil)
        #expect(ParameterSyntax.acquireTimeout.parse(.number(250, exact: 250)) == .double(250))
        #expect(ParameterSyntax.acquireTimeout.parse(.string("none")) == .string("none"))
    }
}
