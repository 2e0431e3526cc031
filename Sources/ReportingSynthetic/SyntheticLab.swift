import AsyncPatterns
import Foundation
import LabStore
import Reporting

/// Writes a deterministic, synthetic lab database: a simulated closed-loop sweep with a fixed service time,
/// seeded jitter and injected errors. Used for the report's golden fixture, its tests and its speed figure.
public enum SyntheticLab {
    /// What to simulate.
    public struct Configuration: Sendable {
        /// Experiment name (user text in real specs; tests put hostile strings here). Default `demo`.
        public var name: String
        /// The question the spec asks. Default a throughput question.
        public var question: String
        /// Engines. Default sync, threaded, async.
        public var engines: [String]
        /// Concurrency axis. Default 1, 4, 16.
        public var concurrencies: [Int]
        /// Error-rate axis (fraction of attempts that fail with a 500). Default [0].
        public var errorRates: [Double]
        /// Retry axis: `none` or `exponential` (up to 3 attempts). Default [none].
        public var retries: [String]
        /// Open-loop arrival rates, requests/s; empty for a closed loop. Default [].
        public var rates: [Double]
        /// Retry budgets: the largest share of retries among attempts; empty for no budget. Default [].
        public var budgets: [Double]
        /// Backoff strategies (`none`, `exponential`, `full`, `equal`, `decorrelated`); empty for exponential.
        /// Default [].
        public var backoffs: [String]
        /// Measured logical requests per cell. Default 200.
        public var requests: Int
        /// Warm-up logical requests per cell. Default 20.
        public var warmup: Int
        /// Repetitions per cell. Default 3.
        public var repetitions: Int
        /// Mean service time, ms. Default 10.
        public var latencyMs: Double
        /// Master seed. Default 42.
        public var seed: UInt64
        /// Whether to record breaker and queue-depth events. Default true.
        public var events: Bool
        /// Whether the sequential sync engine runs at the lowest concurrency only, as the runner does. Default true.
        public var syncAtLowestConcurrencyOnly: Bool

        /// Creates a configuration; every argument has the default documented on its property.
        public init(
            name: String = "demo", question: String = "How much faster is async than threaded and sync?",
            engines: [String] = ["sync", "threaded", "async"], concurrencies: [Int] = [1, 4, 16],
            errorRates: [Double] = [0], retries: [String] = ["none"], rates: [Double] = [], budgets: [Double] = [],
            backoffs: [String] = [], requests: Int = 200, warmup: Int = 20,
            repetitions: Int = 3, latencyMs: Double = 10, seed: UInt64 = 42, events: Bool = true,
            syncAtLowestConcurrencyOnly: Bool = true
        ) {
            self.name = name
            self.question = question
            self.engines = engines
            self.concurrencies = concurrencies
            self.errorRates = errorRates
            self.retries = retries
            self.rates = rates
            self.budgets = budgets
            self.backoffs = backoffs
            self.requests = requests
            self.warmup = warmup
            self.repetitions = repetitions
            self.latencyMs = latencyMs
            self.seed = seed
            self.events = events
            self.syncAtLowestConcurrencyOnly = syncAtLowestConcurrencyOnly
        }
    }

