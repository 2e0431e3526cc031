import AsyncPatterns
import Histogram
import LabStore

/// Latencies in nanoseconds, from 1 µs at three significant digits; grows as larger values arrive.
typealias LatencyHistogram = Histogram<UInt32>

extension Histogram where Count == UInt32 {
    /// An empty latency histogram (ns, 1 µs resolution floor, 3 significant digits). It starts small (20 ms) and
    /// resizes itself, so idle histograms cost little memory; bucket layout, and so every percentile, is the same
    /// whatever its size.
    static func latency() -> Histogram<UInt32> {
        var histogram = Histogram<UInt32>(
            lowestDiscernibleValue: 1_000, highestTrackableValue: 20_000_000, numberOfSignificantValueDigits: .three)
        histogram.autoResize = true
        return histogram
    }

    /// The values at several percentiles (0...100) and the mean, in one pass over the recorded buckets. The
    /// values equal `valueAtPercentile` and the mean equals `mean`; each of those scans the histogram again.
    func summary(atPercentiles percentiles: [Double]) -> (values: [UInt64], mean: Double) {
        guard totalCount > 0 else { return (percentiles.map { _ in 0 }, 0) }
        // Counts needed per percentile, as `valueAtPercentile` computes them.
        let targets: [UInt64?] = percentiles.map { percentile in
            if percentile == 0 || percentile >= 100 { return nil }
            let requested = Swift.min(Swift.max(percentile.nextDown, 0.0), 100.0)
            return Swift.max(1, UInt64(((requested * Double(totalCount)) / 100.0).rounded(.up)))
        }
        var results = [UInt64](repeating: 0, count: percentiles.count)
        let order = targets.indices.filter { targets[$0] != nil }.sorted { targets[$0]! < targets[$1]! }
        var next = 0
        var cumulative: UInt64 = 0
        var total = 0.0
        for item in recordedValues() {
            cumulative += UInt64(item.count)
            total += Double(medianEquivalentForValue(item.value)) * Double(item.count)
            while next < order.count, cumulative >= targets[order[next]]! {
                let value = highestEquivalentForValue(item.value)
                results[order[next]] = Swift.max(Swift.min(value, maxRecorded), min)
                next += 1
            }
        }
        for (index, percentile) in percentiles.enumerated() where targets[index] == nil {
            results[index] = percentile == 0 ? min : maxRecorded
        }
        return (results, total / Double(totalCount))
    }

    /// The values at several percentiles (0...100), as `valueAtPercentile` gives them, in one pass.
    func values(atPercentiles percentiles: [Double]) -> [UInt64] {
        summary(atPercentiles: percentiles).values
    }
}

/// What one cell measured, reduced from its samples in one streaming pass. Warm-up samples are excluded.
struct CellStatistics: Sendable {
    /// The cell as stored.
    let cell: CellRecord
    /// The cell's parameters, decoded from `cells.params`.
    let params: CellParameters
    /// Logical requests with a final outcome, excluding warm-up.
    var finals = 0
    /// Final outcomes that succeeded.
    var successes = 0
    /// Attempts excluding warm-up.
    var attempts = 0
    /// Attempts actually sent (not rejected locally by a breaker, budget or throttle).
    var attemptsSent = 0
    /// Logical requests in the warm-up.
    var warmupFinals = 0
    /// First intended send time among measured samples, ns.
    var firstIntendedNs = Int64.max
    /// Last end time among measured samples, ns.
    var lastEndNs = Int64.min
    /// Logical-request latency from the first attempt's intended send to the final attempt's end, ns.
    var latency = LatencyHistogram.latency()
    /// Logical-request latency from the first attempt's actual send (uncorrected), ns.
    var uncorrectedLatency = LatencyHistogram.latency()
    /// Per-attempt latency from send to end, ns.
    var attemptLatency = LatencyHistogram.latency()
    /// Logical-request latency, as `latency`, of the requests the client did not reject itself (their final outcome
    /// is not one of `localRejections`), ns.
    var sentLatency = LatencyHistogram.latency()
    /// Final outcomes by error class label.
    var finalClasses: [String: Int] = [:]
    /// Samples read, warm-up included.
    var samplesRead = 0
    /// First attempts (measured), those sent more than `lateNs` after their intended time, and the first and
    /// last actual send among them, ns: the achieved arrival rate of an open loop.
    var firstAttemptCount = 0
    var lateFirstAttempts = 0
    var firstSendNs = Int64.max
    var lastSendNs = Int64.min
    /// The highest attempt number of any measured request.
    var maxAttempt: Int32 = 0
    /// A first attempt sent later than this after its intended time counts as late, ns.
    static let lateNs: Int64 = 10_000_000
    /// Per-cell latency percentiles, ns, kept when the histograms are released.
    var p50Ns = Double.nan
    var p99Ns = Double.nan
    /// p99 of `sentLatency`, ns.
    var sentP99Ns = Double.nan
    /// Sum over measured attempts of the time each was in flight (start to end), ns.
    var attemptBusyNs = 0.0
    /// The most measured attempts in flight at once (client side); computed by `load(from:)`.
    var clientPeakInFlight = 0
    /// Start and end of each measured attempt with a positive duration, ns; emptied once the peak is computed.
    var inFlightIntervals: [(start: Int64, end: Int64)] = []
    /// Successful final outcomes per `goodputBucketNs` of their end time, from the cell's start, up to
    /// `goodputBucketLimit` buckets (see `CellStatistics+Goodput.swift`).
    var goodputBuckets: [UInt32] = []

