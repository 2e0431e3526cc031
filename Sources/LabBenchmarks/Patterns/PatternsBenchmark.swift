import AsyncPatterns
import Foundation
import Synchronization

/// Measures the per-call overhead of the resilience patterns on the success path: limiter acquire, policy admit
/// (breaker + throttle-free), policy complete (breaker record, budget refund, no retry needed), limiter release.
/// Meant for release builds (`make perf`, figures `patterns.overhead_ns.1thread` and `.8threads`).
public enum PatternsBenchmark {
    /// One measurement.
    public struct Result: Sendable, Hashable {
        /// Threads that ran calls at the same time.
        public var threads: Int
        /// Calls made in total.
        public var calls: Int
        /// Wall time of the whole run, in ns.
        public var elapsedNs: Double
        /// The figure: ns per call as each thread saw it (elapsed × threads / calls).
        public var perCallNs: Double { elapsedNs * Double(threads) / Double(max(calls, 1)) }
        /// Throughput view: wall ns per call over all threads (elapsed / calls).
        public var wallPerCallNs: Double { elapsedNs / Double(max(calls, 1)) }
        /// CPU time (user + system) the process used during the run, in ns; insensitive to other processes' load.
        public var cpuNs: Double
        /// CPU ns per call (cpu / calls).
        public var cpuPerCallNs: Double { cpuNs / Double(max(calls, 1)) }
    }

    /// The configuration measured: count-window breaker, full-jitter retry, token-bucket budget.
    public static let configuration = ResilienceConfiguration(
        retry: .init(maxAttempts: 3, backoff: .full, baseMs: 10, capMs: 1000, maxDelayMs: 5000),
        budget: .init(kind: .tokenBucket, maxTokens: 10, costPerRetry: 1, refundPerSuccess: 0.1),
        breaker: .init(window: .count, windowSize: 100, minimumCalls: 10, failureRate: 0.5))

    /// The per-call overhead in ns (elapsed × threads / calls) of `calls` successful calls spread over `threads`
    /// threads sharing one policy and one limiter.
    public static func overheadNanoseconds(threads: Int, calls: Int) -> Double {
        measure(threads: threads, calls: calls).perCallNs
    }

    /// Runs the measurement and returns the full result.
    public static func measure(threads: Int, calls: Int) -> Result {
        precondition(threads >= 1 && calls >= threads, "need at least one call per thread")
        let policy = try! ResiliencePolicy(configuration: configuration, seed: 42)
        let limiter = ConcurrencyLimiter(limit: threads)
        let perThread = calls / threads
        let gate = StartGate(parties: threads)
        let finished = DispatchGroup()
        let outcome = AttemptOutcome(errorClass: .ok, status: 200, duration: .microseconds(100))
        let started = LockedBox<ContinuousClock.Instant?>(nil)
        let cpuBefore = processCPUNanoseconds()
        for thread in 0..<threads {
            finished.enter()
            let worker = Thread {
                gate.arriveAndWait()
                started.withLock { if $0 == nil { $0 = .now } }
                let base = Int64(thread) << 40
                var sink = 0
                for index in 0..<perThread {
                    let requestID = base + Int64(index)
                    guard limiter.acquireBlocking(timeout: nil) else { continue }
                    if case .proceed = policy.admit(requestID: requestID, attempt: 1) {
                        if case .finish = policy.complete(requestID: requestID, attempt: 1, outcome: outcome) {
                            sink &+= 1
                        }
                    }
                    limiter.release()
                }
                precondition(sink == perThread, "every call should have been admitted and finished")
                finished.leave()
            }
            worker.stackSize = 1 << 20
            worker.start()
        }
        finished.wait()
        let end = ContinuousClock.now
        let cpu = processCPUNanoseconds() - cpuBefore
        let start = started.withLock { $0! }
        let elapsed = start.duration(to: end)
        let elapsedNs = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return Result(threads: threads, calls: perThread * threads, elapsedNs: elapsedNs, cpuNs: cpu)
    }

    /// User + system CPU time of this process so far, in ns.
    static func processCPUNanoseconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
            getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
            getrusage(RUSAGE_SELF, &usage)
        #endif
        func ns(_ time: timeval) -> Double { Double(time.tv_sec) * 1e9 + Double(time.tv_usec) * 1e3 }
        return ns(usage.ru_utime) + ns(usage.ru_stime)
    }
}

/// Releases all parties at once, so thread start-up is not measured.
private final class StartGate: Sendable {
    private let arrived = Atomic<Int>(0)
    private let parties: Int

    init(parties: Int) {
        self.parties = parties
    }

    func arriveAndWait() {
        arrived.add(1, ordering: .acquiringAndReleasing)
        while arrived.load(ordering: .acquiring) < parties { sched_yield() }
    }
}
