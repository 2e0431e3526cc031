import AsyncPatterns
import Foundation
import HTTPEngines
import LabStore

extension CellPlan {
    private func number(_ name: String) -> Double { self[name].number ?? 0 }
    private func word(_ name: String) -> String { self[name].description }

    /// The engine configuration of this cell against `baseURL`.
    func engineConfiguration(
        baseURL: String, requests: Int, warmup: Int, seed: UInt64, minMeasuredSeconds: Double? = nil
    ) -> EngineConfiguration {
        let load: LoadModel
        switch word("load") {
        case "fixed": load = .openFixed(rate: number("rate"))
        case "poisson": load = .openPoisson(rate: number("rate"))
        default: load = .closed
        }
        return EngineConfiguration(
            baseURL: baseURL, path: word("path"), concurrency: concurrency,
            pooling: word("pooling") == "naive" ? .naive : .pooled, load: load, requests: requests,
            warmupRequests: warmup, connectTimeout: .milliseconds(Int64(number("connectTimeoutMs"))),
            requestTimeout: .milliseconds(Int64(number("timeoutMs"))), seed: seed,
            minimumMeasuredDuration: minMeasuredSeconds.map { .nanoseconds(Int64(($0 * 1e9).rounded())) })
    }

    /// The mock server's configuration for this cell as a JSON object: the spec's `server` settings with
    /// the cell's seed, latency and error rate laid over them.
    func serverConfigurationJSON(specServerJSON: String, seed: UInt64) -> String {
        var object = (try? JSONSerialization.jsonObject(with: Data(specServerJSON.utf8)) as? [String: Any]) ?? [:]
        object["seed"] = NSNumber(value: seed)
        object["errorRate"] = number("errorRate")
        let ms = number("latencyMs")
        let jitter = number("jitter")
        switch word("latencyModel") {
        case "exponential": object["latency"] = ["kind": "exponential", "ms": ms]
        case "lognormal": object["latency"] = ["kind": "lognormal", "ms": ms, "sigma": jitter > 0 ? jitter : 0.5]
        default:
            object["latency"] =
                jitter > 0 ? ["kind": "uniform", "ms": ms, "jitter": jitter] : ["kind": "fixed", "ms": ms]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension CellPlan {
    /// The error rate the server injects over time, as `injected_error_rate` events: the base rate at the
    /// start, or one event at the start of each phase of the spec's fault schedule (repeats not expanded).
    func injectedErrorRateEvents(specServerJSON: String) -> [EventRecord] {
        let base = self["errorRate"].number ?? 0
        var events = [EventRecord(tNs: 0, kind: "injected_error_rate", value: base)]
        guard let object = try? JSONSerialization.jsonObject(with: Data(specServerJSON.utf8)) as? [String: Any],
            let phases = object["schedule"] as? [[String: Any]]
        else { return events }
        var start = 0.0
        events.removeAll()
        for phase in phases {
            let rate = (phase["errorRate"] as? NSNumber)?.doubleValue ?? base
            events.append(
                EventRecord(
                    tNs: Int64(start * 1_000_000), kind: "injected_error_rate", value: rate,
                    detail: phase["name"] as? String))
            start += (phase["durationMs"] as? NSNumber)?.doubleValue ?? 0
        }
        return events
    }
}
