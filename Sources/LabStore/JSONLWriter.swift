import AsyncPatterns
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes the store's records (runs, cells, samples, events) as JSON Lines: one object per line, with a `type`
/// field first and then the SQLite column names, in the schema's column order, so the output is deterministic
/// and `jq`/pandas-friendly.
///
/// Line types and when to write them, mirroring `LabStore`:
/// - `run` (`insertRun`, with the id the store returned), then `run_status` (`finishRun`);
/// - `cell` (`insertCell` with status `running`, and again on `completeCell`: a later `cell` line with the same
///   id supersedes the earlier one, and a non-running one replaces other cells with the same `cell_key`);
/// - `sample` and `event` (`insertSamples`, `insertEvents`);
/// - `delete_unfinished_cells` (`deleteUnfinishedCells`).
///
/// Output is buffered (1 MiB) and written with `fwrite`; `flush()` after each batch bounds what a crash loses to
/// the batch in flight, and `JSONLReader` ignores a torn last line. Not thread-safe; one writer at a time.
public final class JSONLWriter {
    /// The file's path.
    public let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private var buffer: [UInt8] = []
    private let flushThreshold: Int

    /// Opens `path` for writing: appending by default (a resumed run continues the file), or truncating it.
    /// `bufferBytes` is how much is buffered before a write (default 1 MiB).
    /// - Throws: `JSONLError` when the file cannot be opened.
    public init(path: String, append: Bool = true, bufferBytes: Int = 1 << 20) throws {
        self.path = path
        guard let file = fopen(path, append ? "a" : "w") else {
            throw JSONLError.cannotOpen(path: path, errno: errno)
        }
        self.file = file
        flushThreshold = max(4096, bufferBytes)
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    deinit {
        try? close()
    }

    // MARK: Records

    /// Writes a `run` line. `run.id` must be the id `LabStore.insertRun` returned.
    public func writeRun(_ run: RunRecord) throws {
        try write { line in
            line.begin("run")
            line.field("id", run.id)
            line.field("experiment", run.experiment)
            line.field("status", run.status)
            line.field("started_at", run.startedAt)
            line.field("ended_at", run.endedAt)
            line.field("master_seed", run.masterSeed)
            line.field("spec_path", run.specPath)
            line.field("spec_text", run.specText)
            line.field("spec_sha256", run.specSHA256)
            line.field("command_line", run.commandLine)
            line.field("git_commit", run.gitCommit)
            line.field("git_dirty", run.gitDirty)
            line.field("swift_version", run.swiftVersion)
            line.field("os", run.os)
            line.field("kernel", run.kernel)
            line.field("cpu_model", run.cpuModel)
            line.field("cores", Int64(run.cores))
            line.field("memory_bytes", run.memoryBytes)
            line.field("target", run.target)
            line.end()
        }
    }

    /// Writes a `run_status` line: the run ended with `status` at `endedAt` (as `LabStore.finishRun`).
    public func writeRunStatus(id: Int64, status: String, endedAt: String) throws {
        try write { line in
            line.begin("run_status")
            line.field("id", id)
            line.field("status", status)
            line.field("ended_at", endedAt)
            line.end()
        }
    }

    /// Writes a `cell` line with every column. `cell.id` must be the id `LabStore.insertCell` returned.
    public func writeCell(_ cell: CellRecord) throws {
        try write { line in
            line.begin("cell")
            line.field("id", cell.id)
            line.field("cell_key", cell.cellKey)
            line.field("run_id", cell.runID)
            line.field("experiment", cell.experiment)
            line.field("engine", cell.engine)
            line.field("concurrency", Int64(cell.concurrency))
            line.field("repetition", Int64(cell.repetition))
            line.field("params", cell.params)
            line.field("seed", cell.seed)
            line.field("server_seed", cell.serverSeed)
            line.field("status", cell.status)
            line.field("error", cell.error)
            line.field("planned_requests", Int64(cell.plannedRequests))
            line.field("warmup_requests", Int64(cell.warmupRequests))
            line.field("started_at", cell.startedAt)
            line.field("elapsed_ns", cell.elapsedNs)
            line.field("max_lateness_ns", cell.maxLatenessNs)
            let client = cell.client
            line.field("cpu_user_s", client?.cpuUserSeconds)
            line.field("cpu_sys_s", client?.cpuSysSeconds)
            line.field("peak_rss_bytes", client?.peakRSSBytes)
            line.field("ctx_voluntary", client?.voluntarySwitches)
            line.field("ctx_involuntary", client?.involuntarySwitches)
            let server = cell.server
            line.field("server_requests", server?.requests)
            line.field("server_connections", server?.connections)
            line.field("server_service_mean_ns", server?.serviceMeanNs)
            line.field("server_service_p99_ns", server?.serviceP99Ns)
            line.field("server_cpu_user_s", server?.cpuUserSeconds)
            line.field("server_cpu_sys_s", server?.cpuSysSeconds)
            line.field("server_peak_rss_bytes", server?.peakRSSBytes)
            line.field("server_counters", server?.countersJSON)
            let machine = cell.machine
            line.field("machine_total_s", machine?.totalSeconds)
            line.field("machine_busy_s", machine?.busySeconds)
            line.field("machine_steal_s", machine?.stealSeconds)
            let reference = cell.reference
            line.field("reference_requests", reference?.requests)
            line.field("reference_rps", reference?.requestsPerSecond)
            line.field("reference_p50_ns", reference?.p50Ns)
            line.field("reference_p99_ns", reference?.p99Ns)
            line.field("reference_errors", reference?.errors)
            line.end()
        }
    }

    /// Writes one `sample` line per sample, in order.
    public func writeSamples<S: Sequence<AttemptSample>>(_ samples: S, cellID: Int64) throws {
        try write { line in
            for sample in samples {
                line.begin("sample")
                line.field("cell_id", cellID)
                line.field("request_id", sample.requestID)
                line.field("attempt", Int64(sample.attempt))
                line.field("intended_ns", sample.intendedNs)
                line.field("start_ns", sample.startNs)
                line.field("end_ns", sample.endNs)
                line.field("status", Int64(sample.status))
                line.field("error_class", sample.errorClass.rawValue)
                line.field("bytes", sample.bytes)
                line.field("is_final", sample.isFinal)
                line.field("is_warmup", sample.isWarmup)
                line.end()
                if line.bytes.count >= flushThreshold { try writeOut(&line.bytes) }
            }
        }
    }

    /// Writes one `event` line per event, in order.
    public func writeEvents(_ events: [EventRecord], cellID: Int64) throws {
        try write { line in
            for event in events {
                line.begin("event")
                line.field("cell_id", cellID)
                line.field("t_ns", event.tNs)
                line.field("kind", event.kind)
                line.field("value", event.value)
                line.field("detail", event.detail)
                line.end()
            }
        }
    }

    /// Writes a `delete_unfinished_cells` line (as `LabStore.deleteUnfinishedCells`).
    public func writeDeleteUnfinishedCells() throws {
        try write { line in
            line.begin("delete_unfinished_cells")
            line.end()
        }
    }

    // MARK: Output

    /// Hands everything buffered to the operating system.
    /// - Throws: `JSONLError` when the write fails (disk full, closed file).
    public func flush() throws {
        try writeOut(&buffer)
        guard let file else { return }
        if fflush(file) != 0 { throw JSONLError.writeFailed(path: path, errno: errno) }
    }

    /// Flushes and closes the file; later writes throw.
    /// - Throws: `JSONLError` when the last write fails.
    public func close() throws {
        guard let file else { return }
        defer {
            fclose(file)
            self.file = nil
        }
        try flush()
    }

    /// Runs `body` on the buffer taken out of `self` (one exclusivity check per call, not per byte), then writes
    /// it out when it has grown past the threshold.
    private func write(_ body: (inout JSONLineBuilder) throws -> Void) throws {
        guard file != nil else { throw JSONLError.closed(path: path) }
        var line = JSONLineBuilder(bytes: buffer)
        buffer = []
        defer { buffer = line.bytes }
        try body(&line)
        if line.bytes.count >= flushThreshold { try writeOut(&line.bytes) }
    }

    private func writeOut(_ bytes: inout [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        guard let file else { throw JSONLError.closed(path: path) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        if written != bytes.count { throw JSONLError.writeFailed(path: path, errno: errno) }
        bytes.removeAll(keepingCapacity: true)
    }
}

/// Appends JSON to a byte buffer without building intermediate strings.
struct JSONLineBuilder {
    var bytes: [UInt8]

    @inline(__always)
    mutating func begin(_ type: StaticString) {
        bytes.append(contentsOf: #"{"type":""#.utf8)
        bytes.append(contentsOf: UnsafeBufferPointer(start: type.utf8Start, count: type.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    mutating func end() {
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\n"))
    }

    @inline(__always)
    private mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: ","))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        appendInteger(value.magnitude, negative: value < 0)
    }

    mutating func field(_ name: StaticString, _ value: UInt64) {
        key(name)
        appendInteger(value, negative: false)
    }

    mutating func field(_ name: StaticString, _ value: UInt64?) {
        guard let value else { return null(name) }
        field(name, value)
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        guard let value else { return null(name) }
        field(name, value)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func field(_ name: StaticString, _ value: Double?) {
        key(name)
        guard let value, value.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        // Swift's description is the shortest text that reads back to the same Double, and valid JSON.
        bytes.append(contentsOf: value.description.utf8)
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return null(name) }
        key(name)
        appendString(value)
    }

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        appendString(value)
    }

    private mutating func null(_ name: StaticString) {
        key(name)
        bytes.append(contentsOf: "null".utf8)
    }

    @inline(__always)
    private mutating func appendInteger(_ magnitude: UInt64, negative: Bool) {
        if negative { bytes.append(UInt8(ascii: "-")) }
        if magnitude < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(magnitude))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var value = magnitude
            var index = 20
            while value > 0 {
                index -= 1
                digits[index] = UInt8(ascii: "0") &+ UInt8(value % 10)
                value /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[index..<20]))
        }
    }

    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): bytes.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): bytes.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

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

