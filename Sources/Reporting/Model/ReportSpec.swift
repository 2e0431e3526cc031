/// The parts of an experiment's spec (stored verbatim in `runs.spec_text`) that the report shows.
public struct ReportSpec: Sendable {
    /// The experiment's name.
    public var name: String
    /// The question the experiment answers.
    public var question: String
    /// Free-text notes on the setup, when given.
    public var notes: String
    /// Engines in the order the spec lists them.
    public var engines: [String]
    /// Sweep axes in spec order: name and values.
    public var axes: [(name: String, values: [JSONValue])]
    /// Fixed settings in spec order.
    public var fixed: [(name: String, value: JSONValue)]
    /// Measured logical requests per cell, when given.
    public var requests: JSONValue?
    /// Warm-up requests per cell, when given.
    public var warmup: JSONValue?
    /// Repetitions per cell, when given.
    public var repetitions: JSONValue?
    /// The master seed, when given.
    public var seed: JSONValue?
    /// The axis whose values cut the sweep into blocks run one after another (`blockBy`), when given.
    public var blockAxis: String?
    /// What answers the question, when the spec says.
    public var answer: ReportAnswer?
    /// The spec's `resilience` object, when given.
    public var resilience: JSONValue?
    /// The spec's `server` object (mock-server settings), when given.
    public var server: JSONValue?

    /// Reads the spec from its JSON text; a spec that does not parse gives an empty spec named `fallbackName`.
    public init(specText: String, fallbackName: String) {
        let root = JSONValue.parse(specText)
        name = root?["name"]?.stringValue ?? fallbackName
        question = root?["question"]?.stringValue ?? ""
        notes = root?["notes"]?.stringValue ?? ""
        engines = root?["engines"]?.arrayValue?.compactMap(\.stringValue) ?? []
        axes = (root?["axes"]?.objectValue ?? []).map { ($0.0, $0.1.arrayValue ?? [$0.1]) }
        fixed = (root?["fixed"]?.objectValue ?? []).map { ($0.0, $0.1) }
        requests = root?["requests"]
        warmup = root?["warmup"]
        repetitions = root?["repetitions"]
        seed = root?["seed"]
        blockAxis = root?["blockBy"]?.stringValue
        answer = ReportAnswer.from(specText: specText)
        resilience = root?["resilience"]
        server = root?["server"]
    }
}