    init(cell: CellRecord) {
        self.cell = cell
        self.params = cell.parameters
    }

    /// Drops the histograms once the point has pooled them, to keep memory flat over large sweeps.
    mutating func releaseHistograms() {
        latency = .latency()
        uncorrectedLatency = .latency()
        attemptLatency = .latency()
        sentLatency = .latency()
    }

    /// Reads the cell's samples from the store.
    mutating func load(from store: LabStore) throws {
        var firstAttempt: [Int64: (intended: Int64, start: Int64)] = [:]
        try store.forEachSample(cellID: cell.id) { sample in
            self.add(sample, firstAttempts: &firstAttempt)
        }
        finishPercentiles()
        finishInFlight()
    }

    /// Keeps the per-cell percentiles of the latency histograms.
    mutating func finishPercentiles() {
        if latency.totalCount > 0 {
            let values = latency.values(atPercentiles: [50, 99])
            p50Ns = Double(values[0])
            p99Ns = Double(values[1])
        }
        if sentLatency.totalCount > 0 { sentP99Ns = Double(sentLatency.values(atPercentiles: [99])[0]) }
    }

    /// Computes the client's peak in flight from the intervals collected by `add` and releases them.
    mutating func finishInFlight() {
        clientPeakInFlight = InFlight.peak(inFlightIntervals)
        inFlightIntervals = []
    }

    /// Adds one sample; `firstAttempts` holds first attempts of requests whose final attempt is still to come.
    mutating func add(_ sample: AttemptSample, firstAttempts: inout [Int64: (intended: Int64, start: Int64)]) {
        samplesRead += 1
        if sample.isWarmup {
            if sample.isFinal { warmupFinals += 1 }
            return
        }
        attempts += 1
        if sample.attempt > maxAttempt { maxAttempt = sample.attempt }
        if sample.endNs > sample.startNs {
            attemptBusyNs += Double(sample.endNs - sample.startNs)
            inFlightIntervals.append((sample.startNs, sample.endNs))
        }
        if sample.attempt == 1 {
            firstAttemptCount += 1
            if sample.startNs - sample.intendedNs > Self.lateNs { lateFirstAttempts += 1 }
            if sample.startNs < firstSendNs { firstSendNs = sample.startNs }
            if sample.startNs > lastSendNs { lastSendNs = sample.startNs }
        }
        if sample.intendedNs < firstIntendedNs { firstIntendedNs = sample.intendedNs }
        if sample.endNs > lastEndNs { lastEndNs = sample.endNs }
        if !Self.unsentAttempts.contains(sample.errorClass) {
            attemptsSent += 1
            attemptLatency.record(UInt64(clamping: Swift.max(0, sample.latencyNs)))
        }
        var origin = (intended: sample.intendedNs, start: sample.startNs)
        if sample.attempt > 1 || !sample.isFinal {
            if let first = firstAttempts[sample.requestID] {
                origin = first
            }
            if sample.isFinal {
                firstAttempts[sample.requestID] = nil
            } else if firstAttempts[sample.requestID] == nil {
                firstAttempts[sample.requestID] = origin
            }
        }
        guard sample.isFinal else { return }
        finals += 1
        if sample.errorClass.isSuccess {
            successes += 1
            recordGoodput(endNs: sample.endNs)
        }
        finalClasses[sample.errorClass.rawValue, default: 0] += 1
        latency.record(UInt64(clamping: Swift.max(0, sample.endNs - origin.intended)))
        if !Self.localRejections.contains(sample.errorClass) {
            sentLatency.record(UInt64(clamping: Swift.max(0, sample.endNs - origin.intended)))
        }
        uncorrectedLatency.record(UInt64(clamping: Swift.max(0, sample.endNs - origin.start)))
    }