/// Reads files written by `JSONLWriter`.
public enum JSONLReader {
    /// Reads and replays the file at `path`. A last line without its newline is a torn write: it is ignored and
    /// reported in `tornTail`.
    /// - Throws: `JSONLError` when the file cannot be read or a complete line is not a valid record.
    public static func read(path: String) throws -> JSONLContents {
        guard FileManager.default.fileExists(atPath: path) else {
            throw JSONLError.cannotOpen(path: path, errno: ENOENT)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JSONLError.cannotOpen(path: path, errno: EACCES)
        }
        var runs: [Int64: RunRecord] = [:]
        var cells: [Int64: CellRecord] = [:]
        var samples: [Int64: [AttemptSample]] = [:]
        var events: [Int64: [EventRecord]] = [:]
        var contents = JSONLContents()
        let decoder = JSONDecoder()
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            lineNumber += 1
            let newline = data[start...].firstIndex(of: UInt8(ascii: "\n"))
            let end = newline ?? data.endIndex
            let lineData = data[start..<end]
            start = newline.map { $0 + 1 } ?? data.endIndex
            if lineData.isEmpty { continue }
            let line: JSONLLine
            do {
                line = try decoder.decode(JSONLLine.self, from: lineData)
            } catch {
                if newline == nil {
                    contents.tornTail = true
                    break
                }
                throw JSONLError.badLine(path: path, line: lineNumber, reason: "\(error)")
            }
            switch line {
            case .run(let run):
                runs[run.id] = run
            case .runStatus(let id, let status, let endedAt):
                runs[id]?.status = status
                runs[id]?.endedAt = endedAt
            case .cell(let cell):
                if cell.status != "running" {
                    for (id, other) in cells where other.cellKey == cell.cellKey && id != cell.id {
                        cells[id] = nil
                        samples[id] = nil
                        events[id] = nil
                    }
                }
                cells[cell.id] = cell
            case .sample(let cellID, let sample):
                samples[cellID, default: []].append(sample)
            case .event(let cellID, let event):
                events[cellID, default: []].append(event)
            case .deleteUnfinishedCells:
                for (id, cell) in cells where cell.status == "running" {
                    cells[id] = nil
                    samples[id] = nil
                    events[id] = nil
                }
            }
        }
        contents.runs = runs.values.sorted { $0.id < $1.id }
        contents.cells = cells.values.sorted { $0.id < $1.id }
        contents.samples = samples
        contents.events = events.mapValues { list in
            list.enumerated().sorted { ($0.element.tNs, $0.offset) < ($1.element.tNs, $1.offset) }.map(\.element)
        }
        return contents
    }
}

