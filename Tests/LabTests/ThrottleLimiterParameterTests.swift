import AsyncPatterns
import Foundation
import Testing

@testable import Lab

/// The cell parameters `throttle`, `limiter` and `acquireTimeoutMs`: what they accept, how they are laid over the
/// spec's `resilience` object (the cell parameter wins), and the settings no cell would use.
@Suite struct ThrottleLimiterParameterTests {
    private func spec(fixed: String = "", axes: String = "", resilience: String = "{}") throws -> ExperimentSpec {
        try ExperimentSpec.parse(
            text: """
                {"name": "x", "question": "q", "engines": ["async"], "fixed": {\(fixed)}, "axes": {\(axes)},
                 "resilience": \(resilience)}
                """, path: "x.json")
    }

    private func configuration(fixed: String, resilience: String = "{}") throws -> ResilienceConfiguration {
        let spec = try spec(fixed: fixed, resilience: resilience)
        let cell = try #require(spec.grid().first)
        return try ResilienceSettings(cell: cell, baseJSON: spec.resilienceJSON).configuration()
    }

    @Test func defaultsAreOff() throws {
        let cell = try #require(try spec().grid().first)
        #expect(cell["throttle"] == .string("off"))
        #expect(cell["limiter"] == .string("off"))
        #expect(cell["acquireTimeoutMs"] == .string("none"))
        let configuration = try ResilienceSettings(cell: cell, baseJSON: "{}").configuration()
        #expect(configuration.throttle == nil && configuration.limiter == nil)
    }

    @Test func throttleKeepsTheSpecsWindowAndTakesK() throws {
        let configuration = try configuration(
            fixed: #""throttle": "k:1.5""#, resilience: #"{"throttle": {"k": 9, "windowMs": 1000, "buckets": 10}}"#)
        #expect(configuration.throttle == .init(k: 1.5, windowMs: 1000, buckets: 10))
        let bare = try self.configuration(fixed: #""throttle": "k:2""#)
        #expect(bare.throttle == .init(k: 2))
    }

    @Test func throttleTextIsCanonical() throws {
        let cell = try #require(try spec(fixed: #""throttle": "k:2.0""#).grid().first)
        #expect(cell["throttle"] == .string("k:2"))
    }

    @Test func limiterKeepsTheSpecsAcquireTimeoutAndTakesTheLimit() throws {
        let configuration = try configuration(
            fixed: #""limiter": "limit:4""#, resilience: #"{"limiter": {"limit": 64, "acquireTimeoutMs": 25}}"#)
        #expect(configuration.limiter == .init(limit: 4, acquireTimeoutMs: 25))
    }

    @Test(arguments: [(#"10"#, 10.0 as Double?), (#"0"#, 0), (#""none""#, nil)])
    func acquireTimeoutParameter(json: String, expected: Double?) throws {
        let configuration = try configuration(fixed: #""limiter": "limit:2", "acquireTimeoutMs": \#(json)"#)
        #expect(configuration.limiter == .init(limit: 2, acquireTimeoutMs: expected))
    }

    /// `off` turns a pattern off even when the spec's `resilience` object sets it: the cell parameter wins.
    @Test func offWinsOverTheSpecsObject() throws {
        let spec = try spec(
            axes: #""throttle": ["off", "k:2"], "limiter": ["off", "limit:8"]"#,
            resilience: #"{"throttle": {"windowMs": 1000}, "limiter": {"limit": 3}}"#)
        for cell in spec.grid() {
            let configuration = try ResilienceSettings(cell: cell, baseJSON: spec.resilienceJSON).configuration()
            #expect((configuration.throttle != nil) == (cell["throttle"] != .string("off")))
            #expect((configuration.limiter != nil) == (cell["limiter"] != .string("off")))
            if cell["limiter"] == .string("limit:8") { #expect(configuration.limiter?.limit == 8) }
        }
    }

    @Test(arguments: [
        (#""throttle": "k:0""#, "fixed.throttle", "`off` or `k:<K greater than 0 and at most 100>`"),
        (#""throttle": "k:101""#, "fixed.throttle", "the string \"k:101\""),
        (#""throttle": "on""#, "fixed.throttle", "`off` or `k:"),
        (#""throttle": 2"#, "fixed.throttle", "the number 2"),
        (#""limiter": "limit:0""#, "fixed.limiter", "`off` or `limit:<permits from 1 to 100000>`"),
        (#""limiter": "limit:2.5""#, "fixed.limiter", "the string \"limit:2.5\""),
        (#""limiter": "limit:100001""#, "fixed.limiter", "limit:<permits from 1 to 100000>"),
        (#""acquireTimeoutMs": -1"#, "fixed.acquireTimeoutMs", "from 0 to 3600000, or `none`"),
        (#""acquireTimeoutMs": 3600001"#, "fixed.acquireTimeoutMs", "the number 3600001"),
        (#""acquireTimeoutMs": "forever""#, "fixed.acquireTimeoutMs", "the string \"forever\""),
        (#""acquireTimeoutMs": true"#, "fixed.acquireTimeoutMs", "found true"),
    ])
    func badValuesNameTheParameterTheValueAndWhatIsAllowed(fixed: String, keyPath: String, mentioned: String) {
        #expect {
            _ = try spec(fixed: fixed)
        } throws: { error in
            let text = "\(error)"
            return text.contains("x.json: \(keyPath): expected ") && text.contains(mentioned)
        }
    }

    @Test(arguments: [
        ("", "", #"{"throttle": {"k": 2}}"#, "resilience.throttle: is never used"),
        ("", #""limiter": ["off"]"#, #"{"limiter": {"limit": 2}}"#, "resilience.limiter: is never used"),
        (#""acquireTimeoutMs": 10"#, "", "{}", "fixed.acquireTimeoutMs: is never used"),
        (
            #""limiter": "limit:2", "acquireTimeoutMs": 10"#, "", #"{"limiter": {"acquireTimeoutMs": 5}}"#,
            "fixed.acquireTimeoutMs, resilience.limiter.acquireTimeoutMs: the acquire timeout is set twice"
        ),
    ])
    func settingsNoCellUsesAreRefused(fixed: String, axes: String, resilience: String, mentioned: String) {
        #expect {
            _ = try spec(fixed: fixed, axes: axes, resilience: resilience)
        } throws: { error in
            "\(error)".contains(mentioned)
        }
    }

    /// The new parameters are client-side treatments: they change the client's seed, never the server's.
    @Test func theyFeedTheClientSeedOnly() throws {
        let spec = try spec(axes: #""throttle": ["off", "k:2"], "limiter": ["off", "limit:4"]"#)
        let cells = spec.grid()
        #expect(Set(cells.map { $0.serverSeed(master: spec.seed) }).count == 1)
        #expect(Set(cells.map { $0.seed(master: spec.seed) }).count == cells.count)
    }
}
