import AsyncPatterns
import Foundation
import HTTPEngines

extension CellPlan {
    private func number(_ name: String) -> Double { self[name].number ?? 0 }
    private func word(_ name: String) -> String { self[name].description }

    /// The engine configuration of this cell against `baseURL`.
    func engineConfiguration(baseURL: String, requests: Int, warmup: Int, seed: UInt64) -> EngineConfiguration {
        let load: LoadModel
        switch word("load") {
        case "fixed": load = .openFixed(rate: number("rate"))
        case "poisson": load = .openPoisson(rate: number("rate"))
        default: load = .closed
        }
        return EngineConfiguration(
            baseURL: baseURL, path: word("path"), concurrency: Int(number("concurrency")),
            pooling: word("pooling") == "naive" ? .naive : .pooled, load: load, requests: requests,
            warmupRequests: warmup, connectTimeout: .milliseconds(Int64(number("connectTimeoutMs"))),
            requestTimeout: .milliseconds(Int64(number("timeoutMs"))), seed: seed)
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
            object["latency"] = jitter > 0 ? ["kind": "uniform", "ms": ms, "jitter": jitter] : ["kind": "fixed", "ms": ms]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
