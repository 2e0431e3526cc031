import AsyncPatterns
import NIOCore

/// Shared server state: live settings, counters, the capacity model, the `/429` counter and the contention store.
final class ServerCore: Sendable {
    /// Index in `byFault` of capacity rejections.
    static let overloadFaultIndex = MockServerConfiguration.FaultKind.allCases.count

    private struct State {
        var settings: LiveSettings
        var scheduleStart: NIODeadline
        var arrivals: UInt64 = 0
        var requests: UInt64 = 0
        var connections: UInt64 = 0
        var byStatus = [UInt64](repeating: 0, count: 600)
        var byFault = [UInt64](repeating: 0, count: MockServerConfiguration.FaultKind.allCases.count + 1)
        var byPhase: [String: UInt64] = [:]
        var histogram = ServiceTimeHistogram()
        var inFlight = 0
        var peakInFlight = 0
        var wasted: UInt64 = 0
        var queue = CircularBuffer<CapacityWaiter>()
        var rateLimitCount = 0
        var rateLimitWindowStart: NIODeadline
        var contention: [String: UInt64] = [:]
    }

    private let state: LockedBox<State>

    init(configuration: MockServerConfiguration, now: NIODeadline = .now()) {
        state = LockedBox(State(settings: LiveSettings(configuration), scheduleStart: now, rateLimitWindowStart: now))
    }

    /// The configuration in force.
    var configuration: MockServerConfiguration {
        state.withLock { $0.settings.configuration }
    }

    /// Replaces the behavioural settings and restarts the schedule clock; host, port and event loops are kept.
    func apply(_ configuration: MockServerConfiguration, now: NIODeadline = .now()) {
        state.withLock { state in
            var merged = configuration
            let old = state.settings.configuration
            merged.host = old.host
            merged.port = old.port
            merged.eventLoops = old.eventLoops
            state.settings = LiveSettings(merged)
            state.scheduleStart = now
            state.rateLimitCount = 0
            state.rateLimitWindowStart = now
        }
    }

    /// Records the port actually bound (when 0 was configured), without touching the schedule clock.
    func recordBoundPort(_ port: Int) {
        state.withLock { state in
            var configuration = state.settings.configuration
            configuration.port = port
            state.settings = LiveSettings(configuration)
        }
    }

    func connectionAccepted() {
        state.withLock { $0.connections &+= 1 }
    }

    /// Counts an arriving request subject to the settings, and admits it under the capacity model.
    func admit(
        now: NIODeadline, isRateLimitEndpoint: Bool, usesCapacity: Bool, waiter: () -> CapacityWaiter
    ) -> RequestPlan {
        state.withLock { state in
            state.requests &+= 1
            state.arrivals &+= 1
            let settings = state.settings
            let configuration = settings.configuration
            let elapsed =
                now.uptimeNanoseconds >= state.scheduleStart.uptimeNanoseconds
                ? Int64(now.uptimeNanoseconds - state.scheduleStart.uptimeNanoseconds) : 0
            let effective = settings.effective(elapsed: elapsed)
            var plan = RequestPlan(
                admission: .start, seed: configuration.seed, arrival: state.arrivals,
                errorRate: effective.errorRate, latency: effective.latency, faults: effective.faults,
                spikeMs: configuration.spikeMs, rateLimit: configuration.rateLimit, rateLimited: false
            )
            if let index = effective.phase {
                state.byPhase[settings.phaseNames[index], default: 0] &+= 1
            } else {
                state.byPhase["default", default: 0] &+= 1
            }
            if isRateLimitEndpoint {
                let window = configuration.rateLimit.windowMs
                if window > 0, now - state.rateLimitWindowStart >= .milliseconds(Int64(window)) {
                    state.rateLimitWindowStart = now
                    state.rateLimitCount = 0
                }
                state.rateLimitCount += 1
                plan.rateLimited = state.rateLimitCount > configuration.rateLimit.after
            }
            if usesCapacity {
                let capacity = configuration.capacity
                if capacity.limit == 0 || state.inFlight < capacity.limit {
                    state.inFlight += 1
                    if state.inFlight > state.peakInFlight { state.peakInFlight = state.inFlight }
                } else if capacity.whenFull == .queue
                    && (capacity.maxQueue == 0 || state.queue.count < capacity.maxQueue)
                {
                    state.queue.append(waiter())
                    plan.admission = .queued
                } else {
                    plan.admission = .rejected
                }
            }
            return plan
        }
    }

