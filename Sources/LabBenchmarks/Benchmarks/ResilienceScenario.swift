import AsyncPatterns
import Foundation
import HTTPEngines
import Lab
import MockServer

/// Settings of the breaker scenario (`make benchmark-resilience`, and the end-to-end test): the mock server is
/// healthy, then fails every request, then recovers; the async engine sends an open loop through a
/// `ResiliencePolicy` with a circuit breaker and retries.
public struct ResilienceScenarioOptions: Sendable {
    /// Length of the first healthy phase, ms. Default 2000.
    public var healthyMs: Double = 2000
    /// Length of the phase where every request gets a 500, ms. Default 3000.
    public var failingMs: Double = 3000
    /// Length of the recovered phase, ms. Default 3000.
    public var recoveredMs: Double = 3000
    /// Open-loop arrival rate, req/s. Default 200.
    public var rate: Double = 200
    /// Cap on requests in flight. Default 32.
    public var concurrency: Int = 32
    /// The server's fixed latency, ms. Default 2.
    public var latencyMs: Double = 2
    /// How long the breaker stays open before probing, ms. Default 500.
    public var openMs: Double = 500
    /// Whether the policy has a circuit breaker; off shows that the check fails when the pattern is broken.
    /// Default true.
    public var breakerEnabled = true
    /// Whether failed attempts are retried (3 attempts, full jitter, 10 ms base, 100 ms cap). Default true.
    public var retriesEnabled = true
    /// Seed of the server's and the policy's random draws. Default 7.
    public var seed: UInt64 = 7

    /// The defaults of `make benchmark-resilience`.
    public init() {}

    /// The mock server's configuration: the three phases, then the base settings (healthy) after them.
    public var serverConfiguration: MockServerConfiguration {
        MockServerConfiguration(
            seed: seed, latency: .fixed(ms: latencyMs), errorRate: 0,
            schedule: [
                .init(name: "healthy", durationMs: healthyMs, errorRate: 0),
                .init(name: "failing", durationMs: failingMs, errorRate: 1),
                .init(name: "recovered", durationMs: recoveredMs, errorRate: 0),
            ])
    }

    /// The policy's configuration: a count-window breaker (20 calls, trips at 50% failures over at least 10,
    /// 3 half-open probes) and retries.
    public var resilienceConfiguration: ResilienceConfiguration {
        ResilienceConfiguration(
            retry: retriesEnabled
                ? .init(maxAttempts: 3, backoff: .full, baseMs: 10, capMs: 100, maxDelayMs: 1000) : nil,
            breaker: breakerEnabled
                ? .init(
                    window: .count, windowSize: 20, minimumCalls: 10, failureRate: 0.5, openMs: openMs,
                    halfOpenProbes: 3) : nil)
    }

    /// The whole run, ms.
    var totalMs: Double { healthyMs + failingMs + recoveredMs }
}

/// What the scenario observed, and what was wrong with it.
public struct ResilienceScenarioResult: Sendable {
    /// Every breaker transition, oldest first (time since the policy was made, roughly the schedule's start).
    public var transitions: [CircuitTransition]
    /// The policy's counters at the end.
    public var snapshot: ResilienceSnapshot
    /// Final outcomes by error class.
    public var outcomes: [ErrorClass: Int]
    /// Attempts sent or rejected, retries included.
    public var attempts: Int
    /// Successful requests that ended after the failing phase.
    public var okAfterRecovery: Int
    /// Expectations that did not hold; empty when the pattern behaved.
    public var problems: [String]

    /// Whether every expected transition happened.
    public var passed: Bool { problems.isEmpty }

