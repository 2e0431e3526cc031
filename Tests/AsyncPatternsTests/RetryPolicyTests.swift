import Testing

@testable import AsyncPatterns

struct Classification: Sendable, CustomTestStringConvertible {
    var errorClass: ErrorClass
    var status: Int
    var retryable: Bool
    var testDescription: String { "\(errorClass.rawValue) \(status) -> \(retryable)" }
}

let defaultClassifications: [Classification] = [
    .init(errorClass: .ok, status: 200, retryable: false),
    .init(errorClass: .http4xx, status: 400, retryable: false),
    .init(errorClass: .http4xx, status: 404, retryable: false),
    .init(errorClass: .http4xx, status: 409, retryable: false),
    .init(errorClass: .http4xx, status: 408, retryable: true),
    .init(errorClass: .http429, status: 429, retryable: true),
    .init(errorClass: .http5xx, status: 500, retryable: true),
    .init(errorClass: .http5xx, status: 503, retryable: true),
    .init(errorClass: .timeout, status: 0, retryable: true),
    .init(errorClass: .refused, status: 0, retryable: true),
    .init(errorClass: .reset, status: 0, retryable: true),
    .init(errorClass: .other, status: 0, retryable: true),
    .init(errorClass: .cancelled, status: 0, retryable: false),
    .init(errorClass: .circuitOpen, status: 0, retryable: false),
    .init(errorClass: .budgetExhausted, status: 0, retryable: false),
    .init(errorClass: .throttled, status: 0, retryable: false),
    .init(errorClass: .limiterTimeout, status: 0, retryable: false),
]

