import AsyncPatterns
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

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
                if cell.status != .running {
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
                for (id, cell) in cells where cell.status == .running {
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
    case runStatus(id: Int64, status: RunStatus, endedAt: String)
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
