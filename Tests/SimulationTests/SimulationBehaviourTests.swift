import AsyncPatterns
import HTTPEngines
import MockServer
import Simulation
import Testing

@Suite("Simulation behaviour")
struct SimulationBehaviourTests {
    @Test("every sent attempt fails exactly when the mock server's own decision says so")
    func faultsAreTheMockServersDecision() throws {
        let server = SimulationFixtures.server(errorRate: 0.3, seed: 99)
        let result = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: 20, requests: 3000), server: server,
            resilience: SimulationFixtures.retrying(maxAttempts: 3), seed: 3, network: .fixed(.microseconds(200)))
        let sent = result.samples.filter { $0.status != 0 }
        #expect(sent.count == result.samples.count)
        #expect(sent.contains { $0.attempt == 3 })
        for sample in sent {
            let fails = MockServer.shouldFail(
                seed: 99, requestID: String(sample.requestID), attempt: Int(sample.attempt), errorRate: 0.3)
            #expect(fails == (sample.errorClass == .http5xx), "request \(sample.requestID) attempt \(sample.attempt)")
            if !fails { #expect(sample.isFinal) }
        }
    }

    @Test("with every attempt failing, each request makes maxAttempts attempts, from the library's retry policy")
    func retriesUpToMaxAttempts() throws {
        let result = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: 8, requests: 200),
            server: SimulationFixtures.server(errorRate: 1.0), resilience: SimulationFixtures.retrying(maxAttempts: 4),
            seed: 1)
        let byRequest = Dictionary(grouping: result.samples, by: \.requestID)
        #expect(byRequest.count == 200)
        for (_, samples) in byRequest {
            #expect(samples.map(\.attempt).sorted() == [1, 2, 3, 4])
            #expect(samples.filter(\.isFinal).map(\.attempt) == [4])
        }
        #expect(result.resilience?.retries == 600)
        // Each retry waits out a full-jitter backoff of at most the cap (200 ms), at least 0.
        let sorted = result.samples.sorted { ($0.requestID, $0.attempt) < ($1.requestID, $1.attempt) }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.requestID == next.requestID {
            #expect(next.startNs >= previous.endNs)
            #expect(next.startNs - previous.endNs <= 200_000_000)
        }
    }

    @Test("a token budget stops retries once spent: the library's budget decides")
    func budgetRefusesRetries() throws {
        var resilience = SimulationFixtures.retrying(maxAttempts: 4)
        resilience.budget = .init(kind: .tokenBucket, maxTokens: 5, costPerRetry: 1, refundPerSuccess: 0)
        let result = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: 4, requests: 100),
            server: SimulationFixtures.server(errorRate: 1.0), resilience: resilience, seed: 1)
        let retriesSent = result.samples.filter { $0.attempt > 1 && $0.status != 0 }
        let refused = result.samples.filter { $0.errorClass == .budgetExhausted }
        #expect(retriesSent.count == 5)
        #expect(result.resilience?.retries == 5)
        // Five retries reach at most one request's full three; every other request ends refused.
        #expect(refused.count >= 99)
        #expect(refused.allSatisfy { $0.isFinal && $0.status == 0 && $0.startNs == $0.endNs })
        #expect(result.resilience?.budgetRefusals == refused.count)
    }

    @Test("the library's breaker opens on failures, rejects, and half-opens after its open time in virtual time")
    func breakerOpensAndProbes() throws {
        var configuration = SimulationFixtures.closed(workers: 16, requests: 1000)
        configuration.load = .openFixed(rate: 200)
        let resilience = ResilienceConfiguration(
            breaker: .init(window: .count, windowSize: 10, minimumCalls: 5, failureRate: 0.5, openMs: 1000))
        let result = try Simulation.run(
            configuration: configuration, server: SimulationFixtures.server(latency: .fixed(ms: 5), errorRate: 1.0),
            resilience: resilience, seed: 1)
        let transitions = result.breakerTransitions
        #expect(transitions.count >= 3)
        guard transitions.count >= 3 else { return }
        #expect(transitions[0].from == .closed && transitions[0].to == .open)
        #expect(transitions[1].from == .open && transitions[1].to == .halfOpen)
        #expect(transitions[2].from == .halfOpen && transitions[2].to == .open)
        #expect(transitions[1].at - transitions[0].at >= .seconds(1))
        #expect(transitions[1].at - transitions[0].at < .milliseconds(1010))
        let rejected = result.samples.filter { $0.errorClass == .circuitOpen }
        #expect(rejected.count > 900)
        #expect(result.resilience?.breakerRejections == rejected.count)
        #expect(result.resilienceEvents.contains { $0.kind == .breakerTransition })
    }

    @Test("a closed loop of N clients at latency L and round trip R runs at N / (L + R)", arguments: [1, 10, 100])
    func closedLoopThroughput(workers: Int) throws {
        let result = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: workers, requests: 100 * workers),
            server: SimulationFixtures.server(latency: .fixed(ms: 10)), seed: 1,
            network: .fixed(.milliseconds(2)))
        let seconds =
            Double(result.summary.elapsed.components.seconds)
            + Double(result.summary.elapsed.components.attoseconds) * 1e-18
        let throughput = Double(result.summary.completedRequests) / seconds
        let expected = Double(workers) / 0.012
        #expect(abs(throughput / expected - 1) < 0.01, "\(throughput) req/s, expected \(expected)")
        #expect(result.samples.allSatisfy { $0.latencyNs == 12_000_000 && $0.errorClass == .ok })
    }

    @Test("the library's adaptive throttle rejects locally once the server stops accepting")
    func throttleRejects() throws {
        var configuration = SimulationFixtures.closed(workers: 4, requests: 2000)
        configuration.load = .openFixed(rate: 500)
        let result = try Simulation.run(
            configuration: configuration, server: SimulationFixtures.server(latency: .fixed(ms: 5), errorRate: 1.0),
            resilience: ResilienceConfiguration(throttle: .init(k: 2, windowMs: 10_000, buckets: 10)), seed: 1)
        let throttled = result.samples.filter { $0.errorClass == .throttled }
        #expect(throttled.count > 1000)
        #expect(throttled.allSatisfy { $0.isFinal && $0.status == 0 })
        #expect(result.resilience?.throttleRejections == throttled.count)
        // Early requests are not throttled: the rejection probability grows with the failures in the window.
        #expect((throttled.map(\.requestID).min() ?? 0) > 0)
    }

    @Test("the library's limiter holds k attempts in flight; a wait past the acquire timeout ends unsent")
    func limiterGatesAttempts() throws {
        let server = SimulationFixtures.server(latency: .fixed(ms: 10))
        let patient = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: 20, requests: 1000), server: server,
            resilience: ResilienceConfiguration(limiter: .init(limit: 5)), seed: 1)
        #expect(abs(Double(patient.summary.completedRequests) / seconds(patient.summary.elapsed) / 500 - 1) < 0.01)
        #expect(patient.resilience?.limiterPeak == 5)
        #expect((patient.resilience?.limiterWaits ?? 0) > 0)
        #expect(patient.samples.allSatisfy { $0.errorClass == .ok })

        let impatient = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: 20, requests: 1000), server: server,
            resilience: ResilienceConfiguration(limiter: .init(limit: 5, acquireTimeoutMs: 5)), seed: 1)
        let timedOut = impatient.samples.filter { $0.errorClass == .limiterTimeout }
        #expect(!timedOut.isEmpty)
        #expect(timedOut.allSatisfy { $0.isFinal && $0.status == 0 && $0.latencyNs == 5_000_000 })
        #expect(impatient.resilience?.limiterTimeouts == timedOut.count)
        #expect(impatient.samples.filter(\.isFinal).count == 1000)
    }

    @Test("capacity k with a queue serves k at a time; work goes on after a client times out")
    func capacityQueueAndWastedWork() throws {
        var server = SimulationFixtures.server(latency: .fixed(ms: 10))
        server.capacity = .init(limit: 2, whenFull: .queue)
        let fast = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: 10, requests: 1000), server: server, seed: 1)
        let seconds =
            Double(fast.summary.elapsed.components.seconds)
            + Double(fast.summary.elapsed.components.attoseconds) * 1e-18
        #expect(abs(Double(fast.summary.completedRequests) / seconds / 200 - 1) < 0.01)
        #expect(fast.server.peakInService == 2)
        #expect(fast.server.peakQueued == 8)
        #expect(fast.server.wasted == 0)

        var impatient = SimulationFixtures.closed(workers: 10, requests: 1000)
        impatient.requestTimeout = .milliseconds(25)
        let slow = try Simulation.run(configuration: impatient, server: server, seed: 1)
        #expect(slow.samples.contains { $0.errorClass == .timeout })
        #expect(slow.server.wasted > 0)
        #expect(slow.samples.filter { $0.errorClass == .timeout }.allSatisfy { $0.latencyNs == 25_000_000 })
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
