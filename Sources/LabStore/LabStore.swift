import AsyncPatterns
import CSQLite
import Foundation

/// The lab's SQLite database: runs with provenance, cells, raw samples and events.
///
/// Opening checks the schema version before anything is written: a newer or foreign database is
/// refused and left untouched. Writes use WAL mode, prepared statements and batched transactions, so a
/// killed process loses at most the batch in flight. Not thread-safe; one writer at a time.
public final class LabStore {
    /// The underlying connection, for queries the typed API does not cover.
    public let database: SQLiteDatabase
    private var insertSamplesMany: SQLiteStatement?
    private var insertSampleOne: SQLiteStatement?
    /// The descriptor holding the writer's `flock`, so two processes never write one database at once.
    private var writerLock: Int32 = -1

    /// The database file's path.
    public var path: String { database.path }

    /// Opens the database at `path` for writing, creating and migrating it as needed.
    /// - Throws: `StoreError` when the file cannot be opened or written, is locked, is not a lab
    ///   database, or has a newer schema version.
    public static func openForWriting(path: String) throws -> LabStore {
        let store = LabStore(database: try SQLiteDatabase(path: path, mode: .readWriteCreate))
        try store.lockForWriting()
        try store.prepareForWriting()
        return store
    }

    /// Takes an exclusive `flock` on the database file for as long as this store lives. SQLite's own locks are
    /// per transaction; this one says that no other process is between transactions of a sweep, so a run
    /// left `running` belongs to a process that died (see `markAbandonedRuns`). The descriptor is close-on-exec,
    /// so child processes never inherit the lock.
    private func lockForWriting() throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StoreError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError.sqlite(
                path: path, code: SQLITE_BUSY, message: "another experiments process is writing to it", sql: "")
        }
        writerLock = fd
    }

    deinit {
        if writerLock >= 0 { close(writerLock) }
    }

    /// Opens an existing database read-only.
    /// - Throws: `StoreError` when the file is missing, is not a lab database or has a newer schema.
    public static func openForReading(path: String) throws -> LabStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "no such file; run `make experiments` first")
        }
        let store = LabStore(database: try SQLiteDatabase(path: path, mode: .readOnly))
        let version = try store.schemaVersion()
        guard let version else {
            throw StoreError.notALabDatabase(path: path, reason: "it has no schema_version table")
        }
        if version > Schema.current {
            throw StoreError.newerSchema(path: path, found: version, supported: Schema.current)
        }
        return store
    }

    private init(database: SQLiteDatabase) {
        self.database = database
    }

    /// The stored schema version; nil for an empty database, or one that is not the lab's.
    func schemaVersion() throws -> Int? {
        let tables = try database.query("SELECT name FROM sqlite_master WHERE type = 'table'")
            .compactMap { $0["name"].string }
        guard tables.contains("schema_version") else {
            if !tables.isEmpty {
                throw StoreError.notALabDatabase(
                    path: path, reason: "it holds other tables (\(tables.sorted().prefix(3).joined(separator: ", ")))")
            }
            return nil
        }
        return try database.query("SELECT max(version) AS v FROM schema_version").first?["v"].int.map(Int.init)
    }

    private func prepareForWriting() throws {
        // Check the version before changing anything, so a newer or foreign database stays untouched.
        let version = try schemaVersion() ?? 0
        if version > Schema.current {
            throw StoreError.newerSchema(path: path, found: version, supported: Schema.current)
        }
        try database.execute("PRAGMA journal_mode = WAL")
        try database.execute("PRAGMA synchronous = NORMAL")
        try database.execute("PRAGMA foreign_keys = ON")
        if version < Schema.current {
            try database.transaction {
                if version == 0 {
                    try database.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                }
                for index in version..<Schema.current {
                    try database.execute(Schema.migrations[index])
                }
                try database.run("DELETE FROM schema_version")
                try database.run("INSERT INTO schema_version (version) VALUES (?)", [.integer(Int64(Schema.current))])
            }
        }
    }

    // MARK: Writing

    /// Stores a new run and returns its id.
    public func insertRun(_ run: RunRecord) throws -> Int64 {
        try database.run(
            """
            INSERT INTO runs (experiment, status, started_at, ended_at, master_seed, spec_path, spec_text,
                spec_sha256, command_line, git_commit, git_dirty, swift_version, os, kernel, cpu_model, cores,
                memory_bytes, target)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(run.experiment), .text(run.status.rawValue), .text(run.startedAt),
                run.endedAt.map { .text($0) } ?? .null,
                .integer(Int64(bitPattern: run.masterSeed)), .text(run.specPath), .text(run.specText),
                .text(run.specSHA256), .text(run.commandLine), .text(run.gitCommit), .integer(run.gitDirty ? 1 : 0),
                .text(run.swiftVersion), .text(run.os), .text(run.kernel), .text(run.cpuModel),
                .integer(Int64(run.cores)), .integer(run.memoryBytes), .text(run.target),
            ])
        return database.lastInsertRowID
    }

    /// Marks a run as ended with `status`.
    public func finishRun(id: Int64, status: RunStatus, endedAt: String) throws {
        try database.run(
            "UPDATE runs SET status = ?, ended_at = ? WHERE id = ?",
            [.text(status.rawValue), .text(endedAt), .integer(id)])
    }

    /// Stores a cell in state `running` and returns its id. Its samples can stream in before it completes.
    public func insertCell(_ cell: CellRecord) throws -> Int64 {
        try database.run(
            """
            INSERT INTO cells (cell_key, run_id, experiment, engine, concurrency, repetition, params, seed, status,
                planned_requests, warmup_requests, started_at, server_seed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(cell.cellKey), .integer(cell.runID), .text(cell.experiment), .text(cell.engine),
                .integer(Int64(cell.concurrency)), .integer(Int64(cell.repetition)), .text(cell.params),
                .integer(Int64(bitPattern: cell.seed)), .text(CellStatus.running.rawValue),
                .integer(Int64(cell.plannedRequests)),
                .integer(Int64(cell.warmupRequests)), .text(cell.startedAt),
                cell.serverSeed.map { .integer(Int64(bitPattern: $0)) } ?? .null,
            ])
        return database.lastInsertRowID
    }

    /// Rows per multi-row INSERT: SQLite does less work per row when one statement carries many rows.
    static let rowsPerInsert = 32

    /// Appends a batch of samples to a cell in one transaction, `rowsPerInsert` rows per statement.
    public func insertSamples<C: Collection<AttemptSample>>(_ samples: C, cellID: Int64) throws {
        let many = try insertSamplesMany ?? prepareSampleInsert(rows: Self.rowsPerInsert)
        let one = try insertSampleOne ?? prepareSampleInsert(rows: 1)
        insertSamplesMany = many
        insertSampleOne = one
        try database.transaction {
            var index = samples.startIndex
            while samples.distance(from: index, to: samples.endIndex) >= Self.rowsPerInsert {
                for row in 0..<Int32(Self.rowsPerInsert) {
                    Self.bind(samples[index], cellID: cellID, to: many, offset: row * 11)
                    index = samples.index(after: index)
                }
                try many.execute()
            }
            while index != samples.endIndex {
                Self.bind(samples[index], cellID: cellID, to: one, offset: 0)
                try one.execute()
                index = samples.index(after: index)
            }
        }
    }

    private func prepareSampleInsert(rows: Int) throws -> SQLiteStatement {
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        return try database.prepare(
            """
            INSERT INTO samples (cell_id, request_id, attempt, intended_ns, start_ns, end_ns, status, error_class,
                bytes, is_final, is_warmup)
            VALUES \(Array(repeating: row, count: rows).joined(separator: ", "))
            """)
    }

    @inline(__always)
    private static func bind(_ sample: AttemptSample, cellID: Int64, to statement: SQLiteStatement, offset: Int32) {
        statement.bind(cellID, at: offset + 1)
        statement.bind(sample.requestID, at: offset + 2)
        statement.bind(Int64(sample.attempt), at: offset + 3)
        statement.bind(sample.intendedNs, at: offset + 4)
        statement.bind(sample.startNs, at: offset + 5)
        statement.bind(sample.endNs, at: offset + 6)
        statement.bind(Int64(sample.status), at: offset + 7)
        statement.bindText(sample.errorClass.rawValue, at: offset + 8)
        statement.bind(sample.bytes, at: offset + 9)
        statement.bind(sample.isFinal ? 1 : 0, at: offset + 10)
        statement.bind(sample.isWarmup ? 1 : 0, at: offset + 11)
    }

    /// Appends events to a cell in one transaction.
    public func insertEvents(_ events: [EventRecord], cellID: Int64) throws {
        guard !events.isEmpty else { return }
        let statement = try database.prepare(
            "INSERT INTO events (cell_id, t_ns, kind, value, detail) VALUES (?, ?, ?, ?, ?)")
        try database.transaction {
            for event in events {
                try statement.bind([
                    .integer(cellID), .integer(event.tNs), .text(event.kind.rawValue),
                    event.value.map { .real($0) } ?? .null,
                    event.detail.map { .text($0) } ?? .null,
                ])
                try statement.execute()
            }
        }
    }

    /// Completes a cell: records its figures and, in the same transaction, deletes every earlier cell with
    /// the same key, so a re-run replaces the old result atomically.
    public func completeCell(_ cell: CellRecord) throws {
        try database.transaction { try completeCellInTransaction(cell) }
    }

    /// `completeCell` without its own transaction, for callers that already hold one.
    func completeCellInTransaction(_ cell: CellRecord) throws {
        precondition(cell.id != 0, "completeCell needs the id from insertCell")
        try database.run("DELETE FROM cells WHERE cell_key = ? AND id != ?", [.text(cell.cellKey), .integer(cell.id)])
        let client = cell.client
        let server = cell.server
        let machine = cell.machine
        let reference = cell.reference
        try database.run(
            """
            UPDATE cells SET status = ?, error = ?, elapsed_ns = ?, max_lateness_ns = ?,
                cpu_user_s = ?, cpu_sys_s = ?, peak_rss_bytes = ?, ctx_voluntary = ?, ctx_involuntary = ?,
                server_requests = ?, server_connections = ?, server_service_mean_ns = ?,
                server_service_p99_ns = ?, server_cpu_user_s = ?, server_cpu_sys_s = ?,
                server_peak_rss_bytes = ?, server_counters = ?, machine_total_s = ?, machine_busy_s = ?,
                machine_steal_s = ?, planned_requests = ?, warmup_requests = ?, reference_requests = ?,
                reference_rps = ?, reference_p50_ns = ?, reference_p99_ns = ?, reference_errors = ?
            WHERE id = ?
            """,
            [
                .text(cell.status.rawValue), cell.error.map { .text($0) } ?? .null, .integer(cell.elapsedNs),
                .integer(cell.maxLatenessNs),
                client.map { .real($0.cpuUserSeconds) } ?? .null, client.map { .real($0.cpuSysSeconds) } ?? .null,
                client.map { .integer($0.peakRSSBytes) } ?? .null,
                client.map { .integer($0.voluntarySwitches) } ?? .null,
                client.map { .integer($0.involuntarySwitches) } ?? .null,
                server.map { .integer($0.requests) } ?? .null, server.map { .integer($0.connections) } ?? .null,
                server.map { .real($0.serviceMeanNs) } ?? .null, server.map { .real($0.serviceP99Ns) } ?? .null,
                server?.cpuUserSeconds.map { .real($0) } ?? .null, server?.cpuSysSeconds.map { .real($0) } ?? .null,
                server?.peakRSSBytes.map { .integer($0) } ?? .null, server.map { .text($0.countersJSON) } ?? .null,
                machine.map { .real($0.totalSeconds) } ?? .null, machine.map { .real($0.busySeconds) } ?? .null,
                machine.map { .real($0.stealSeconds) } ?? .null,
                .integer(Int64(cell.plannedRequests)), .integer(Int64(cell.warmupRequests)),
                reference.map { .integer($0.requests) } ?? .null,
                reference.map { .real($0.requestsPerSecond) } ?? .null,
                reference.map { .real($0.p50Ns) } ?? .null, reference.map { .real($0.p99Ns) } ?? .null,
                reference.map { .integer($0.errors) } ?? .null,
                .integer(cell.id),
            ])
    }

    /// Marks every run still `running` as `abandoned`: with the writer's lock held, no live process owns one,
    /// so its process was killed (SIGKILL, the OOM killer, a lost node). Returns how many were marked.
    @discardableResult
    public func markAbandonedRuns(at endedAt: String) throws -> Int {
        precondition(writerLock >= 0, "markAbandonedRuns needs a store opened for writing")
        let running = RunStatus.running.rawValue
        let count = try database.query("SELECT count(*) AS n FROM runs WHERE status = ?", [.text(running)]).first?["n"]
        try database.run(
            "UPDATE runs SET status = ?, ended_at = ? WHERE status = ?",
            [.text(RunStatus.abandoned.rawValue), .text(endedAt), .text(running)])
        return Int(count?.int ?? 0)
    }

    /// Deletes cells left `running` by an interrupted run, with their samples and events.
    public func deleteUnfinishedCells() throws {
        let running = CellStatus.running.rawValue
        try database.transaction { try database.run("DELETE FROM cells WHERE status = ?", [.text(running)]) }
    }

    // MARK: Reading

    /// Every run, oldest first.
    public func runs() throws -> [RunRecord] {
        try database.query("SELECT * FROM runs ORDER BY id").map { row in
            RunRecord(
                id: row["id"].int ?? 0, experiment: row["experiment"].string ?? "",
                status: RunStatus(rawValue: row["status"].string ?? ""),
                startedAt: row["started_at"].string ?? "", endedAt: row["ended_at"].string,
                masterSeed: UInt64(bitPattern: row["master_seed"].int ?? 0), specPath: row["spec_path"].string ?? "",
                specText: row["spec_text"].string ?? "", specSHA256: row["spec_sha256"].string ?? "",
                commandLine: row["command_line"].string ?? "", gitCommit: row["git_commit"].string ?? "",
                gitDirty: (row["git_dirty"].int ?? 0) != 0, swiftVersion: row["swift_version"].string ?? "",
                os: row["os"].string ?? "", kernel: row["kernel"].string ?? "", cpuModel: row["cpu_model"].string ?? "",
                cores: Int(row["cores"].int ?? 0), memoryBytes: row["memory_bytes"].int ?? 0,
                target: row["target"].string ?? "")
        }
    }

    /// Cells in `status` (default: complete), ordered by experiment, engine, concurrency, repetition and key.
    public func cells(status: CellStatus = .complete) throws -> [CellRecord] {
        try database.query(
            "SELECT * FROM cells WHERE status = ? ORDER BY experiment, engine, concurrency, repetition, cell_key",
            [.text(status.rawValue)]
        ).map(Self.cell(from:))
    }

    /// The cell keys already complete, for resuming.
    public func completedCellKeys() throws -> Set<String> {
        let rows = try database.query(
            "SELECT cell_key FROM cells WHERE status = ?", [.text(CellStatus.complete.rawValue)])
        return Set(rows.compactMap { $0["cell_key"].string })
    }

    /// Calls `body` with every sample of a cell, in insertion order, without holding them all in memory.
    public func forEachSample(cellID: Int64, _ body: (AttemptSample) throws -> Void) throws {
        let statement = try database.prepare(
            """
            SELECT request_id, attempt, intended_ns, start_ns, end_ns, status, error_class, bytes, is_final, is_warmup
            FROM samples WHERE cell_id = ? ORDER BY rowid
            """)
        try statement.bind([.integer(cellID)])
        while try statement.stepRaw() {
            try body(
                AttemptSample(
                    requestID: statement.int64(at: 0), attempt: Int32(statement.int64(at: 1)),
                    intendedNs: statement.int64(at: 2), startNs: statement.int64(at: 3), endNs: statement.int64(at: 4),
                    status: Int32(statement.int64(at: 5)),
                    errorClass: ErrorClass(rawValue: statement.text(at: 6)) ?? .other, bytes: statement.int64(at: 7),
                    isFinal: statement.int64(at: 8) != 0, isWarmup: statement.int64(at: 9) != 0))
        }
    }

    /// The events of a cell, in time order.
    public func events(cellID: Int64) throws -> [EventRecord] {
        try database.query(
            "SELECT t_ns, kind, value, detail FROM events WHERE cell_id = ? ORDER BY t_ns, rowid", [.integer(cellID)]
        ).map { row in
            EventRecord(
                tNs: row["t_ns"].int ?? 0, kind: EventKind(rawValue: row["kind"].string ?? ""),
                value: row["value"].double,
                detail: row["detail"].string)
        }
    }

    private static func cell(from row: SQLiteRow) -> CellRecord {
        var client: ResourceFigures?
        if let user = row["cpu_user_s"].double {
            client = ResourceFigures(
                cpuUserSeconds: user, cpuSysSeconds: row["cpu_sys_s"].double ?? 0,
                peakRSSBytes: row["peak_rss_bytes"].int ?? 0, voluntarySwitches: row["ctx_voluntary"].int ?? 0,
                involuntarySwitches: row["ctx_involuntary"].int ?? 0)
        }
        var server: ServerFigures?
        if let requests = row["server_requests"].int {
            server = ServerFigures(
                requests: requests, connections: row["server_connections"].int ?? 0,
                serviceMeanNs: row["server_service_mean_ns"].double ?? 0,
                serviceP99Ns: row["server_service_p99_ns"].double ?? 0,
                cpuUserSeconds: row["server_cpu_user_s"].double, cpuSysSeconds: row["server_cpu_sys_s"].double,
                peakRSSBytes: row["server_peak_rss_bytes"].int, countersJSON: row["server_counters"].string ?? "{}")
        }
        var machine: MachineFigures?
        if let total = row["machine_total_s"].double {
            machine = MachineFigures(
                totalSeconds: total, busySeconds: row["machine_busy_s"].double ?? 0,
                stealSeconds: row["machine_steal_s"].double ?? 0)
        }
        var reference: ReferenceFigures?
        if let rps = row["reference_rps"].double {
            reference = ReferenceFigures(
                requests: row["reference_requests"].int ?? 0, requestsPerSecond: rps,
                p50Ns: row["reference_p50_ns"].double ?? .nan, p99Ns: row["reference_p99_ns"].double ?? .nan,
                errors: row["reference_errors"].int ?? 0)
        }
        return CellRecord(
            id: row["id"].int ?? 0, cellKey: row["cell_key"].string ?? "", runID: row["run_id"].int ?? 0,
            experiment: row["experiment"].string ?? "", engine: row["engine"].string ?? "",
            concurrency: Int(row["concurrency"].int ?? 0), repetition: Int(row["repetition"].int ?? 0),
            params: row["params"].string ?? "{}", seed: UInt64(bitPattern: row["seed"].int ?? 0),
            status: CellStatus(rawValue: row["status"].string ?? ""), error: row["error"].string,
            plannedRequests: Int(row["planned_requests"].int ?? 0),
            warmupRequests: Int(row["warmup_requests"].int ?? 0),
            startedAt: row["started_at"].string ?? "", elapsedNs: row["elapsed_ns"].int ?? 0,
            maxLatenessNs: row["max_lateness_ns"].int ?? 0, client: client, server: server,
            serverSeed: row["server_seed"].int.map { UInt64(bitPattern: $0) }, machine: machine,
            reference: reference)
    }
}