/// 1994-11-06T08:49:30Z, seven seconds before the RFC's example date.
let exampleNow = Duration.seconds(784_111_770)

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy(
        maxAttempts: 3, backoff: .exponential(base: .milliseconds(100), cap: .seconds(10)), maxDelay: .seconds(10))

    func outcome(_ errorClass: ErrorClass, _ status: Int, retryAfter: String? = nil) -> AttemptOutcome {
        AttemptOutcome(errorClass: errorClass, status: status, duration: .milliseconds(1), retryAfter: retryAfter)
    }

    @Test(arguments: defaultClassifications)
    func defaultClassification(_ row: Classification) {
        #expect(policy.isRetryable(outcome(row.errorClass, row.status)) == row.retryable)
    }

    @Test func configuredStatusesAndClasses() {
        let custom = RetryPolicy(retryableClasses: [.timeout], retryableStatuses: [409])
        #expect(custom.isRetryable(outcome(.http4xx, 409)))
        #expect(!custom.isRetryable(outcome(.http4xx, 408)))
        #expect(!custom.isRetryable(outcome(.http5xx, 500)))
        #expect(custom.isRetryable(outcome(.timeout, 0)))
        #expect(!custom.isRetryable(outcome(.cancelled, 0)))
    }

    @Test func changingTheRetryableStatusesChangesWhatIsRetried() {
        var custom = RetryPolicy(retryableClasses: [.timeout], retryableStatuses: [409])
        custom.retryableStatuses = [408, 425]
        #expect(!custom.isRetryable(outcome(.http4xx, 409)))
        #expect(custom.isRetryable(outcome(.http4xx, 408)))
        #expect(custom.isRetryable(outcome(.http4xx, 425)))
        custom.retryableStatuses.insert(409)
        #expect(custom.isRetryable(outcome(.http4xx, 409)))
    }

    /// Whole nanoseconds truncate toward zero and saturate, on both sides of 9.2 s, where the conversion changes
    /// from a 64-bit to a 128-bit division.
    static let wholeNanosecondCases: [(Duration, Int64)] = [
        (.nanoseconds(1234), 1234), (.nanoseconds(-1), -1), (.seconds(9), 9_000_000_000),
        (.seconds(10), 10_000_000_000), (.seconds(-10), -10_000_000_000),
        (Duration(secondsComponent: 0, attosecondsComponent: 1_999_999_999), 1),
        (Duration(secondsComponent: 0, attosecondsComponent: -1_999_999_999), -1),
        (Duration(secondsComponent: 12, attosecondsComponent: 999_999_999_999_999_999), 12_999_999_999),
        (Duration(secondsComponent: -12, attosecondsComponent: -999_999_999_999_999_999), -12_999_999_999),
        (.seconds(Int64.max), .max), (.seconds(Int64.min), .min),
    ]

    @Test(arguments: wholeNanosecondCases)
    func wholeNanosecondsTruncateAndSaturate(duration: Duration, nanoseconds: Int64) {
        #expect(duration.wholeNanoseconds == nanoseconds)
    }

    @Test func maxAttemptsCountsTheFirstAttempt() {
        let failure = outcome(.http5xx, 503)
        #expect(
            policy.decide(attempt: 1, outcome: failure, seed: 1, wallNow: { exampleNow })
                == .retry(after: .milliseconds(100)))
        #expect(
            policy.decide(attempt: 2, outcome: failure, seed: 1, wallNow: { exampleNow })
                == .retry(after: .milliseconds(200)))
        #expect(policy.decide(attempt: 3, outcome: failure, seed: 1, wallNow: { exampleNow }) == .finish)
        #expect(policy.decide(attempt: 1, outcome: outcome(.http4xx, 404), seed: 1, wallNow: { exampleNow }) == .finish)
        #expect(policy.decide(attempt: 1, outcome: outcome(.ok, 200), seed: 1, wallNow: { exampleNow }) == .finish)
    }

    @Test func backoffIsCappedAtMaxDelay() {
        let long = RetryPolicy(
            maxAttempts: 10, backoff: .exponential(base: .seconds(1), cap: .seconds(60)), maxDelay: .seconds(5))
        #expect(
            long.decide(attempt: 5, outcome: outcome(.timeout, 0), seed: 1, wallNow: { exampleNow })
                == .retry(after: .seconds(5)))
    }

    @Test(arguments: [
        ("3", Duration.seconds(3)),
        ("  2 ", Duration.seconds(2)),
        ("0", Duration.zero),
        ("120", Duration.seconds(10)),
        ("99999999999999999999999", Duration.seconds(10)),
        ("Sun, 06 Nov 1994 08:49:37 GMT", Duration.seconds(7)),
        ("Sunday, 06-Nov-94 08:49:37 GMT", Duration.seconds(7)),
        ("Sun Nov  6 08:49:37 1994", Duration.seconds(7)),
        ("Sun, 06 Nov 1994 08:50:30 GMT", Duration.seconds(10)),
        ("Sun, 06 Nov 1994 08:00:00 GMT", Duration.zero),
    ])
    func retryAfterIsHonouredAndCapped(header: String, expected: Duration) {
        let decision = policy.decide(
            attempt: 1, outcome: outcome(.http429, 429, retryAfter: header), seed: 1, wallNow: { exampleNow })
        #expect(decision == .retry(after: expected))
    }

    @Test(arguments: [
        "soon", "-5", "1.5", "", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC",
    ])
    func invalidRetryAfterFallsBackToBackoff(header: String) {
        let decision = policy.decide(
            attempt: 1, outcome: outcome(.http5xx, 503, retryAfter: header), seed: 1, wallNow: { exampleNow })
        #expect(decision == .retry(after: .milliseconds(100)))
    }

    @Test func retryAfterIgnoredWhenNotRespected() {
        var ignoring = policy
        ignoring.respectRetryAfter = false
        let decision = ignoring.decide(
            attempt: 1, outcome: outcome(.http429, 429, retryAfter: "3"), seed: 1, wallNow: { exampleNow })
        #expect(decision == .retry(after: .milliseconds(100)))
    }

    @Test func retryAfterDoesNotMakeAnOutcomeRetryable() {
        let decision = policy.decide(
            attempt: 1, outcome: outcome(.http4xx, 400, retryAfter: "3"), seed: 1, wallNow: { exampleNow })
        #expect(decision == .finish)
    }

    @Test func httpDateParsing() {
        #expect(RetryAfter.httpDateEpochSeconds("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(RetryAfter.httpDateEpochSeconds("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(RetryAfter.httpDateEpochSeconds("Tue, 29 Feb 2000 12:00:00 GMT") == 951_825_600)
        #expect(RetryAfter.httpDateEpochSeconds("Wed, 29 Feb 2001 12:00:00 GMT") == nil)
        #expect(RetryAfter.httpDateEpochSeconds("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(RetryAfter.httpDateEpochSeconds("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(
            RetryAfter.delay("Sun, 06 Nov 1994 08:49:37 GMT", nowSinceEpoch: .seconds(784_111_777) + .milliseconds(500))
                == .zero)
    }
}
