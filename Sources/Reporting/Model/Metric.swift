import AsyncPatterns
import LabStore

/// A figure measured per cell (one repetition) that an experiment can answer its question with. Every metric
/// has a stable id (its `cells.csv` column and its name in a spec's `answer.metrics`), a direction, and a value
/// computed from the cell's samples, its server counters and its events.
struct Metric: Sendable {
    /// Which way is better.
    enum Better: Sendable {
        case lower
        case higher
    }

    /// Column and spec name, snake case: `server_calls`.
    let id: String
    /// Words for sentences and table headers: "server calls".
    let label: String
    /// Unit for headers, empty for counts and ratios: "s", "ms", "req/s", "%".
    let unit: String
    /// Which way is better.
    let better: Better
    /// How a value is printed.
    var style: Style = .significant
    /// The value of one cell; nil when the cell cannot give it (no server counters, no such event).
    let value: @Sendable (CellStatistics, [EventRecord]) -> Double?

    /// How values are printed.
    enum Style: Sendable {
        case significant
        case rate
        case percent
        case count
    }

    /// A value as printed.
    func format(_ value: Double) -> String {
        switch style {
        case .significant: return Format.significant(value)
        case .rate: return Format.rate(value)
        case .percent: return Format.percent(value)
        case .count: return Format.count(value)
        }
    }

    /// The label with its unit, for a table header.
    var header: String { unit.isEmpty ? label : "\(label) (\(unit))" }
}

