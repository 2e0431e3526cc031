import Foundation
import Testing

@testable import AsyncPatterns

func decodeConfiguration(_ json: String) throws -> ResilienceConfiguration {
    try JSONDecoder().decode(ResilienceConfiguration.self, from: Data(json.utf8))
}

/// The message of the error `body` throws, or nil when it does not throw.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return String(describing: error)
    }
}

struct InvalidCase: Sendable, CustomTestStringConvertible {
    var json: String
    var message: String
    var testDescription: String { json }
}

let invalidCases: [InvalidCase] = [
    .init(
        json: #"{"retry":{"maxAttempts":0}}"#,
        message: "retry.maxAttempts: 0 is not allowed; use an integer from 1 to 100"),
    .init(
        json: #"{"retry":{"maxAttempts":101}}"#,
        message: "retry.maxAttempts: 101 is not allowed; use an integer from 1 to 100"),
    .init(
        json: #"{"retry":{"baseMs":2000,"capMs":1000}}"#,
        message: "retry.baseMs: 2000 is not allowed; use a number of milliseconds from 0 to retry.capMs (1000)"),
    .init(
        json: #"{"retry":{"maxDelayMs":-1}}"#,
        message: "retry.maxDelayMs: -1 is not allowed; use a number of milliseconds from 0 to 3600000"),
    .init(
        json: #"{"retry":{"retryOnStatus":[700]}}"#,
        message: "retry.retryOnStatus: 700 is not allowed; use HTTP statuses 100...599"),
    .init(
        json: #"{"budget":{"kind":"tokenBucket","maxTokens":10,"costPerRetry":20}}"#,
        message: "budget.costPerRetry: 20 is not allowed; use a number of tokens from 0.001 to budget.maxTokens (10)"),
    .init(
        json: #"{"budget":{"kind":"ratio","ratio":-0.5}}"#,
        message: "budget.ratio: -0.5 is not allowed; use a number from 0 to 10"),
    .init(
        json: #"{"breaker":{"windowSize":20,"minimumCalls":30}}"#,
        message: "breaker.minimumCalls: 30 is not allowed; use an integer from 1 to breaker.windowSize (20)"),
    .init(
        json: #"{"breaker":{"failureRate":1.5}}"#,
        message: "breaker.failureRate: 1.5 is not allowed; use a fraction greater than 0 and at most 1"),
    .init(
        json: #"{"breaker":{"failureRate":null}}"#,
        message: "breaker: no trip threshold is not allowed; set failureRate, failureCount or slowCallRate"),
    .init(
        json: #"{"breaker":{"halfOpenProbes":0}}"#,
        message: "breaker.halfOpenProbes: 0 is not allowed; use an integer from 1 to 1000"),
    .init(
        json: #"{"throttle":{"k":0}}"#,
        message: "throttle.k: 0 is not allowed; use a number greater than 0 and at most 100"),
    .init(
        json: #"{"limiter":{"limit":0}}"#,
        message: "limiter.limit: 0 is not allowed; use an integer from 1 to 100000"),
]

