/// What a `Pipeline` does with a push when it holds `capacity` elements.
public enum PipelineFullPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// The producer waits until the consumer makes room (backpressure). Nothing is dropped.
    case block
    /// The pushed element is dropped and counted; the queue keeps its older elements.
    case dropNewest = "drop_newest"
    /// The oldest queued element is dropped and counted to make room; the newest survive.
    case dropOldest = "drop_oldest"
}

/// How a `Pipeline` buffers and batches.
public struct PipelineConfiguration: Sendable, Hashable {
    /// Most elements held at once, the in-flight batch excluded. Must be >= `maxBatchSize`. Default 65,536.
    public var capacity: Int
    /// What a push does when the queue is full. Default `.block`.
    public var fullPolicy: PipelineFullPolicy
    /// A batch is delivered as soon as it holds this many elements. Must be >= 1. Default 8,192.
    public var maxBatchSize: Int
    /// A partial batch is delivered this long after the consumer first sees it. Must be > 0. Default 200 ms.
    public var maxBatchWait: Duration
    /// The consumer records a queue-depth point at most this often, at batch boundaries. Default 100 ms.
    public var depthSampleInterval: Duration
    /// Most depth points kept until drained; later points are not recorded. Default 100,000.
    public var maxDepthPoints: Int

    /// Creates a configuration; every argument has the default listed on its property.
    public init(
        capacity: Int = 65_536, fullPolicy: PipelineFullPolicy = .block, maxBatchSize: Int = 8_192,
        maxBatchWait: Duration = .milliseconds(200), depthSampleInterval: Duration = .milliseconds(100),
        maxDepthPoints: Int = 100_000
    ) {
        self.capacity = capacity
        self.fullPolicy = fullPolicy
        self.maxBatchSize = maxBatchSize
        self.maxBatchWait = maxBatchWait
        self.depthSampleInterval = depthSampleInterval
        self.maxDepthPoints = maxDepthPoints
    }

    /// The defaults: capacity 65,536, block when full, batches of 8,192 or every 200 ms.
    public static var `default`: PipelineConfiguration { PipelineConfiguration() }
}

extension PipelineConfiguration {
    /// Checks the invariants `Pipeline.init` requires, for configurations built from user input.
    /// - Throws: `PipelineConfigurationError` naming the field, its value and what is allowed.
    public func validate() throws {
        if maxBatchSize < 1 {
            throw PipelineConfigurationError(field: "maxBatchSize", value: "\(maxBatchSize)", allowed: ">= 1")
        }
        if capacity < maxBatchSize {
            throw PipelineConfigurationError(
                field: "capacity", value: "\(capacity)", allowed: ">= maxBatchSize (\(maxBatchSize))")
        }
        if maxBatchWait <= .zero {
            throw PipelineConfigurationError(field: "maxBatchWait", value: "\(maxBatchWait)", allowed: "> 0")
        }
        if maxDepthPoints < 0 {
            throw PipelineConfigurationError(field: "maxDepthPoints", value: "\(maxDepthPoints)", allowed: ">= 0")
        }
    }
}

/// A `PipelineConfiguration` field out of range. The description names the field, the value and what is allowed.
public struct PipelineConfigurationError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The field's name.
    public let field: String
    /// The rejected value, as text.
    public let value: String
    /// What the field accepts.
    public let allowed: String

    /// The full message shown to the user.
    public var description: String {
        "pipeline: \(field) = \(value) is not allowed; use a value \(allowed)"
    }
}