    /// Records a response. `countRequest` is for requests `admit` did not count; `releasesCapacity` ends
    /// the request's service under the capacity model, which may start a queued request.
    func recordResponse(
        status: Int, serviceNanoseconds: UInt64, fault: Int? = nil, countRequest: Bool, releasesCapacity: Bool,
        wasted: Bool = false
    ) {
        let next: CapacityWaiter? = state.withLock { state in
            if countRequest { state.requests &+= 1 }
            if wasted { state.wasted &+= 1 }
            if status >= 0 && status < 600 { state.byStatus[status] &+= 1 }
            if let fault { state.byFault[fault] &+= 1 }
            state.histogram.record(serviceNanoseconds)
            return releasesCapacity ? Self.release(&state) : nil
        }
        next?.start()
    }

    /// Records a fault that sends no response (reset or hang), ending the request's service.
    func recordSilentFault(_ kind: MockServerConfiguration.FaultKind, releasesCapacity: Bool) {
        let index = MockServerConfiguration.FaultKind.allCases.firstIndex(of: kind)!
        let next: CapacityWaiter? = state.withLock { state in
            state.byFault[index] &+= 1
            return releasesCapacity ? Self.release(&state) : nil
        }
        next?.start()
    }

    /// Hands the slot to the next queued request, or frees it.
    private static func release(_ state: inout State) -> CapacityWaiter? {
        if let next = state.queue.popFirst() { return next }
        state.inFlight -= 1
        return nil
    }

    /// The current version of a contention key.
    func contentionVersion(_ key: String) -> UInt64 {
        state.withLock { $0.contention[key] ?? 0 }
    }

    /// Most contention keys kept; `POST /__admin/reset` clears them.
    static let maximumContentionKeys = 100_000

    /// Commits a write that read `seen`: true (and bumps the version) only if no other write landed since,
    /// false on a conflict, nil when the store already holds `maximumContentionKeys` other keys.
    func contentionCommit(_ key: String, seen: UInt64) -> Bool? {
        state.withLock { state in
            guard let current = state.contention[key] else {
                guard state.contention.count < Self.maximumContentionKeys else { return nil }
                guard seen == 0 else { return false }
                state.contention[key] = 1
                return true
            }
            guard current == seen else { return false }
            state.contention[key] = current + 1
            return true
        }
    }

    /// Requests in service or queued.
    var busy: Int {
        state.withLock { $0.inFlight + $0.queue.count }
    }

    /// A snapshot of the counters.
    func counters() -> MockServerCounters {
        state.withLock { state in
            var byStatus: [String: UInt64] = [:]
            for (status, n) in state.byStatus.enumerated() where n > 0 { byStatus[String(status)] = n }
            var byFault: [String: UInt64] = [:]
            for (index, kind) in MockServerConfiguration.FaultKind.allCases.enumerated() where state.byFault[index] > 0
            {
                byFault[kind.rawValue] = state.byFault[index]
            }
            if state.byFault[Self.overloadFaultIndex] > 0 {
                byFault["overload"] = state.byFault[Self.overloadFaultIndex]
            }
            let h = state.histogram
            return MockServerCounters(
                requests: state.requests, connections: state.connections, byStatus: byStatus, byFault: byFault,
                byPhase: state.byPhase,
                serviceTime: .init(
                    count: h.count, meanNs: h.mean, p50Ns: Double(h.quantile(0.5)), p90Ns: Double(h.quantile(0.9)),
                    p99Ns: Double(h.quantile(0.99)), p999Ns: Double(h.quantile(0.999)), maxNs: Double(h.max)
                ),
                inFlight: state.inFlight, queued: state.queue.count, peakInFlight: state.peakInFlight,
                wasted: state.wasted, scheduleStartUptimeNs: state.scheduleStart.uptimeNanoseconds
            )
        }
    }

    /// Zeroes the counters, the `/429` count and the contention store; requests in service are kept.
    func reset(now: NIODeadline = .now()) {
        state.withLock { state in
            state.requests = 0
            state.connections = 0
            for i in state.byStatus.indices { state.byStatus[i] = 0 }
            for i in state.byFault.indices { state.byFault[i] = 0 }
            state.byPhase = [:]
            state.histogram = ServiceTimeHistogram()
            state.peakInFlight = state.inFlight
            state.wasted = 0
            state.rateLimitCount = 0
            state.rateLimitWindowStart = now
            state.contention = [:]
        }
    }
}