extension Metric {
    /// Every metric, in the order `cells.csv` lists them.
    static let catalogue: [Metric] = {
        var list: [Metric] = []
        list.append(
            Metric(id: "throughput", label: "throughput", unit: "req/s", better: .higher, style: .rate) {
                cell, _ in cell.throughput
            })
        list.append(
            Metric(id: "goodput", label: "goodput", unit: "req/s", better: .higher, style: .rate) { cell, _ in
                cell.goodput
            })
        list.append(
            Metric(id: "success_rate", label: "success rate", unit: "%", better: .higher, style: .percent) {
                cell, _ in 1 - cell.errorRate
            })
        list.append(
            Metric(id: "error_rate", label: "error rate", unit: "%", better: .lower, style: .percent) {
                cell, _ in cell.errorRate
            })
        list.append(
            Metric(id: "p50_ms", label: "p50 latency", unit: "ms", better: .lower, style: .significant) {
                cell, _ in cell.p50Ns / 1e6
            })
        list.append(
            Metric(id: "p99_ms", label: "p99 latency", unit: "ms", better: .lower, style: .significant) {
                cell, _ in cell.p99Ns / 1e6
            })
        list.append(
            Metric(
                id: "p99_sent_ms", label: "p99 latency of sent requests", unit: "ms", better: .lower,
                style: .significant
            ) {
                // The requests the client rejected itself (breaker open, throttled, limiter timeout) end after the
                // time it took to reject them: left out, so this is the latency of the requests that were served.
                cell, _ in cell.sentP99Ns / 1e6
            })
        list.append(
            Metric(id: "completion_s", label: "completion time", unit: "s", better: .lower, style: .significant) {
                // The time until every client's work is done: undefined while some request gave up unfinished
                // (a cell whose clients hit the attempt limit never finished its work, however early it stopped).
                cell, _ in cell.finals > 0 && cell.successes == cell.finals ? cell.spanSeconds : nil
            })
        list.append(
            Metric(id: "attempts_per_request", label: "attempts per request", unit: "", better: .lower) { cell, _ in
                cell.attemptsPerRequest
            })
        list.append(
            Metric(id: "server_calls", label: "server calls", unit: "", better: .lower, style: .count) {
                cell, _ in cell.cell.server.map { Double($0.requests) }
            })
        list.append(
            Metric(id: "amplification", label: "load amplification", unit: "×", better: .lower) { cell, _ in
                cell.amplification
            })
        list.append(
            Metric(id: "server_connections", label: "server connections", unit: "", better: .lower, style: .count) {
                cell, _ in cell.cell.server.map { Double($0.connections) }
            })
        list.append(
            Metric(id: "client_cpu_us_per_request", label: "client CPU per request", unit: "µs", better: .lower) {
                cell, events in
                // The CPU of the measured phase over its requests: the child's start-up and the warm-up (connections
                // opened, threads started) are not a request's cost. A cell without that event (older databases)
                // shares its whole CPU over every logical request it ran, warm-up included.
                guard cell.finals > 0 else { return nil }
                if let ns = events.last(where: { $0.kind == .measuredCPUNs })?.value {
                    return ns / 1e3 / Double(cell.finals)
                }
                guard let cpu = cell.cpuSeconds else { return nil }
                return cpu / Double(cell.finals + cell.warmupFinals) * 1e6
            })
        list.append(
            Metric(id: "server_cpu_us_per_request", label: "server CPU per request", unit: "µs", better: .lower) {
                cell, _ in
                guard let server = cell.cell.server, let user = server.cpuUserSeconds, let sys = server.cpuSysSeconds,
                    server.requests > 0
                else { return nil }
                return (user + sys) / Double(server.requests) * 1e6
            })
        list.append(
            Metric(id: "peak_rss_mib", label: "client peak RSS", unit: "MiB", better: .lower, style: .significant) {
                cell, _ in cell.peakRSSBytes.map { $0 / 1_048_576 }
            })
        list.append(
            Metric(id: "failed_requests", label: "failed requests", unit: "", better: .lower, style: .count) {
                cell, _ in Double(cell.failedRemotely)
            })
        list.append(
            Metric(id: "rejected_locally", label: "requests rejected locally", unit: "", better: .lower, style: .count)
            { cell, _ in Double(cell.rejectedLocally) })
        list.append(
            Metric(
                id: "client_reject_share", label: "client-side rejection share", unit: "%", better: .lower,
                style: .percent
            ) { cell, _ in cell.finals > 0 ? Double(cell.rejectedLocally) / Double(cell.finals) : nil })
        list.append(
            Metric(
                id: "backend_rejected_per_accepted", label: "backend rejected per accepted", unit: "", better: .lower
            ) { cell, _ in
                guard let counters = cell.serverCounters, counters.accepted > 0 else { return nil }
                return counters.rejected / counters.accepted
            })
        list.append(
            Metric(id: "limiter_timeout_share", label: "limiter timeouts", unit: "%", better: .lower, style: .percent) {
                cell, _ in
                cell.finals > 0
                    ? Double(cell.finalClasses[ErrorClass.limiterTimeout.rawValue] ?? 0) / Double(cell.finals) : nil
            })
        list.append(
            Metric(id: "limiter_waits", label: "limiter waits", unit: "", better: .lower, style: .count) {
                _, events in EventFigures.limiter(events)?.waits
            })
        list.append(
            Metric(id: "time_to_open_s", label: "time to open", unit: "s", better: .lower, style: .significant) {
                _, events in EventFigures.breaker(events)?.timeToOpen
            })
        list.append(
            Metric(
                id: "time_to_close_s", label: "time to close after recovery", unit: "s", better: .lower,
                style: .significant
            ) { _, events in EventFigures.breaker(events)?.timeToClose })
        // Recovery after an overload trigger (a metastable failure): from the end of the server's phase named
        // "trigger" to the end of the first 1 s window whose goodput is back at 90% of its mean from 1 s to the
        // trigger's start; NaN when no window got there before the last sample ended, nil without a trigger phase.
        list.append(
            Metric(id: "recovery_s", label: "recovery time", unit: "s", better: .lower, style: .significant) {
                cell, events in cell.recovery(events: events)?.seconds
            })
        list.append(
            Metric(id: "wasted_share", label: "wasted work", unit: "%", better: .lower, style: .percent) {
                cell, _ in cell.wastedShare
            })
        list.append(
            Metric(id: "samples_dropped", label: "samples dropped", unit: "", better: .lower, style: .count) {
                _, events in EventFigures.pipeline(events)?.dropped
            })
        list.append(
            Metric(id: "producer_rate", label: "producer rate", unit: "req/s", better: .higher, style: .rate) {
                cell, _ in
                guard let server = cell.cell.server, cell.spanSeconds.isFinite, cell.spanSeconds > 0 else { return nil }
                return Double(server.requests) / cell.spanSeconds
            })
        list.append(
            Metric(id: "peak_queue_depth", label: "peak queue depth", unit: "", better: .lower, style: .count) {
                _, events in events.filter { $0.kind == .queueDepth }.compactMap(\.value).max()
            })
        list.append(
            Metric(id: "max_attempt", label: "highest attempt", unit: "", better: .lower, style: .count) {
                cell, _ in Double(cell.maxAttempt)
            })
        list.append(
            Metric(
                id: "achieved_rate", label: "achieved arrival rate", unit: "req/s", better: .higher,
                style: .rate
            ) { cell, _ in
                guard PointSummary.isOpenLoop(cell.params), cell.firstAttemptCount > 1,
                    cell.lastSendNs > cell.firstSendNs
                else { return nil }
                return Double(cell.firstAttemptCount - 1) / (Double(cell.lastSendNs - cell.firstSendNs) / 1e9)
            })
        list.append(
            Metric(
                id: "late_share", label: "first attempts late by over 10 ms", unit: "%", better: .lower,
                style: .percent
            ) { cell, _ in
                guard PointSummary.isOpenLoop(cell.params), cell.firstAttemptCount > 0 else { return nil }
                return Double(cell.lateFirstAttempts) / Double(cell.firstAttemptCount)
            })
        // Achieved concurrency. The client's figures come from the stored samples, so they are left out when the
        // recording pipeline dropped some.
        list.append(
            Metric(
                id: "client_in_flight_peak", label: "client peak in flight", unit: "", better: .higher, style: .count
            ) { cell, events in
                (EventFigures.pipeline(events)?.dropped ?? 0) > 0 || cell.attempts == 0
                    ? nil : Double(cell.clientPeakInFlight)
            })
        list.append(
            Metric(id: "client_in_flight_mean", label: "client mean in flight", unit: "", better: .higher) {
                cell, events in
                (EventFigures.pipeline(events)?.dropped ?? 0) > 0 ? nil : cell.clientMeanInFlight
            })
        list.append(
            Metric(
                id: "server_in_flight_peak", label: "server peak in service", unit: "", better: .higher, style: .count
            ) { cell, _ in cell.serverPeakInFlight })
        list.append(
            Metric(id: "server_in_flight_mean", label: "server mean in service", unit: "", better: .higher) {
                cell, _ in cell.serverMeanInFlight
            })
        list.append(
            Metric(id: "event_loop_lag_p95_ms", label: "event-loop lag p95", unit: "ms", better: .lower) {
                _, events in events.last { $0.kind == .nioLagP95Ns }?.value.map { $0 / 1e6 }
            })
        list.append(
            Metric(id: "task_lag_p95_ms", label: "task scheduling lag p95", unit: "ms", better: .lower) {
                _, events in events.last { $0.kind == .lagP95Ns }?.value.map { $0 / 1e6 }
            })
        list.append(
            Metric(id: "speed_probe_ms", label: "speed probe", unit: "ms", better: .lower) { _, events in
                EventFigures.speedProbeNs(events).map { $0 / 1e6 }
            })
        return list
    }()