let undecodableCases: [InvalidCase] = [
    .init(
        json: #"{"retry":{"maxAtempts":3}}"#,
        message: "retry.maxAtempts: unknown key; use one of maxAttempts, backoff, baseMs, capMs, maxDelayMs, "
            + "respectRetryAfter, retryOn, retryOnStatus"),
    .init(
        json: #"{"retries":{}}"#,
        message: "retries: unknown key; use one of retry, budget, breaker, throttle, limiter"),
    .init(
        json: #"{"retry":{"backoff":"fulll"}}"#,
        message: #"retry.backoff: "fulll" is not allowed; use one of "none", "exponential", "full", "equal", "#
            + #""decorrelated""#),
    .init(
        json: #"{"retry":{"maxAttempts":"3"}}"#,
        message: #"retry.maxAttempts: "3" is not allowed; use an integer from 1 to 100"#),
    .init(
        json: #"{"retry":{"maxAttempts":2.5}}"#,
        message: "retry.maxAttempts: 2.5 is not allowed; use an integer from 1 to 100"),
    .init(
        json: #"{"budget":{"kind":"bucket"}}"#,
        message: #"budget.kind: "bucket" is not allowed; use one of "tokenBucket", "ratio""#),
    .init(
        json: #"{"breaker":{"failureClasses":["http_5xx","boom"]}}"#,
        message: #"breaker.failureClasses: "boom" is not allowed; use a list of error classes from "ok", "#),
    .init(
        json: #"{"throttle":[1]}"#,
        message: #"throttle: a list is not allowed; use an object such as {"k": 2}"#),
]

@Suite("Resilience configuration")
struct ResilienceConfigurationTests {
    @Test func emptyObjectMeansNoResilience() throws {
        let configuration = try decodeConfiguration("{}")
        #expect(configuration == .none)
        try configuration.validate()
    }

    @Test func theSpecExampleDecodes() throws {
        let configuration = try decodeConfiguration(
            """
            {"retry":{"maxAttempts":3,"backoff":"full","baseMs":10,"capMs":1000,"maxDelayMs":5000,
                      "respectRetryAfter":true},
             "budget":{"kind":"tokenBucket","maxTokens":10,"costPerRetry":1,"refundPerSuccess":0.1},
             "breaker":{"window":"time","windowMs":10000,"minimumCalls":20,"failureCount":5,"openMs":2000},
             "throttle":{"k":2,"windowMs":60000}}
            """)
        try configuration.validate()
        #expect(configuration.retry == .init(maxAttempts: 3, backoff: .full, baseMs: 10, capMs: 1000, maxDelayMs: 5000))
        #expect(
            configuration.budget == .init(kind: .tokenBucket, maxTokens: 10, costPerRetry: 1, refundPerSuccess: 0.1))
        #expect(configuration.breaker?.failureRate == nil)  // a trip was given, so no default rate
        #expect(configuration.breaker?.failureCount == 5)
        #expect(configuration.throttle == .init(k: 2, windowMs: 60000))
        let breaker = configuration.breaker!.makeConfiguration()
        #expect(breaker.window == .time(duration: .seconds(10), buckets: 10))
        #expect(breaker.openDuration == .seconds(2))
        let ratio = try decodeConfiguration(
            #"{"budget":{"kind":"ratio","ratio":0.2,"windowMs":10000,"minRetriesPerSecond":10}}"#)
        #expect(ratio.budget!.makeConfiguration() == .ratio(ratio: 0.2, window: .seconds(10), minRetriesPerSecond: 10))
    }

    @Test func breakerDefaultsToAFiftyPercentRate() throws {
        let configuration = try decodeConfiguration(#"{"breaker":{}}"#)
        #expect(configuration.breaker == .init())
        #expect(configuration.breaker?.failureRate == 0.5)
    }

    @Test func roundTripsThroughJSON() throws {
        let configuration = ResilienceConfiguration(
            retry: .init(maxAttempts: 4, backoff: .decorrelated, retryOn: [.http5xx, .timeout], retryOnStatus: [409]),
            budget: .init(kind: .ratio, ratio: 0.1),
            breaker: .init(window: .time, failureRate: nil, slowCallRate: 0.8, failureClasses: [.http5xx]),
            throttle: .init(k: 1.5), limiter: .init(limit: 8, acquireTimeoutMs: 250))
        let data = try JSONEncoder().encode(configuration)
        #expect(try JSONDecoder().decode(ResilienceConfiguration.self, from: data) == configuration)
    }

    @Test(arguments: invalidCases)
    func validationNamesKeyValueAndAllowed(_ row: InvalidCase) throws {
        let configuration = try decodeConfiguration(row.json)
        #expect(errorMessage { try configuration.validate() } == row.message)
        #expect(errorMessage { _ = try ResiliencePolicy(configuration: configuration, seed: 1) } == row.message)
    }

    @Test(arguments: undecodableCases)
    func decodingNamesKeyValueAndAllowed(_ row: InvalidCase) {
        let message = errorMessage { _ = try decodeConfiguration(row.json) }
        #expect(message?.hasPrefix(row.message) == true, "got \(message ?? "no error")")
    }

    @Test func errorsHaveShortLabels() {
        let error = ResilienceConfigurationError.invalidValue("retry.maxAttempts", "0", allowed: "use 1...100")
        #expect(error.label == "invalid_value")
        #expect(ResilienceConfigurationError.unknownKey("x", allowedKeys: ["y"]).label == "unknown_key")
    }
}
