/// Where a cell stands: the `cells.status` column and the JSON Lines `status` of `cell` lines.
///
/// A status this version does not know (a database written by a later version) reads as `.other` with its text kept,
/// so reading never fails and writing it back changes nothing.
public enum CellStatus: Sendable, Hashable {
    /// Being measured; a runner that starts again deletes such cells and measures them anew.
    case running
    /// Measured; the report reads these.
    case complete
    /// The engine or its process failed; `CellRecord.error` says why.
    case failed
    /// A status this version does not know, verbatim.
    case other(String)

    /// Every status this version writes.
    public static let known: [CellStatus] = [.running, .complete, .failed]
}

extension CellStatus: RawRepresentable, Codable, CustomStringConvertible {
    /// Reads stored text; unknown text becomes `.other`.
    public init(rawValue: String) {
        switch rawValue {
        case "running": self = .running
        case "complete": self = .complete
        case "failed": self = .failed
        default: self = .other(rawValue)
        }
    }

    /// The stored text.
    public var rawValue: String {
        switch self {
        case .running: "running"
        case .complete: "complete"
        case .failed: "failed"
        case .other(let text): text
        }
    }

    public var description: String { rawValue }
}