    /// The metric with this id.
    static func named(_ id: String) -> Metric? { catalogue.first { $0.id == id } }
}

/// Figures read from a cell's events.
enum EventFigures {
    /// The runner's speed probe around the cell: the mean of its timings, ns; nil without any.
    static func speedProbeNs(_ events: [EventRecord]) -> Double? {
        let values = events.filter { $0.kind == .speedProbeNs }.compactMap(\.value)
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Breaker timing against the server's injected failure: when the injected error rate first rose to 50% or
    /// more, how long until the breaker opened; when it fell back below, how long until the breaker closed.
    static func breaker(_ events: [EventRecord]) -> (timeToOpen: Double?, timeToClose: Double?)? {
        let injected = events.filter { $0.kind == .injectedErrorRate && $0.value != nil }.sorted { $0.tNs < $1.tNs }
        guard let failing = injected.first(where: { $0.value! >= 0.5 }) else { return nil }
        let recovered = injected.first { $0.tNs > failing.tNs && $0.value! < 0.5 }
        let transitions = events.filter { $0.kind == .breakerTransition }.sorted { $0.tNs < $1.tNs }
        let opened = transitions.first { $0.tNs >= failing.tNs && ChartPlanner.breakerLevel($0) == 2 }
        var closed: EventRecord?
        if let recovered {
            closed = transitions.first { $0.tNs >= recovered.tNs && ChartPlanner.breakerLevel($0) == 0 }
        }
        return (
            opened.map { Double($0.tNs - failing.tNs) / 1e9 },
            recovered.flatMap { recovered in closed.map { Double($0.tNs - recovered.tNs) / 1e9 } }
        )
    }

    /// The limiter's end-of-cell figures, from its event's detail "limit L, peak P, waits W, timeouts T".
    static func limiter(_ events: [EventRecord]) -> (peak: Double, waits: Double, timeouts: Double)? {
        guard let event = events.last(where: { $0.kind == .limiter }), let detail = event.detail
        else { return nil }
        let fields = labelledNumbers(detail)
        guard let waits = fields["waits"], let timeouts = fields["timeouts"] else { return nil }
        return (fields["peak"] ?? event.value ?? .nan, waits, timeouts)
    }

    /// The sample pipeline's end-of-cell figures, from its `pipeline_dropped` event or `pipeline` detail.
    static func pipeline(_ events: [EventRecord]) -> (dropped: Double, produced: Double?)? {
        let detail = events.last { $0.kind == .pipeline }?.detail.map(labelledNumbers) ?? [:]
        if let dropped = events.last(where: { $0.kind == .pipelineDropped })?.value ?? detail["dropped"] {
            return (dropped, detail["produced"])
        }
        return nil
    }

    /// "label 12, other 3" → ["label": 12, "other": 3]: the number after each word.
    static func labelledNumbers(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for part in text.split(separator: ",") {
            let words = part.split(separator: " ")
            guard words.count >= 2, let number = Double(words[words.count - 1]) else { continue }
            out[words[words.count - 2].lowercased()] = number
        }
        return out
    }
}