/// One decoded line of a JSON Lines file.
private enum JSONLLine: Decodable {
    case run(RunRecord)
    case runStatus(id: Int64, status: String, endedAt: String)
    case cell(CellRecord)
    case sample(cellID: Int64, AttemptSample)
    case event(cellID: Int64, EventRecord)
    case deleteUnfinishedCells

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func value<T: Decodable>(_ name: String, _ type: T.Type = T.self) throws -> T {
            try c.decode(T.self, forKey: Key(stringValue: name))
        }
        func optional<T: Decodable>(_ name: String, _ type: T.Type = T.self) throws -> T? {
            try c.decodeIfPresent(T.self, forKey: Key(stringValue: name))
        }
        let type: String = try value("type")
        switch type {
        case "run":
            self = .run(
                RunRecord(
                    id: try value("id"), experiment: try value("experiment"), status: try value("status"),
                    startedAt: try value("started_at"), endedAt: try optional("ended_at"),
                    masterSeed: try value("master_seed"), specPath: try value("spec_path"),
                    specText: try value("spec_text"), specSHA256: try value("spec_sha256"),
                    commandLine: try value("command_line"), gitCommit: try value("git_commit"),
                    gitDirty: try value("git_dirty"), swiftVersion: try value("swift_version"), os: try value("os"),
                    kernel: try value("kernel"), cpuModel: try value("cpu_model"), cores: try value("cores"),
                    memoryBytes: try value("memory_bytes"), target: try value("target")))
        case "run_status":
            self = .runStatus(id: try value("id"), status: try value("status"), endedAt: try value("ended_at"))
        case "cell":
            var client: ResourceFigures?
            if let user: Double = try optional("cpu_user_s") {
                client = ResourceFigures(
                    cpuUserSeconds: user, cpuSysSeconds: try optional("cpu_sys_s") ?? 0,
                    peakRSSBytes: try optional("peak_rss_bytes") ?? 0,
                    voluntarySwitches: try optional("ctx_voluntary") ?? 0,
                    involuntarySwitches: try optional("ctx_involuntary") ?? 0)
            }
            var server: ServerFigures?
            if let requests: Int64 = try optional("server_requests") {
                server = ServerFigures(
                    requests: requests, connections: try optional("server_connections") ?? 0,
                    serviceMeanNs: try optional("server_service_mean_ns") ?? 0,
                    serviceP99Ns: try optional("server_service_p99_ns") ?? 0,
                    cpuUserSeconds: try optional("server_cpu_user_s"), cpuSysSeconds: try optional("server_cpu_sys_s"),
                    peakRSSBytes: try optional("server_peak_rss_bytes"),
                    countersJSON: try optional("server_counters") ?? "{}")
            }
            var machine: MachineFigures?
            if let total: Double = try optional("machine_total_s") {
                machine = MachineFigures(
                    totalSeconds: total, busySeconds: try optional("machine_busy_s") ?? 0,
                    stealSeconds: try optional("machine_steal_s") ?? 0)
            }
            var reference: ReferenceFigures?
            if let rps: Double = try optional("reference_rps") {
                reference = ReferenceFigures(
                    requests: try optional("reference_requests") ?? 0, requestsPerSecond: rps,
                    p50Ns: try optional("reference_p50_ns") ?? .nan, p99Ns: try optional("reference_p99_ns") ?? .nan,
                    errors: try optional("reference_errors") ?? 0)
            }
            self = .cell(
                CellRecord(
                    id: try value("id"), cellKey: try value("cell_key"), runID: try value("run_id"),
                    experiment: try value("experiment"), engine: try value("engine"),
                    concurrency: try value("concurrency"), repetition: try value("repetition"),
                    params: try value("params"), seed: try value("seed"), status: try value("status"),
                    error: try optional("error"), plannedRequests: try value("planned_requests"),
                    warmupRequests: try value("warmup_requests"), startedAt: try value("started_at"),
                    elapsedNs: try value("elapsed_ns"), maxLatenessNs: try value("max_lateness_ns"), client: client,
                    server: server, serverSeed: try optional("server_seed"), machine: machine,
                    reference: reference))
        case "sample":
            let errorClass: String = try value("error_class")
            self = .sample(
                cellID: try value("cell_id"),
                AttemptSample(
                    requestID: try value("request_id"), attempt: try value("attempt"),
                    intendedNs: try value("intended_ns"), startNs: try value("start_ns"), endNs: try value("end_ns"),
                    status: try value("status"), errorClass: ErrorClass(rawValue: errorClass) ?? .other,
                    bytes: try value("bytes"), isFinal: try value("is_final"), isWarmup: try value("is_warmup")))
        case "event":
            self = .event(
                cellID: try value("cell_id"),
                EventRecord(
                    tNs: try value("t_ns"), kind: try value("kind"), value: try optional("value"),
                    detail: try optional("detail")))
        case "delete_unfinished_cells":
            self = .deleteUnfinishedCells
        default:
            throw DecodingError.dataCorruptedError(
                forKey: Key(stringValue: "type"), in: c,
                debugDescription: "unknown type \"\(type)\" (run, run_status, cell, sample, event, "
                    + "delete_unfinished_cells)")
        }
    }
}

