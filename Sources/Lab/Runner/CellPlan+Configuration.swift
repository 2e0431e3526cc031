import AsyncPatterns
import Foundation
import HTTPEngines
import LabStore
import MockServer

extension CellPlan {
    private func number(_ name: ParameterName) -> Double { self[name].number ?? 0 }
    private func word(_ name: ParameterName) -> String { self[name].description }

    /// The engine configuration of this cell against `baseURL`.
    func engineConfiguration(
        baseURL: String, requests: Int, warmup: Int, seed: UInt64, minMeasuredSeconds: Double? = nil
    ) -> EngineConfiguration {
        let load: LoadModel
        switch word(.load) {
        case "fixed": load = .openFixed(rate: number(.rate))
        case "poisson": load = .openPoisson(rate: number(.rate))
        default: load = .closed
        }
        return EngineConfiguration(
            baseURL: baseURL, path: word(.path), concurrency: concurrency,
            pooling: word(.pooling) == "naive" ? .naive : .pooled, load: load, requests: requests,
            warmupRequests: warmup, connectTimeout: .milliseconds(Int64(number(.connectTimeoutMs))),
            requestTimeout: .milliseconds(Int64(number(.timeoutMs))), seed: seed,
            minimumMeasuredDuration: minMeasuredSeconds.map { .nanoseconds(Int64(($0 * 1e9).rounded())) })
    }

    /// The mock server's configuration for this cell: the spec's `server` settings (`base`) with the cell's seed,
    /// error rate and latency (`latencyMs`, `jitter`, `latencyModel`) laid over them. The server is sent its
    /// `jsonString()`, which decodes back to this value.
    func serverConfiguration(base: MockServerConfiguration, seed: UInt64) -> MockServerConfiguration {
        var configuration = base
        configuration.seed = seed
        configuration.errorRate = number(.errorRate)
        let ms = number(.latencyMs)
        let jitter = number(.jitter)
        switch word(.latencyModel) {
        case "exponential": configuration.latency = .exponential(ms: ms)
        case "lognormal": configuration.latency = .lognormal(ms: ms, sigma: jitter > 0 ? jitter : 0.5)
        default: configuration.latency = jitter > 0 ? .uniform(ms: ms, jitter: jitter) : .fixed(ms: ms)
        }
        return configuration
    }
}

extension CellPlan {
    /// The error rate the server injects over time, as `injected_error_rate` events: the base rate at the
    /// start, or one event at the start of each phase of the spec's fault `schedule` (repeats not expanded), on
    /// the client's clock. The server's schedule started `offsetNs` before the client's time origin (a live cell
    /// configures the server, then starts its client; the simulation's server starts with its clients, offset 0),
    /// so each phase starts that much earlier for the client, and a phase already in force at its origin starts
    /// at 0.
    func injectedErrorRateEvents(schedule: [MockServerConfiguration.Phase], offsetNs: Int64 = 0) -> [EventRecord] {
        let base = self[.errorRate].number ?? 0
        guard !schedule.isEmpty else { return [EventRecord(tNs: 0, kind: .injectedErrorRate, value: base)] }
        var events: [EventRecord] = []
        var start = 0.0
        for (index, phase) in schedule.enumerated() {
            let end = start + phase.durationMs
            let startNs = Int64(start * 1_000_000) - offsetNs
            // A phase that ended before the client's origin never applied to it (the last one always does).
            if index == schedule.count - 1 || Int64(end * 1_000_000) - offsetNs > 0 {
                events.append(
                    EventRecord(
                        tNs: Swift.max(0, startNs), kind: .injectedErrorRate, value: phase.errorRate ?? base,
                        detail: phase.name))
            }
            start = end
        }
        return events
    }

    /// How long before the client's time origin the server's schedule started, in ns: the client's
    /// `client_origin_uptime_ns` event against the server's `scheduleStartUptimeNs` (both on the host's uptime
    /// clock); 0 when either is missing.
    static func scheduleOffsetNs(clientEvents: [EventRecord], server: ServerFigures?) -> Int64 {
        guard let origin = clientEvents.first(where: { $0.kind == .clientOriginUptimeNs })?.value,
            let json = server?.countersJSON,
            let start = try? ServerFigures.counters(json).scheduleStartUptimeNs
        else { return 0 }
        return Int64(origin) - Int64(start)
    }
}
