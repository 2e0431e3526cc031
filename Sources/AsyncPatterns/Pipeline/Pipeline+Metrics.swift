extension Pipeline {
    /// A consistent snapshot of the counters.
    public var metrics: PipelineMetrics {
        state.withLock { state in
            var metrics = state.metrics
            metrics.depth = state.count
            return metrics
        }
    }

    /// Elements queued now.
    public var depth: Int {
        state.withLock { $0.count }
    }

    /// Records a depth point now, whatever the interval (for callers that sample on their own schedule).
    public func sampleDepth() {
        let tNs = Self.nanoseconds(origin.duration(to: clock.now))
        state.withLock { state in
            appendDepthPoint(&state, PipelineDepthPoint(tNs: tNs, depth: state.count))
        }
    }

    /// The depth points recorded and not yet drained, oldest first.
    public var depthSeries: [PipelineDepthPoint] {
        state.withLock { $0.depthPoints }
    }

    /// Returns the depth points recorded so far and forgets them (to stream them out and keep memory flat).
    public func drainDepthSeries() -> [PipelineDepthPoint] {
        state.withLock { state in
            let points = state.depthPoints
            state.depthPoints.removeAll()
            return points
        }
    }

    /// Records a depth point at `now` if `depthSampleInterval` has passed since the last; the lock is held.
    func recordDepthPointIfDue(_ state: inout State, now: ContinuousClock.Instant) {
        let tNs = Self.nanoseconds(origin.duration(to: now))
        let interval = Self.nanoseconds(configuration.depthSampleInterval)
        guard state.lastDepthPointNs == .min || tNs - state.lastDepthPointNs >= interval else { return }
        appendDepthPoint(&state, PipelineDepthPoint(tNs: tNs, depth: state.count))
    }

    private func appendDepthPoint(_ state: inout State, _ point: PipelineDepthPoint) {
        state.lastDepthPointNs = point.tNs
        guard state.depthPoints.count < configuration.maxDepthPoints else { return }
        state.depthPoints.append(point)
    }

    /// `duration` in whole nanoseconds, wrapping instead of trapping.
    @inline(__always)
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let components = duration.components
        return components.seconds &* 1_000_000_000 &+ components.attoseconds / 1_000_000_000
    }
}