/// Errors from writing or reading JSON Lines files. Each names the file and says how to fix it.
public struct JSONLError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case cannotOpen
        case writeFailed
        case closed
        case badLine
    }

    private let code: Code
    /// The full message shown to the user.
    public let description: String

    /// A short, bounded label for logs and tables.
    public var label: String {
        switch code {
        case .cannotOpen: "jsonl_cannot_open"
        case .writeFailed: "jsonl_write_failed"
        case .closed: "jsonl_closed"
        case .badLine: "jsonl_bad_line"
        }
    }

    static func cannotOpen(path: String, errno code: Int32) -> JSONLError {
        JSONLError(
            code: .cannotOpen,
            description: "\(path): cannot open the JSONL file (\(String(cString: strerror(code)))). "
                + "Check that the folder exists and is writable, or use another path.")
    }

    static func writeFailed(path: String, errno code: Int32) -> JSONLError {
        JSONLError(
            code: .writeFailed,
            description: "\(path): writing the JSONL file failed (\(String(cString: strerror(code)))). "
                + "Check free disk space and permissions.")
    }

    static func closed(path: String) -> JSONLError {
        JSONLError(
            code: .closed, description: "\(path): the JSONL writer is closed. Open a new JSONLWriter to write again.")
    }

    static func badLine(path: String, line: Int, reason: String) -> JSONLError {
        JSONLError(
            code: .badLine,
            description: "\(path):\(line): not a valid async-patterns JSONL record (\(reason)). "
                + "The file was not written by JSONLWriter, or was edited.")
    }
}
