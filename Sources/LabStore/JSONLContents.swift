import AsyncPatterns

/// Everything a JSON Lines file holds, replayed with the store's rules: a later `run`/`cell` line supersedes
/// an earlier one with the same id, a non-running `cell` replaces other cells with its `cell_key`, and
/// `delete_unfinished_cells` drops running cells with their samples and events.
public struct JSONLContents: Sendable, Hashable {
    /// Runs by id order.
    public var runs: [RunRecord] = []
    /// Cells by id order.
    public var cells: [CellRecord] = []
    /// Samples per cell id, in file order.
    public var samples: [Int64: [AttemptSample]] = [:]
    /// Events per cell id, ordered by time, then file order (as `LabStore.events(cellID:)`).
    public var events: [Int64: [EventRecord]] = [:]
    /// Whether the file ended in a torn line (a crash mid-write), which was ignored.
    public var tornTail = false

    public init() {}
}
