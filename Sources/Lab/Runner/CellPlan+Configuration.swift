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
    /// start, or one event at the start of each phase of the spec's fault `schedule` (repeats not expanded).
    func injectedErrorRateEvents(schedule: [MockServerConfiguration.Phase]) -> [EventRecord] {
        let base = self[.errorRate].number ?? 0
        guard !schedule.isEmpty else { return [EventRecord(tNs: 0, kind: .injectedErrorRate, value: base)] }
        var events: [EventRecord] = []
        var start = 0.0
        for phase in schedule {
            events.append(
                EventRecord(
                    tNs: Int64(start * 1_000_000), kind: .injectedErrorRate, value: phase.errorRate ?? base,
                    detail: phase.name))
            start += phase.durationMs
        }
        return events
    }
}