    /// Writes the database at `path` (it must not exist yet, or be a lab database to add a run to).
    /// - Returns: the number of samples written.
    /// - Throws: `StoreError` when the database cannot be written.
    @discardableResult
    public static func write(path: String, _ configuration: Configuration) throws -> Int {
        let store = try LabStore.openForWriting(path: path)
        let spec = specText(configuration)
        let runID = try store.insertRun(
            RunRecord(
                experiment: configuration.name, status: .running, startedAt: "2026-01-01T00:00:00Z",
                masterSeed: configuration.seed, specPath: "experiments/synthetic.json", specText: spec,
                specSHA256: String(format: "%016llx", StableHash.hash(spec)), commandLine: "synthetic",
                gitCommit: "0000000000000000000000000000000000000000", gitDirty: false,
                swiftVersion: "Swift version 6.x (synthetic)", os: "Synthetic Linux", kernel: "0.0",
                cpuModel: "Synthetic CPU", cores: 2, memoryBytes: 24 << 30, target: "mock"))
        var written = 0
        let rates: [Double?] = configuration.rates.isEmpty ? [nil] : configuration.rates
        let budgets: [Double?] = configuration.budgets.isEmpty ? [nil] : configuration.budgets
        let backoffs: [String?] = configuration.backoffs.isEmpty ? [nil] : configuration.backoffs
        for errorRate in configuration.errorRates {
            for retry in configuration.retries {
                for rate in rates {
                    for budget in budgets {
                        for backoff in backoffs {
                            for engine in configuration.engines {
                                for concurrency in configuration.concurrencies
                                where engine != "sync" || !configuration.syncAtLowestConcurrencyOnly
                                    || concurrency == configuration.concurrencies.min()
                                {
                                    for repetition in 0..<configuration.repetitions {
                                        let point = Point(
                                            engine: engine, concurrency: concurrency, errorRate: errorRate,
                                            retry: retry, rate: rate, budget: budget, backoff: backoff)
                                        written += try writeCell(
                                            store: store, runID: runID, configuration: configuration, point: point,
                                            repetition: repetition)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        try store.finishRun(id: runID, status: .complete, endedAt: "2026-01-01T00:10:00Z")
        return written
    }

    static func specText(_ c: Configuration) -> String {
        var axes: [(String, JSONValue)] = [("concurrency", .array(c.concurrencies.map { .number(Double($0)) }))]
        if c.errorRates.count > 1 { axes.append(("errorRate", .array(c.errorRates.map { .number($0) }))) }
        if c.retries.count > 1 { axes.append(("retry", .array(c.retries.map(JSONValue.string)))) }
        if !c.rates.isEmpty { axes.append(("rate", .array(c.rates.map { .number($0) }))) }
        if !c.budgets.isEmpty { axes.append(("budget", .array(c.budgets.map { .number($0) }))) }
        if !c.backoffs.isEmpty { axes.append(("backoff", .array(c.backoffs.map(JSONValue.string)))) }
        var fixed: [(String, JSONValue)] = [
            ("latencyMs", .number(c.latencyMs)), ("load", .string(c.rates.isEmpty ? "closed" : "open")),
        ]
        if c.errorRates.count == 1 { fixed.append(("errorRate", .number(c.errorRates[0]))) }
        if c.retries.count == 1 { fixed.append(("retry", .string(c.retries[0]))) }
        let spec = JSONValue.object([
            ("name", .string(c.name)), ("question", .string(c.question)),
            ("engines", .array(c.engines.map(JSONValue.string))), ("axes", .object(axes)), ("fixed", .object(fixed)),
            ("requests", .number(Double(c.requests))), ("warmup", .number(Double(c.warmup))),
            ("repetitions", .number(Double(c.repetitions))), ("seed", .number(Double(c.seed))),
        ])
        return DataRenderers.pretty(spec, indent: "") + "\n"
    }

    struct Point {
        var engine: String
        var concurrency: Int
        var errorRate: Double
        var retry: String
        var rate: Double?
        var budget: Double?
        var backoff: String?
    }

    private static func writeCell(
        store: LabStore, runID: Int64, configuration c: Configuration, point: Point, repetition: Int
    ) throws -> Int {
        let engine = point.engine
        let concurrency = point.concurrency
        let errorRate = point.errorRate
        let retry = point.retry
        var members: [(String, JSONValue)] = []
        if let backoff = point.backoff { members.append(("backoff", .string(backoff))) }
        if let budget = point.budget { members.append(("budget", .number(budget))) }
        members += [
            ("concurrency", .number(Double(concurrency))), ("engine", .string(engine)),
            ("errorRate", .number(errorRate)), ("latencyMs", .number(c.latencyMs)),
            ("load", .string(point.rate == nil ? "closed" : "open")), ("pooling", .string("pooled")),
            ("rate", .number(point.rate ?? 0)), ("retry", .string(retry)),
        ]
        let params = JSONValue.object(members).canonical
        let cellSeed = StableHash.combine(c.seed, StableHash.hash(params))
        let key = String(format: "%016llx", StableHash.combine(cellSeed, UInt64(repetition)))
        var cell = CellRecord(
            cellKey: key, runID: runID, experiment: c.name, engine: engine, concurrency: concurrency,
            repetition: repetition, params: params, seed: cellSeed, status: .running, plannedRequests: c.requests,
            warmupRequests: c.warmup, startedAt: "2026-01-01T00:00:00Z")
        cell.id = try store.insertCell(cell)
        var random = SplitMix64(seed: StableHash.combine(cellSeed, UInt64(repetition), 7))
        // In flight: sync sends one at a time; threaded and async use the concurrency, async a little better.
        let workers = engine == "sync" ? 1 : concurrency
        let overheadNs: Double = engine == "async" ? 180_000 : engine == "threaded" ? 250_000 : 120_000
        var free = [Int64](repeating: 0, count: workers)
        var samples: [AttemptSample] = []
        var serverRequests: Int64 = 0
        var serviceSum = 0.0
        var events: [EventRecord] = []
        let total = c.warmup + c.requests
        samples.reserveCapacity(total * 2)
        var sentAttempts = 0
        var retriesSent = 0
        var previousDelay = 1_000_000.0
        for request in 0..<total {
            var worker = 0
            for index in 1..<workers where free[index] < free[worker] { worker = index }
            let intended = point.rate.map { Int64(Double(request) * 1e9 / $0) } ?? free[worker]
            var start = max(intended, free[worker])
            var attempt: Int32 = 1
            let maxAttempts: Int32 = retry == "none" ? 1 : 3
            while true {
                if attempt > 1, let budget = point.budget, Double(retriesSent) >= budget * Double(sentAttempts) {
                    // The retry budget refuses the retry: recorded, never sent.
                    samples.append(
                        AttemptSample(
                            requestID: Int64(request), attempt: attempt, intendedNs: start, startNs: start,
                            endNs: start, status: 0, errorClass: .budgetExhausted, bytes: 0, isFinal: true,
                            isWarmup: request < c.warmup))
                    free[worker] = start
                    break
                }
                sentAttempts += 1
                if attempt > 1 { retriesSent += 1 }
                let u = SplitMix64.unitInterval(random.next())
                // Log-normal-ish jitter with a heavier tail under contention.
                let jitter = -log(max(1e-12, 1 - u)) * 0.08 * (1 + Double(workers) / 64)
                let service = c.latencyMs * 1e6 * (1 + jitter)
                let end = start + Int64(service + overheadNs * (1 + Double(workers) / 32))
                serverRequests += 1
                serviceSum += service
                let failed = SplitMix64.unitInterval(random.next()) < errorRate
                let final = !failed || attempt >= maxAttempts
                samples.append(
                    AttemptSample(
                        requestID: Int64(request), attempt: attempt, intendedNs: attempt == 1 ? intended : start,
                        startNs: start, endNs: end, status: failed ? 500 : 200, errorClass: failed ? .http5xx : .ok,
                        bytes: failed ? 0 : 256, isFinal: final, isWarmup: request < c.warmup))
                if final {
                    free[worker] = end
                    break
                }
                attempt += 1
                let cap = 1_000_000 * pow(2, Double(attempt - 1))
                let u2 = SplitMix64.unitInterval(random.next())
                let delay: Double
                switch point.backoff ?? "exponential" {
                case "none": delay = 0
                case "full": delay = cap * u2
                case "equal": delay = cap / 2 + cap / 2 * u2
                case "decorrelated": delay = min(cap * 4, 1_000_000 + (previousDelay * 3 - 1_000_000) * u2)
                default: delay = cap
                }
                previousDelay = max(1_000_000, delay)
                start = end + Int64(delay)
            }
            if c.events && request % max(1, total / 20) == 0 {
                events.append(EventRecord(tNs: intended, kind: .queueDepth, value: Double(workers)))
                events.append(
                    EventRecord(tNs: intended, kind: .rssBytes, value: Double(20 << 20 + workers * 65_536)))
            }
            if samples.count >= 50_000 {
                try store.insertSamples(samples, cellID: cell.id)
                samples.removeAll(keepingCapacity: true)
            }
        }
        try store.insertSamples(samples, cellID: cell.id)
        if c.events && errorRate > 0 && retry != "none" {
            let end = free.max() ?? 0
            events.append(EventRecord(tNs: end / 4, kind: .breakerTransition, value: 2, detail: "closed->open"))
            events.append(EventRecord(tNs: end / 2, kind: .breakerTransition, value: 1, detail: "open->half_open"))
            events.append(
                EventRecord(tNs: end / 2 + 1, kind: .breakerTransition, value: 0, detail: "half_open->closed"))
        }
        try store.insertEvents(events, cellID: cell.id)
        let elapsed = free.max() ?? 0
        cell.status = .complete
        cell.elapsedNs = elapsed
        cell.client = ResourceFigures(
            cpuUserSeconds: Double(total) * overheadNs / 1e9, cpuSysSeconds: Double(total) * 20_000 / 1e9,
            peakRSSBytes: Int64(20 << 20 + workers * 65_536), voluntarySwitches: Int64(total),
            involuntarySwitches: Int64(total / 10))
        cell.server = ServerFigures(
            requests: serverRequests, connections: Int64(workers), serviceMeanNs: serviceSum / Double(serverRequests),
            serviceP99Ns: c.latencyMs * 1e6 * 1.4,
            countersJSON: "{\"peakInFlight\":\(workers),\"requests\":\(serverRequests)}")
        try store.completeCell(cell)
        return
            (try store.database.query(
                "SELECT count(*) AS n FROM samples WHERE cell_id = ?", [.integer(cell.id)]
            ).first?["n"].int).map(Int.init)
            ?? 0
    }
}
