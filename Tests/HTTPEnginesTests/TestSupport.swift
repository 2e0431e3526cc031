import AsyncPatterns
import HTTPEngines
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps every sample, thread-safely.
final class CollectingSink: SampleSink {
    private let samples = Mutex<[AttemptSample]>([])
    func record(_ sample: AttemptSample) { samples.withLock { $0.append(sample) } }
    var all: [AttemptSample] { samples.withLock { $0 } }
    var finals: [AttemptSample] { all.filter(\.isFinal) }
}

/// Retries any unsuccessful attempt after 1 ms, up to `maxAttempts` attempts in all.
struct RetryNTimesPolicy: AttemptPolicy {
    var maxAttempts: Int32
    func admit(requestID: Int64, attempt: Int32) -> Admission { .proceed }
    func complete(requestID: Int64, attempt: Int32, outcome: AttemptOutcome) -> AttemptDecision {
        outcome.errorClass.isSuccess || attempt >= maxAttempts ? .finish : .retry(after: .milliseconds(1))
    }
}

/// Rejects even request ids at admission and gives up on any failure with `.budgetExhausted`.
struct RejectEvenGiveUpPolicy: AttemptPolicy {
    func admit(requestID: Int64, attempt: Int32) -> Admission {
        requestID % 2 == 0 ? .reject(.circuitOpen) : .proceed
    }
    func complete(requestID: Int64, attempt: Int32, outcome: AttemptOutcome) -> AttemptDecision {
        outcome.errorClass.isSuccess ? .finish : .giveUp(.budgetExhausted)
    }
}

/// Checks the accounting invariant: every logical request 0..<total has exactly one final sample, its attempts
/// are numbered 1...n without gaps, and the final one is the last. Computed in plain code with one expectation
/// per property, so that large runs stay cheap.
func expectAccounting(_ samples: [AttemptSample], total: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    var byID = [[AttemptSample]](repeating: [], count: total)
    var outOfRange = 0
    for sample in samples {
        if sample.requestID >= 0 && sample.requestID < Int64(total) {
            byID[Int(sample.requestID)].append(sample)
        } else {
            outOfRange += 1
        }
    }
    var badFinals: [Int] = []
    var badNumbering: [Int] = []
    for (id, samples) in byID.enumerated() {
        let attempts = samples.sorted { $0.attempt < $1.attempt }
        if attempts.filter(\.isFinal).count != 1 || attempts.last?.isFinal != true { badFinals.append(id) }
        if attempts.isEmpty || !attempts.map(\.attempt).elementsEqual(1...Int32(attempts.count)) {
            badNumbering.append(id)
        }
    }
    #expect(outOfRange == 0, "samples with an id outside 0..<\(total)", sourceLocation: sourceLocation)
    #expect(
        badFinals.isEmpty, "requests without exactly one final, last sample: \(badFinals.prefix(10))",
        sourceLocation: sourceLocation)
    #expect(
        badNumbering.isEmpty, "requests with missing or gapped attempts: \(badNumbering.prefix(10))",
        sourceLocation: sourceLocation)
}

/// A loopback port with nothing listening on it.
func closedPort() throws -> Int {
    let server = try RawTestServer(.silent)
    let port = server.port
    server.kill()
    return port
}
