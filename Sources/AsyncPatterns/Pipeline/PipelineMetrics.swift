/// A consistent snapshot of a `Pipeline`'s counters, taken under its lock.
///
/// Once the pipeline has finished, `produced == consumed + dropped + rejected + lost`.
public struct PipelineMetrics: Sendable, Hashable, Codable {
    /// Pushes attempted, whatever became of them.
    public var produced: Int
    /// Elements delivered in batches whose consumer call returned normally.
    public var consumed: Int
    /// Elements dropped by the full policy (`dropNewest`: the pushed one; `dropOldest`: the oldest queued).
    public var dropped: Int
    /// Pushes refused because the pipeline was finished, or its consumer had failed.
    public var rejected: Int
    /// Elements accepted but never consumed because the consumer threw (its batch and the queue behind it).
    public var lost: Int
    /// Batches delivered whose consumer call returned normally.
    public var batches: Int
    /// Elements queued now, the in-flight batch excluded.
    public var depth: Int
    /// The largest depth seen.
    public var peakDepth: Int
    /// How many times a producer had to wait for room (`block` policy only).
    public var producerWaits: Int
    /// Total time spent in the consumer's batch calls, ns.
    public var batchNanosTotal: Int64
    /// The longest consumer batch call, ns.
    public var batchNanosMax: Int64

    /// Mean time per consumed batch, ns (0 before the first batch).
    public var batchNanosMean: Double { batches == 0 ? 0 : Double(batchNanosTotal) / Double(batches) }

    public init(
        produced: Int = 0, consumed: Int = 0, dropped: Int = 0, rejected: Int = 0, lost: Int = 0, batches: Int = 0,
        depth: Int = 0, peakDepth: Int = 0, producerWaits: Int = 0, batchNanosTotal: Int64 = 0,
        batchNanosMax: Int64 = 0
    ) {
        self.produced = produced
        self.consumed = consumed
        self.dropped = dropped
        self.rejected = rejected
        self.lost = lost
        self.batches = batches
        self.depth = depth
        self.peakDepth = peakDepth
        self.producerWaits = producerWaits
        self.batchNanosTotal = batchNanosTotal
        self.batchNanosMax = batchNanosMax
    }
}

/// One point of a pipeline's queue-depth time series.
public struct PipelineDepthPoint: Sendable, Hashable, Codable {
    /// Nanoseconds since the pipeline's origin.
    public var tNs: Int64
    /// Elements queued at that moment.
    public var depth: Int

    public init(tNs: Int64, depth: Int) {
        self.tNs = tNs
        self.depth = depth
    }
}

/// What became of one push.
public enum PipelinePushOutcome: Sendable, Hashable {
    /// The element was queued.
    case accepted
    /// The element was queued and the oldest queued element was dropped to make room (`dropOldest`).
    case acceptedDroppingOldest
    /// The element was dropped because the queue was full (`dropNewest`).
    case dropped
    /// The element was refused: the pipeline was finished or its consumer had failed.
    case rejected

    /// Whether the pushed element is in the queue.
    public var isAccepted: Bool { self == .accepted || self == .acceptedDroppingOldest }
}
