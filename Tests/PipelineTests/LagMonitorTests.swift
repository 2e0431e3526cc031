import AsyncPatterns
import Foundation
import TestSupport
import Testing

/// An executor the test drives by hand: it holds scheduled closures until `runNext(after:)`.
private final class HeldExecutor: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [@Sendable () -> Void] = []

    func schedule(_ body: @escaping @Sendable () -> Void) {
        condition.lock()
        pending.append(body)
        condition.signal()
        condition.unlock()
    }

    /// Waits for a scheduled closure, holds it for `delay`, then runs it.
    func runNext(after delay: Duration) {
        condition.lock()
        while pending.isEmpty { condition.wait() }
        let body = pending.removeFirst()
        condition.unlock()
        Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        body()
    }
}

@Suite(.timeLimit(.minutes(1)))
struct LagMonitorTests {
    @Test func summaryOfKnownLags() {
        let origin = ContinuousClock.now
        let monitor = LagMonitor(configuration: .init(interval: .milliseconds(10), capacity: 1_000), origin: origin)
        for lag in (1...100).reversed() {
            monitor.record(at: origin.advanced(by: .milliseconds(101 - lag)), lag: .milliseconds(lag))
        }
        monitor.record(at: origin.advanced(by: .milliseconds(200)), lag: .milliseconds(-1))
        let summary = monitor.summary
        #expect(summary.count == 101)
        #expect(summary.maxNs == 100_000_000)
        #expect(summary.p95Ns == 95_000_000)
        #expect(abs(summary.meanNs - 5050.0 / 101.0 * 1_000_000) < 1)
        let drained = monitor.drainSamples()
        #expect(drained.count == 101 && drained.first == LagSample(tNs: 1_000_000, lagNs: 100_000_000))
        #expect(drained.last?.lagNs == 0)
        #expect(monitor.samples.isEmpty)
        #expect(monitor.summary == summary)
    }

    @Test func measuresTheConcurrencyPool() async throws {
        let monitor = LagMonitor(configuration: .init(interval: .milliseconds(2)))
        monitor.start()
        #expect(await waitUntil { monitor.summary.count >= 5 })
        let summary = monitor.stop()
        let samples = monitor.samples
        #expect(summary.count >= 5 && samples.count >= 5)
        #expect(samples.allSatisfy { $0.lagNs >= 0 && $0.tNs > 0 })
        #expect(samples.map(\.tNs) == samples.map(\.tNs).sorted())
        #expect(summary.maxNs >= summary.p95Ns && summary.p95Ns >= 0)
        #expect(summary.maxNs == samples.map(\.lagNs).max())
    }

    @Test func measuresAnExecutorHop() async throws {
        let executor = HeldExecutor()
        let monitor = LagMonitor(configuration: .init(interval: .milliseconds(1)))
        monitor.start { body in executor.schedule(body) }
        try await onThread { for _ in 0..<3 { executor.runNext(after: .milliseconds(20)) } }
        #expect(await waitUntil { monitor.summary.count == 3 })
        monitor.stop()
        let summary = monitor.summary
        // Each closure was held 20 ms before it ran: the lag is at least that.
        #expect(monitor.samples.allSatisfy { $0.lagNs >= 20_000_000 })
        #expect(summary.p95Ns >= 20_000_000 && summary.maxNs >= summary.p95Ns)
    }

    @Test func measuresADispatchQueue() async throws {
        let queue = DispatchQueue(label: "lag-test")
        let monitor = LagMonitor(configuration: .init(interval: .milliseconds(1)))
        let run = Task { await monitor.run { body in queue.async(execute: body) } }
        while monitor.summary.count < 5 { try await Task.sleep(for: .milliseconds(1)) }
        run.cancel()
        await run.value
        let count = monitor.summary.count
        #expect(count >= 5 && monitor.samples.count == count)
    }
}
