import AsyncPatterns

/// What an event of a cell records: the `events.kind` column and the JSON Lines `kind` of `event` lines.
///
/// A kind this version does not know (a database written by a later version, or a test's own mark) reads as
/// `.other` with its text kept, so reading never fails and writing it back changes nothing.
public enum EventKind: Sendable, Hashable {
    /// A circuit breaker changed state; `detail` says from what to what.
    case breakerTransition
    /// The retry budget refused its first retry after granting them.
    case budgetExhausted
    /// The retry budget granted a retry again after refusing.
    case budgetRestored
    /// The concurrency limiter's figures at the end of a cell (limit, peak, waits, timeouts), in `detail`.
    case limiter
    /// The server's injected error rate from this moment on, a fraction.
    case injectedErrorRate
    /// The sample pipeline's queue depth, items.
    case queueDepth
    /// A scheduling-lag sample of the Swift concurrency pool, ns.
    case lagNs
    /// A scheduling-lag sample of the NIO event loop, ns.
    case nioLagNs
    /// The largest scheduling lag of the cell, ns.
    case lagMaxNs
    /// The 95th-percentile scheduling lag of the cell, ns.
    case lagP95Ns
    /// The largest NIO event-loop lag of the cell, ns.
    case nioLagMaxNs
    /// The 95th-percentile NIO event-loop lag of the cell, ns.
    case nioLagP95Ns
    /// A resident-memory sample of the client, bytes.
    case rssBytes
    /// The sample pipeline's figures at the end of a cell: `value` the peak depth, `detail` the counters.
    case pipeline
    /// Samples the pipeline dropped over the cell.
    case pipelineDropped
    /// The process id of the child process that measured the cell.
    case clientPID
    /// Wall time of the cell's child process from spawn to exit, ns.
    case cellProcessNs
    /// The runner's speed probe on the client's CPUs, ns for its fixed work: `t_ns` 0 just before the client
    /// started, the cell's length just after it ended. A slower machine (another tenant on the host) takes longer.
    case speedProbeNs
    /// A `sim` cell's wall time, ns: `value` the time the simulation took, `detail` its events and the server's
    /// wasted work (`t_ns` is the virtual end of the run).
    case simulationNs
    /// The instant the client's sample times count from, as `value`: ns on the host's uptime clock, the clock the
    /// mock server reports its schedule's start on (`t_ns` 0). The runner places the schedule's phases
    /// (`injected_error_rate`) on the client's clock with the two.
    case clientOriginUptimeNs
    /// A live engine's cell: the client process's CPU time (user plus system) from the start of the measured phase
    /// to the end of the run, ns as `value` (`t_ns` 0): its start-up and warm-up left out.
    case measuredCPUNs
    /// A kind this version does not know, verbatim.
    case other(String)

    /// Every kind this version writes.
    public static let known: [EventKind] = [
        .breakerTransition, .budgetExhausted, .budgetRestored, .limiter, .injectedErrorRate, .queueDepth, .lagNs,
        .nioLagNs, .lagMaxNs, .lagP95Ns, .nioLagMaxNs, .nioLagP95Ns, .rssBytes, .pipeline, .pipelineDropped,
        .clientPID, .cellProcessNs, .speedProbeNs, .simulationNs, .clientOriginUptimeNs,
        .measuredCPUNs,
    ]
}

extension EventKind: RawRepresentable, Codable, CustomStringConvertible {
    /// Reads stored text; unknown text becomes `.other`.
    public init(rawValue: String) {
        switch rawValue {
        case "breaker_transition": self = .breakerTransition
        case "budget_exhausted": self = .budgetExhausted
        case "budget_restored": self = .budgetRestored
        case "limiter": self = .limiter
        case "injected_error_rate": self = .injectedErrorRate
        case "queue_depth": self = .queueDepth
        case "lag_ns": self = .lagNs
        case "nio_lag_ns": self = .nioLagNs
        case "lag_max_ns": self = .lagMaxNs
        case "lag_p95_ns": self = .lagP95Ns
        case "nio_lag_max_ns": self = .nioLagMaxNs
        case "nio_lag_p95_ns": self = .nioLagP95Ns
        case "rss_bytes": self = .rssBytes
        case "pipeline": self = .pipeline
        case "pipeline_dropped": self = .pipelineDropped
        case "client_pid": self = .clientPID
        case "cell_process_ns": self = .cellProcessNs
        case "speed_probe_ns": self = .speedProbeNs
        case "simulation_ns": self = .simulationNs
        case "client_origin_uptime_ns": self = .clientOriginUptimeNs
        case "measured_cpu_ns": self = .measuredCPUNs
        default: self = .other(rawValue)
        }
    }

    /// The stored text.
    public var rawValue: String {
        switch self {
        case .breakerTransition: "breaker_transition"
        case .budgetExhausted: "budget_exhausted"
        case .budgetRestored: "budget_restored"
        case .limiter: "limiter"
        case .injectedErrorRate: "injected_error_rate"
        case .queueDepth: "queue_depth"
        case .lagNs: "lag_ns"
        case .nioLagNs: "nio_lag_ns"
        case .lagMaxNs: "lag_max_ns"
        case .lagP95Ns: "lag_p95_ns"
        case .nioLagMaxNs: "nio_lag_max_ns"
        case .nioLagP95Ns: "nio_lag_p95_ns"
        case .rssBytes: "rss_bytes"
        case .pipeline: "pipeline"
        case .pipelineDropped: "pipeline_dropped"
        case .clientPID: "client_pid"
        case .cellProcessNs: "cell_process_ns"
        case .speedProbeNs: "speed_probe_ns"
        case .simulationNs: "simulation_ns"
        case .clientOriginUptimeNs: "client_origin_uptime_ns"
        case .measuredCPUNs: "measured_cpu_ns"
        case .other(let text): text
        }
    }

    public var description: String { rawValue }
}

extension EventKind {
    /// The stored kind of a resilience policy's event.
    public init(_ kind: ResilienceEvent.Kind) {
        switch kind {
        case .breakerTransition: self = .breakerTransition
        case .budgetExhausted: self = .budgetExhausted
        case .budgetRestored: self = .budgetRestored
        case .limiter: self = .limiter
        }
    }
}
