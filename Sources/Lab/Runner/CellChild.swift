import Foundation
import LabStore
import MockServer

/// What the runner hands a cell's child process: the spec as it was loaded when the sweep started (so an edit of
/// the file during a sweep changes nothing), the cell by key (the grid expansion is deterministic), where the
/// server is, the run and cell rows to write, and the temporary database to write them to.
struct CellJob: Codable, Sendable {
    /// The spec's path, for messages.
    var specPath: String
    /// The spec's text as the sweep loaded it.
    var specText: String
    /// Whether the sweep uses the spec's `quick` profile.
    var quick: Bool
    /// The cell's key in the spec's grid.
    var cellKey: String
    /// `http://HOST:PORT` of the server.
    var baseURL: String
    /// With `--target`: the path every request asks for.
    var targetPath: String?
    /// The run row (the child's database needs one for its cell row).
    var run: RunRecord
    /// The cell row as the runner inserted it, status `running`.
    var cell: CellRecord
    /// The temporary SQLite database the child creates and writes.
    var database: String
}

/// The child side of `experiments cell-child`: runs one cell's client in a fresh process, so the cell's CPU, peak
/// memory, threads and descriptors are its own, and writes the cell row, its samples and its events to the job's
/// temporary database for the runner to import. The first line it prints to standard output starting with
/// `summary: ` is the runner's progress line.
public enum CellChild {
    /// A test hook: when this environment variable equals a cell's key (or is `*`), the child aborts before it
    /// does anything, as a crashing engine would. Only the child honours it.
    public static let crashVariable = "ASYNC_PATTERNS_CELL_CHILD_ABORT"

    /// Runs the job in the JSON file at `jobPath`. The process exits when its standard input closes (the runner
    /// holds the other end, so the child never outlives it), and ignores SIGINT and SIGTERM like the mock server:
    /// the runner decides whether the cell finishes.
    /// - Throws: `LabError` when the job cannot be read or names no cell of its spec; `SpecErrors`, `StoreError`.
    public static func run(jobPath: String) async throws {
        ParentWatch.exitWhenStandardInputCloses()
        let job: CellJob
        do {
            job = try JSONDecoder().decode(CellJob.self, from: Data(contentsOf: URL(fileURLWithPath: jobPath)))
        } catch {
            throw LabError("cannot read the cell job \(jobPath): \(error)")
        }
        if let crash = ProcessInfo.processInfo.environment[crashVariable], crash == job.cellKey || crash == "*" {
            FileHandle.standardError.write(Data("\(crashVariable)=\(crash): aborting cell \(job.cellKey)\n".utf8))
            abort()
        }
        let spec = try ExperimentSpec.parse(text: job.specText, path: job.specPath, quick: job.quick)
        guard let cell = spec.grid().first(where: { $0.key == job.cellKey }) else {
            throw LabError("the cell job names cell \(job.cellKey), which is not in the grid of \(job.specPath)")
        }
        let store = try LabStore.openForWriting(path: job.database)
        var record = job.cell
        record.runID = try store.insertRun(job.run)
        record.id = try store.insertCell(record)
        let client = CellClient(cell: cell, spec: spec, baseURL: job.baseURL, targetPath: job.targetPath)
        let outcome = try await client.run(record: &record, records: store)
        let pid = EventRecord(
            tNs: outcome.events.map(\.tNs).max() ?? 0, kind: .clientPID, value: Double(getpid()),
            detail: "the client ran in process \(getpid()), not the runner's")
        try store.insertEvents(outcome.events + [pid], cellID: record.id)
        let summary = CellClient.finish(&record, result: outcome.result, stored: outcome.stored)
        try store.completeCell(record)
        print("summary: \(summary)")
    }
}