    /// A human-readable account: transitions, counters, outcomes and the verdict.
    public var description: String {
        var lines = ["breaker transitions (\(transitions.count)):"]
        if transitions.isEmpty { lines.append("  (none)") }
        for transition in transitions {
            lines.append(
                "  " + BenchmarkSupport.pad(String(format: "%.3f s", BenchmarkSupport.seconds(transition.at)), 9)
                    + "  \(transition.from.rawValue) -> \(transition.to.rawValue): \(transition.reason)")
        }
        let s = snapshot
        lines.append(
            "requests \(s.requests), attempts \(s.attempts), retries \(s.retries), breaker rejections "
                + "\(s.breakerRejections), final failures \(s.finalFailures), breaker now "
                + "\(s.breakerState?.rawValue ?? "absent")")
        lines.append(
            "final outcomes: "
                + outcomes.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
                .joined(separator: ", ") + "; ok after recovery: \(okAfterRecovery)")
        if problems.isEmpty {
            lines.append("PASS: closed -> open -> half_open -> closed, with rejections and retries")
        } else {
            lines.append("FAIL:")
            lines += problems.map { "  - \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// Runs the breaker scenario against a mock server; the caller owns the server (subprocess or in-process).
public struct ResilienceScenario: Sendable {
    /// The settings.
    public var options: ResilienceScenarioOptions

    /// Creates the scenario with `options`.
    public init(options: ResilienceScenarioOptions = .init()) {
        self.options = options
    }

    /// Makes the policy, calls `startSchedule` (which must apply `options.serverConfiguration` to the server,
    /// restarting its schedule clock), runs the async engine for the whole schedule and checks the transitions.
    /// - Throws: `ResilienceConfigurationError`, or the engine's or `startSchedule`'s error.
    public func run(
        baseURL: String, startSchedule: @Sendable () async throws -> Void
    ) async throws -> ResilienceScenarioResult {
        let options = self.options
        let policy = try ResiliencePolicy(configuration: options.resilienceConfiguration, seed: options.seed)
        try await startSchedule()
        let sink = CollectingSink()
        let requests = Int(options.rate * options.totalMs / 1000)
        let configuration = EngineConfiguration(
            baseURL: baseURL, path: "/get", concurrency: options.concurrency, load: .openFixed(rate: options.rate),
            requests: requests, warmupRequests: 0, connectTimeout: .seconds(1), requestTimeout: .seconds(2),
            seed: options.seed)
        _ = try await makeEngine(.async).run(configuration, policy: policy, sink: sink)
        let samples = sink.all
        var outcomes: [ErrorClass: Int] = [:]
        var okAfterRecovery = 0
        let recoveryNs = Int64((options.healthyMs + options.failingMs) * 1e6)
        for sample in samples where sample.isFinal {
            outcomes[sample.errorClass, default: 0] += 1
            if sample.errorClass == .ok && sample.endNs > recoveryNs { okAfterRecovery += 1 }
        }
        let transitions = policy.breakerTransitions
        let snapshot = policy.snapshot()
        return ResilienceScenarioResult(
            transitions: transitions, snapshot: snapshot, outcomes: outcomes, attempts: samples.count,
            okAfterRecovery: okAfterRecovery,
            problems: Self.problems(
                transitions: transitions, snapshot: snapshot, okAfterRecovery: okAfterRecovery,
                options: options))
    }

    /// The expectations: opens during the failing phase (not before), probes half-open, ends closed after the
    /// recovery; rejections and retries happened; requests succeed again after the recovery.
    static func problems(
        transitions: [CircuitTransition], snapshot: ResilienceSnapshot, okAfterRecovery: Int,
        options: ResilienceScenarioOptions
    ) -> [String] {
        var problems: [String] = []
        let slackMs = 100.0
        func ms(_ duration: Duration) -> Double { BenchmarkSupport.seconds(duration) * 1000 }
        if snapshot.breakerState == nil { problems.append("the policy has no circuit breaker, so nothing can open") }
        if let early = transitions.first(where: { ms($0.at) < options.healthyMs - slackMs }) {
            problems.append("a transition happened while the server was healthy: \(early)")
        }
        guard let opened = transitions.firstIndex(where: { $0.from == .closed && $0.to == .open }) else {
            problems.append("the breaker never went closed -> open while the server failed every request")
            return problems + Self.counterProblems(snapshot, okAfterRecovery, options)
        }
        if ms(transitions[opened].at) > options.healthyMs + options.failingMs {
            problems.append("the breaker opened only after the failing phase ended (at \(transitions[opened].at))")
        }
        if !transitions[opened...].contains(where: { $0.from == .open && $0.to == .halfOpen }) {
            problems.append("the breaker never went open -> half_open after \(options.openMs) ms")
        }
        if let last = transitions.last {
            if !(last.from == .halfOpen && last.to == .closed) {
                problems.append(
                    "the last transition is \(last.from.rawValue) -> \(last.to.rawValue), not half_open -> closed")
            } else if ms(last.at) < options.healthyMs + options.failingMs - slackMs {
                problems.append("the breaker closed before the server recovered (at \(last.at))")
            }
        }
        if snapshot.breakerState != .closed {
            problems.append("the breaker ended \(snapshot.breakerState?.rawValue ?? "absent"), not closed")
        }
        return problems + Self.counterProblems(snapshot, okAfterRecovery, options)
    }

    private static func counterProblems(
        _ snapshot: ResilienceSnapshot, _ okAfterRecovery: Int, _ options: ResilienceScenarioOptions
    ) -> [String] {
        var problems: [String] = []
        if snapshot.breakerRejections == 0 { problems.append("the breaker rejected no call while open") }
        if options.retriesEnabled && snapshot.retries == 0 { problems.append("no failed attempt was retried") }
        if okAfterRecovery == 0 { problems.append("no request succeeded after the server recovered") }
        return problems
    }
}

extension ResilienceScenario {
    /// `make benchmark-resilience`: starts a mock server subprocess, runs the scenario against it, prints the
    /// transitions, counters and the server's requests per phase, and returns the result (check `passed`).
    /// - Throws: `LabError` when the mock server is missing, or the scenario's errors.
    public func runAgainstMockServerProcess() async throws -> ResilienceScenarioResult {
        BenchmarkSupport.warnIfDebug()
        let server = try MockServerProcess(executable: ExperimentRunner.siblingExecutable("mock-server"), cpu: nil)
        defer { server.stop() }
        let options = self.options
        print(
            "make benchmark-resilience: mock server \(server.baseURL); phases healthy \(Int(options.healthyMs)) ms, "
                + "100% errors \(Int(options.failingMs)) ms, recovered \(Int(options.recoveredMs)) ms; async engine, "
                + "open loop \(Int(options.rate)) req/s; breaker \(options.breakerEnabled ? "on" : "OFF"), "
                + "retries \(options.retriesEnabled ? "on" : "off")")
        return try await BenchmarkSupport.withAdminClient { admin in
            let result = try await run(baseURL: server.baseURL) {
                try await server.configure(json: options.serverConfiguration.jsonString(), client: admin)
            }
            let figures = try await server.figures(client: admin, cpuBefore: nil)
            if let counters = try? JSONDecoder().decode(MockServerCounters.self, from: Data(figures.countersJSON.utf8))
            {
                let phases = counters.byPhase.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                let statuses = counters.byStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                print(
                    "server: requests by phase: \(phases.joined(separator: ", ")); by status: "
                        + statuses.joined(separator: ", "))
            }
            print(result.description)
            return result
        }
    }
}