    /// The measured span from the first intended send to the last end, seconds.
    var spanSeconds: Double {
        guard lastEndNs > firstIntendedNs else { return .nan }
        return Double(lastEndNs - firstIntendedNs) / 1e9
    }

    /// Final requests per second over the measured span.
    var throughput: Double { finals > 0 ? Double(finals) / spanSeconds : .nan }

    /// Successful final requests per second over the measured span.
    var goodput: Double { finals > 0 ? Double(successes) / spanSeconds : .nan }

    /// 1 − successes / finals.
    var errorRate: Double { finals > 0 ? 1 - Double(successes) / Double(finals) : .nan }

    /// Sent attempts per logical request.
    var attemptsPerRequest: Double { finals > 0 ? Double(attemptsSent) / Double(finals) : .nan }

    /// Server requests per logical request, warm-up included on both sides; nil without server figures.
    var amplification: Double? {
        guard let server = cell.server, finals + warmupFinals > 0 else { return nil }
        return Double(server.requests) / Double(finals + warmupFinals)
    }

    /// Mean service time as the mock server measured it, ns; nil without its counters (against `--target`, the
    /// spec's nominal `latencyMs` says nothing about the server that was measured).
    var serviceMeanNs: Double? {
        guard let server = cell.server, server.serviceMeanNs > 0 else { return nil }
        return server.serviceMeanNs
    }

    /// Throughput over the Little's-law bound `concurrency / mean service time`; nil without a service time.
    var efficiency: Double? {
        guard let service = serviceMeanNs, cell.concurrency > 0 else { return nil }
        let bound = Double(cell.concurrency) / (service / 1e9)
        return throughput / bound
    }

    /// The final outcomes of requests rejected on the client without being sent: breaker open, throttled, limiter
    /// timeout.
    static let localRejections: [ErrorClass] = [.circuitOpen, .throttled, .limiterTimeout]

    /// Attempts that ended on the client without being sent: the local rejections and a retry the budget refused.
    static let unsentAttempts: [ErrorClass] = localRejections + [.budgetExhausted]

    /// Final outcomes rejected on the client without being sent: breaker open, throttled, limiter timeout.
    var rejectedLocally: Int {
        Self.localRejections.reduce(0) { $0 + (finalClasses[$1.rawValue] ?? 0) }
    }

    /// Final outcomes that failed after being sent.
    var failedRemotely: Int { finals - successes - rejectedLocally }

    /// The server's responses split into accepted (2xx) and rejected (any other status), warm-up included; nil
    /// without the mock server's counters.
    var serverCounters: (accepted: Double, rejected: Double)? {
        guard let text = cell.server?.countersJSON, let byStatus = JSONValue.parse(text)?["byStatus"]?.objectValue
        else { return nil }
        var accepted = 0.0
        var rejected = 0.0
        for (status, count) in byStatus {
            let value = count.numberValue ?? 0
            if status.hasPrefix("2") { accepted += value } else { rejected += value }
        }
        return (accepted, rejected)
    }

    /// The time-weighted mean of measured attempts in flight over the measured span (first intended send to last
    /// end): their summed durations over the span; nil without a span.
    var clientMeanInFlight: Double? {
        guard lastEndNs > firstIntendedNs else { return nil }
        return attemptBusyNs / Double(lastEndNs - firstIntendedNs)
    }

    /// The mock server's largest number of requests in service at once (`peakInFlight` of its counters, warm-up
    /// included); nil without its counters, and when it counted none in service (it does not count `/health`).
    var serverPeakInFlight: Double? {
        guard let text = cell.server?.countersJSON, let peak = JSONValue.parse(text)?["peakInFlight"]?.numberValue,
            peak > 0
        else { return nil }
        return peak
    }

    /// The time-weighted mean of requests in service at the mock server over the engine run (warm-up included on
    /// both sides), by Little's law: requests served × mean service time / the run's wall time; nil without its
    /// counters or a wall time, and when it counted no request in service (`/health` only).
    var serverMeanInFlight: Double? {
        guard let server = cell.server, server.requests > 0, server.serviceMeanNs > 0, cell.elapsedNs > 0 else {
            return nil
        }
        if JSONValue.parse(server.countersJSON)?["peakInFlight"]?.numberValue == 0 { return nil }
        return Double(server.requests) * server.serviceMeanNs / Double(cell.elapsedNs)
    }

    /// Client CPU seconds (user + sys); nil when not recorded.
    var cpuSeconds: Double? { cell.client.map { $0.cpuUserSeconds + $0.cpuSysSeconds } }

    /// Client peak RSS, bytes; nil when not recorded.
    var peakRSSBytes: Double? { cell.client.map { Double($0.peakRSSBytes) } }
}
