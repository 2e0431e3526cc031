/// What answers an experiment's question: the spec's `answer` object. Example (jitter):
///
///     "answer": {"metrics": ["server_calls", "completion_s"], "compare": "backoff", "by": "concurrency",
///                "analyses": ["aws-backoff-jitter-2015"]}
///
/// The findings compare the values of the `compare` axis (or the engines, with `"compare": "engine"`) by each
/// metric, at each value of the `by` axis, with intervals and rank tests; `analyses` add named sections.
public struct ReportAnswer: Sendable, Hashable {
    /// Metric ids from the report's catalogue, most important first; the first is the index headline's.
    public var metrics: [String]
    /// The axis whose values are the treatments compared, or "engine".
    public var compare: String
    /// The axis along which the comparison is repeated (usually concurrency or a rate); nil: none.
    public var by: String?
    /// The treatment every other is set against (for example "off" or "none"); nil: the worst.
    public var baseline: String?
    /// Named analyses: published comparisons and experiment-specific trade-offs.
    public var analyses: [String]

    /// The analyses a spec may name, with what each one adds.
    public static let knownAnalyses: [(name: String, help: String)] = [
        ("aws-backoff-jitter-2015", "calls and completion time per backoff strategy against the AWS study's claims"),
        (
            "sre-client-throttling",
            "client rejections and the backend's rejected-per-accepted ratio against the SRE book"
        ),
        ("retry-budget-defaults", "amplification and success against Finagle's and Envoy's 20% retry budgets"),
        ("breaker-trade", "time to open and close, calls shed, rejections against failures avoided"),
        ("memory-slope", "KiB of client memory per in-flight request: the slope of peak RSS against concurrency"),
        ("load-knee", "the highest offered rate whose p99 stays within 5x the unloaded service time"),
        (
            "metastable-recovery",
            "per treatment, recovery after the server's trigger phase, or goodput that stays collapsed (metastable)"
        ),
    ]

    /// The metric ids a spec may name.
    public static var knownMetrics: [String] { Metric.catalogue.map(\.id) }

    /// Reads the `answer` object of a spec's JSON text; nil when the spec has none or it does not parse (specs are
    /// validated when they are loaded, with `problems(inSpecText:)`).
    static func from(specText: String) -> ReportAnswer? {
        guard let answer = JSONValue.parse(specText)?["answer"] else { return nil }
        let (parsed, problems) = parse(answer, axes: nil)
        return problems.isEmpty ? parsed : nil
    }

    /// The problems of a spec's `answer` value, each a sentence naming the key, the value and what is allowed;
    /// empty when it is valid. `axes` are the spec's axis names.
    public static func problems(answerJSON: String, axes: [String]) -> [String] {
        guard let value = JSONValue.parse(answerJSON) else { return ["is not valid JSON"] }
        return parse(value, axes: axes).problems
    }

    static func parse(_ value: JSONValue, axes: [String]?) -> (ReportAnswer?, problems: [String]) {
        var problems: [String] = []
        guard let members = value.objectValue else {
            return (nil, ["must be an object with metrics, compare and optionally by, baseline, analyses"])
        }
        let allowed = ["metrics", "compare", "by", "baseline", "analyses"]
        for (key, _) in members where !allowed.contains(key) {
            problems.append("has unknown key \"\(key)\"; allowed: \(allowed.joined(separator: ", "))")
        }
        let metrics = value["metrics"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if metrics.isEmpty {
            problems.append("metrics must be a non-empty list of metric ids: \(knownMetrics.joined(separator: ", "))")
        }
        for metric in metrics where Metric.named(metric) == nil {
            problems.append(
                "metrics has \"\(metric)\", which is not a metric; use one of \(knownMetrics.joined(separator: ", "))")
        }
        let compare = value["compare"]?.stringValue ?? ""
        if let axes, compare != "engine" && !axes.contains(compare) {
            problems.append(
                "compare is \"\(compare)\"; use \"engine\" or one of the spec's axes: \(axes.joined(separator: ", "))")
        }
        let by = value["by"]?.stringValue
        if let axes, let by, !axes.contains(by) || by == compare {
            problems.append(
                "by is \"\(by)\"; use one of the spec's axes other than compare: \(axes.joined(separator: ", "))")
        }
        let analyses = value["analyses"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for analysis in analyses where !knownAnalyses.contains(where: { $0.name == analysis }) {
            problems.append(
                "analyses has \"\(analysis)\"; use one of \(knownAnalyses.map(\.name).joined(separator: ", "))")
        }
        let answer = ReportAnswer(
            metrics: metrics, compare: compare, by: by, baseline: value["baseline"]?.stringValue, analyses: analyses)
        return (answer, problems)
    }
}
