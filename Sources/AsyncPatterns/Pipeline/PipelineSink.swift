/// A `SampleSink` that pushes every sample into a `Pipeline`, so engines feed the store without waiting on it
/// (except under the `block` policy when the pipeline is full: that is the backpressure).
public struct PipelineSink: SampleSink {
    /// The pipeline samples go to.
    public let pipeline: Pipeline<AttemptSample>

    /// Wraps `pipeline`.
    public init(_ pipeline: Pipeline<AttemptSample>) {
        self.pipeline = pipeline
    }

    /// Pushes one sample; its fate is counted in the pipeline's metrics.
    @inline(__always)
    public func record(_ sample: AttemptSample) {
        _ = pipeline.push(sample)
    }
}
