import AsyncPatterns

/// Renders the model as JSON and CSV, with fixed number formats and stable ordering.
package enum DataRenderers {
    static func number(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .number(value)
    }

    static func estimate(_ estimate: Estimate?) -> JSONValue {
        guard let estimate else { return .null }
        return .object([
            ("median", number(estimate.median)), ("low", number(estimate.low)), ("high", number(estimate.high)),
            ("interval", .string(intervalKind(estimate))), ("coverage", number(estimate.coverage)),
            ("samples", .array(estimate.samples.map { number($0) })),
        ])
    }

    /// How an estimate's interval was made: "order_statistics" (with its coverage), "range" (too few runs) or
    /// "bootstrap_95" (a ratio's percentile bootstrap, at a nominal 95%).
    static func intervalKind(_ estimate: Estimate) -> String {
        if estimate.coverage != nil { return "order_statistics" }
        return estimate.rangeOf == nil ? "bootstrap_95" : "range"
    }

    static func latency(_ latency: LatencyPercentiles) -> JSONValue {
        .object([
            ("p50", number(latency.p50)), ("p90", number(latency.p90)), ("p99", number(latency.p99)),
            ("p999", number(latency.p999)), ("max", number(latency.max)), ("mean", number(latency.mean)),
        ])
    }

    static func point(_ point: PointSummary) -> JSONValue {
        var speedup: JSONValue = .null
        if let comparison = point.speedup {
            speedup = .object([
                ("ratio", estimate(comparison.ratio)), ("p_value", number(comparison.pValue)),
                ("significant", .bool(comparison.significant)),
                ("baseline_concurrency", .number(Double(comparison.baselineConcurrency))),
            ])
        }
        return .object([
            ("engine", .string(point.engine)), ("concurrency", .number(Double(point.concurrency))),
            ("coordinates", .object(point.coordinates.map { ($0.name, $0.value) })),
            ("params", JSONValue(point.params)),
            ("repetitions", .number(Double(point.repetitions))),
            ("cell_keys", .array(point.cellKeys.map(JSONValue.string))),
            ("requests", number(point.requests)), ("span_s", number(point.spanSeconds)),
            ("throughput_rps", estimate(point.throughput)), ("goodput_rps", estimate(point.goodput)),
            ("latency_ns", latency(point.latency)),
            ("uncorrected_latency_ns", latency(point.uncorrectedLatency)),
            ("attempt_latency_ns", latency(point.attemptLatency)),
            ("error_rate", number(point.errorRate)), ("attempts_per_request", number(point.attemptsPerRequest)),
            ("amplification", number(point.amplification)), ("server_requests", number(point.serverRequests)),
            ("efficiency", estimate(point.efficiency)), ("service_mean_ns", number(point.serviceMeanNs)),
            ("cpu_s", number(point.cpuSeconds)), ("peak_rss_bytes", number(point.peakRSSBytes)),
            ("final_outcomes", .object(point.finalClasses.map { ($0.label, .number(Double($0.count))) })),
            ("speedup_vs_sync", speedup),
        ])
    }

    static func json(_ model: ReportModel) -> String {
        let experiments: [JSONValue] = model.experiments.map { experiment in
            let run = experiment.run
            return .object([
                ("name", .string(experiment.name)), ("slug", .string(experiment.slug)),
                ("question", .string(experiment.spec.question)),
                ("engines", .array(experiment.engines.map(JSONValue.string))),
                ("axes", .array(experiment.varyingAxes.map(JSONValue.string))),
                ("cells", .number(Double(experiment.cellCount))), ("samples", .number(Double(experiment.sampleCount))),
                ("runs", .array(experiment.runIDs.map { .number(Double($0)) })),
                (
                    "provenance",
                    .object([
                        ("run", .number(Double(run.id))), ("started_at", .string(run.startedAt)),
                        ("git_commit", .string(run.gitCommit)), ("git_dirty", .bool(run.gitDirty)),
                        ("swift_version", .string(run.swiftVersion)), ("os", .string(run.os)),
                        ("kernel", .string(run.kernel)), ("cpu_model", .string(run.cpuModel)),
                        ("cores", .number(Double(run.cores))), ("memory_bytes", .number(Double(run.memoryBytes))),
                        ("master_seed", .string(String(run.masterSeed))), ("spec_sha256", .string(run.specSHA256)),
                        ("command_line", .string(run.commandLine)),
                    ])
                ),
                ("points", .array(experiment.points.map(point))),
            ])
        }
        return pretty(.object([("experiments", .array(experiments))]), indent: "") + "\n"
    }

    /// Pretty-printed JSON, two spaces per level; arrays of scalars stay on one line.
    package static func pretty(_ value: JSONValue, indent: String) -> String {
        let inner = indent + "  "
        switch value {
        case .array(let values):
            if values.allSatisfy({ if case .object = $0 { return false } else { return true } }) {
                return value.canonical
            }
            return "[\n" + values.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n"
                + members.map { inner + JSONString.quoted($0.0) + ": " + pretty($0.1, indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        default:
            return value.canonical
        }
    }

    static func csvField(_ text: String) -> String {
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }

    static func csv(_ model: ReportModel) -> String {
        let header = [
            "experiment", "engine", "concurrency", "params", "repetitions", "requests", "rps", "rps_low", "rps_high",
            "goodput_rps", "goodput_low", "goodput_high", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms",
            "error_rate", "attempts_per_request", "amplification", "efficiency", "efficiency_low", "efficiency_high",
            "service_mean_ms", "cpu_s", "peak_rss_bytes", "speedup_vs_sync", "speedup_low", "speedup_high",
            "speedup_p_value", "uncorrected_p99_ms",
        ]
        var out = header.joined(separator: ",") + "\n"
        func value(_ number: Double?) -> String {
            guard let number, number.isFinite else { return "" }
            return Format.data(number)
        }
        for experiment in model.experiments {
            for point in experiment.points {
                let fields: [String] = [
                    csvField(experiment.name), csvField(point.engine), "\(point.concurrency)",
                    csvField(point.params.canonicalJSON), "\(point.repetitions)", value(point.requests),
                    value(point.throughput.median), value(point.throughput.low), value(point.throughput.high),
                    value(point.goodput.median), value(point.goodput.low), value(point.goodput.high),
                    value(point.latency.p50 / 1e6), value(point.latency.p90 / 1e6), value(point.latency.p99 / 1e6),
                    value(point.latency.p999 / 1e6), value(point.latency.max / 1e6), value(point.errorRate),
                    value(point.attemptsPerRequest), value(point.amplification), value(point.efficiency?.median),
                    value(point.efficiency?.low), value(point.efficiency?.high),
                    value(point.serviceMeanNs.map { $0 / 1e6 }),
                    value(point.cpuSeconds), value(point.peakRSSBytes), value(point.speedup?.ratio.median),
                    value(point.speedup?.ratio.low), value(point.speedup?.ratio.high), value(point.speedup?.pValue),
                    value(point.uncorrectedLatency.p99 / 1e6),
                ]
                out += fields.joined(separator: ",") + "\n"
            }
        }
        return out
    }
}
