/// How a run ended, or that it is still going: the `runs.status` column and the JSON Lines `status` of `run` and
/// `run_status` lines.
///
/// A status this version does not know (a database written by a later version) reads as `.other` with its text kept,
/// so reading never fails and writing it back changes nothing.
public enum RunStatus: Sendable, Hashable {
    /// The runner is measuring it, or died without saying (see `abandoned`).
    case running
    /// Every cell ran.
    case complete
    /// Stopped by a signal; `--resume` continues it.
    case interrupted
    /// The runner gave up on an error.
    case failed
    /// Found `running` by a later runner, which marked it so: the runner that owned it had died.
    case abandoned
    /// A status this version does not know, verbatim.
    case other(String)

    /// Every status this version writes.
    public static let known: [RunStatus] = [.running, .complete, .interrupted, .failed, .abandoned]
}

extension RunStatus: RawRepresentable, Codable, CustomStringConvertible {
    /// Reads stored text; unknown text becomes `.other`.
    public init(rawValue: String) {
        switch rawValue {
        case "running": self = .running
        case "complete": self = .complete
        case "interrupted": self = .interrupted
        case "failed": self = .failed
        case "abandoned": self = .abandoned
        default: self = .other(rawValue)
        }
    }

    /// The stored text.
    public var rawValue: String {
        switch self {
        case .running: "running"
        case .complete: "complete"
        case .interrupted: "interrupted"
        case .failed: "failed"
        case .abandoned: "abandoned"
        case .other(let text): text
        }
    }

    public var description: String { rawValue }
}
