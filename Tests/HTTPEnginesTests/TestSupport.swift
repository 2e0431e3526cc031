import AsyncPatterns
import Foundation
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

/// Retries any unsuccessful attempt after a fixed backoff, up to `maxAttempts` attempts in all.
struct FixedBackoffPolicy: AttemptPolicy {
    var maxAttempts: Int32
    var backoff: Duration
    func admit(requestID: Int64, attempt: Int32) -> Admission { .proceed }
    func complete(requestID: Int64, attempt: Int32, outcome: AttemptOutcome) -> AttemptDecision {
        outcome.errorClass.isSuccess || attempt >= maxAttempts ? .finish : .retry(after: backoff)
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

/// A loopback port with nothing listening on it: connecting is refused.
///
/// The port stays bound, never listening and without `SO_REUSEADDR`, for the life of the test process, so that a
/// server started on port 0 by a test running in parallel cannot be given it (and receive another test's requests).
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else {
        close(fd)
        throw POSIXError(.EADDRINUSE)
    }
    // `fd` is deliberately never closed.
    return Int(UInt16(bigEndian: address.sin_port))
}
