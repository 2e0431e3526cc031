extension MockServerConfiguration {
    /// Checks every field. Throws `MockServerConfigurationError` naming the key, the value and what is allowed.
    public func validate() throws(MockServerConfigurationError) {
        guard !host.isEmpty else { throw .invalid(key: "host", value: "\"\"", allowed: "an IP address or host name") }
        guard (0...65535).contains(port) else { throw .invalid(key: "port", value: "\(port)", allowed: "0...65535") }
        guard (1...256).contains(eventLoops) else {
            throw .invalid(key: "eventLoops", value: "\(eventLoops)", allowed: "1...256")
        }
        try latency.validate(path: "latency")
        try Self.validateRate(errorRate, key: "errorRate")
        try faults.validate(path: "faults")
        guard spikeMs.isFinite, spikeMs >= 0, spikeMs <= 60_000 else {
            throw .invalid(key: "spikeMs", value: "\(spikeMs)", allowed: "milliseconds in 0...60000")
        }
        guard rateLimit.after >= 0 else {
            throw .invalid(key: "rateLimit.after", value: "\(rateLimit.after)", allowed: "a count >= 0")
        }
        guard rateLimit.windowMs >= 0 else {
            throw .invalid(key: "rateLimit.windowMs", value: "\(rateLimit.windowMs)", allowed: "milliseconds >= 0")
        }
        guard rateLimit.retryAfterMinSeconds >= 0 else {
            throw .invalid(
                key: "rateLimit.retryAfterMinSeconds", value: "\(rateLimit.retryAfterMinSeconds)",
                allowed: "whole seconds >= 0")
        }
        guard rateLimit.retryAfterMaxSeconds >= rateLimit.retryAfterMinSeconds else {
            throw .invalid(
                key: "rateLimit.retryAfterMaxSeconds", value: "\(rateLimit.retryAfterMaxSeconds)",
                allowed: ">= retryAfterMinSeconds (\(rateLimit.retryAfterMinSeconds))")
        }
        for (index, phase) in schedule.enumerated() {
            let path = "schedule[\(index)]"
            guard phase.durationMs.isFinite, phase.durationMs > 0 else {
                throw .invalid(key: "\(path).durationMs", value: "\(phase.durationMs)", allowed: "milliseconds > 0")
            }
            if let rate = phase.errorRate { try Self.validateRate(rate, key: "\(path).errorRate") }
            try phase.latency?.validate(path: "\(path).latency")
            try phase.faults?.validate(path: "\(path).faults")
        }
        guard capacity.limit >= 0 else {
            throw .invalid(key: "capacity.limit", value: "\(capacity.limit)", allowed: "a count >= 0 (0 = unlimited)")
        }
        guard capacity.maxQueue >= 0 else {
            throw .invalid(
                key: "capacity.maxQueue", value: "\(capacity.maxQueue)", allowed: "a count >= 0 (0 = unbounded)")
        }
        try capacity.retryAfter.validate(path: "capacity.retryAfter")
        guard requestTimeoutMs > 0 else {
            throw .invalid(key: "requestTimeoutMs", value: "\(requestTimeoutMs)", allowed: "milliseconds > 0")
        }
        guard shutdownGraceMs >= 0 else {
            throw .invalid(key: "shutdownGraceMs", value: "\(shutdownGraceMs)", allowed: "milliseconds >= 0")
        }
    }

    private static func validateRate(_ rate: Double, key: String) throws(MockServerConfigurationError) {
        guard rate.isFinite, rate >= 0, rate <= 1 else {
            throw .invalid(key: key, value: "\(rate)", allowed: "a fraction in 0...1")
        }
    }
}
