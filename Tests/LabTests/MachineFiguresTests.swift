import Foundation
import Testing

@testable import Lab
@testable import LabStore

@Suite struct MachineFiguresTests {
    /// A /proc/stat of a two-CPU machine, trimmed: the aggregate line first, then one line per CPU.
    private let procStat = """
        cpu  1000 20 300 8000 40 5 15 60 0 0
        cpu0 500 10 150 4000 20 2 7 30 0 0
        cpu1 500 10 150 4000 20 3 8 30 0 0
        intr 123456 0 0
        ctxt 987654
        btime 1700000000
        """

    @Test func parsesTheAggregateCPULineNotAPerCPUOne() throws {
        let ticks = try #require(ProcessFigures.MachineTicks(procStat: procStat))
        #expect(
            ticks
                == ProcessFigures.MachineTicks(
                    user: 1000, nice: 20, system: 300, idle: 8000, iowait: 40, irq: 5, softirq: 15, steal: 60))
        // user + nice + system + irq + softirq + steal; idle and iowait are not busy.
        #expect(ticks.busy == 1000 + 20 + 300 + 5 + 15 + 60)
    }

    @Test func aLineWithFewerFieldsReadsTheMissingOnesAsZero() throws {
        // Kernels before 2.6.11 print no steal; before 2.5.41 only user, nice, system and idle.
        let seven = try #require(ProcessFigures.MachineTicks(procStat: "cpu 1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\n"))
        #expect(seven.steal == 0 && seven.softirq == 7 && seven.busy == 1 + 2 + 3 + 6 + 7)
        let four = try #require(ProcessFigures.MachineTicks(procStat: "cpu\t10 20 30 40"))
        #expect(
            four
                == ProcessFigures.MachineTicks(
                    user: 10, nice: 20, system: 30, idle: 40, iowait: 0, irq: 0,
                    softirq: 0, steal: 0))
    }

    @Test(arguments: ["", "cpu0 1 2 3 4 5 6 7 8\n", "cpu 1 2 3\n", "cpu 1 2 x 4 5 6 7 8\n", "intr 1 2 3 4\n"])
    func aTextWithoutAUsableAggregateLineIsRefused(text: String) {
        #expect(ProcessFigures.MachineTicks(procStat: text) == nil)
    }

    @Test func twoSnapshotsGiveTheSecondsOfTheCellBetweenThem() throws {
        let start = ContinuousClock.now
        let before = ProcessFigures.MachineSnapshot(
            ticks: try #require(ProcessFigures.MachineTicks(procStat: procStat)), instant: start)
        var later = before.ticks
        later.user += 150
        later.idle += 230
        later.steal += 20
        let after = ProcessFigures.MachineSnapshot(ticks: later, instant: start.advanced(by: .milliseconds(2_000)))
        let figures = after.since(before, cpus: 2, ticksPerSecond: 100)
        #expect(figures == MachineFigures(totalSeconds: 4, busySeconds: 1.7, stealSeconds: 0.2))
    }

    @Test func thisMachinesProcStatIsReadWhereThereIsOne() throws {
        guard FileManager.default.fileExists(atPath: "/proc/stat") else {
            #expect(ProcessFigures.machineSnapshot() == nil)
            return
        }
        let before = try #require(ProcessFigures.machineSnapshot())
        let after = try #require(ProcessFigures.machineSnapshot())
        let figures = after.since(before)
        #expect(figures.totalSeconds >= 0 && figures.busySeconds >= 0 && figures.stealSeconds >= 0)
        #expect(ProcessFigures.machineSnapshot(procStat: "/nonexistent/stat") == nil)
    }

    // MARK: Store

    private func run() -> RunRecord {
        RunRecord(
            experiment: "demo", status: .running, startedAt: "2026-01-01T00:00:00Z", masterSeed: 1,
            specPath: "demo.json", specText: "{}", specSHA256: "00", commandLine: "experiments run", gitCommit: "abc",
            gitDirty: false, swiftVersion: "6", os: "Linux", kernel: "6", cpuModel: "cpu", cores: 2, memoryBytes: 1,
            target: "mock")
    }

    private func cell(runID: Int64, key: String, machine: MachineFigures?) -> CellRecord {
        CellRecord(
            cellKey: key, runID: runID, experiment: "demo", engine: "async", concurrency: 4, repetition: 0,
            params: "{}", seed: 7, status: .complete, plannedRequests: 10, warmupRequests: 0,
            startedAt: "2026-01-01T00:00:00Z", elapsedNs: 2_000_000_000,
            client: ResourceFigures(
                cpuUserSeconds: 0.5, cpuSysSeconds: 0.25, peakRSSBytes: 1, voluntarySwitches: 2,
                involuntarySwitches: 3),
            serverSeed: 9, machine: machine)
    }

    @Test func machineFiguresRoundTripThroughTheStoreAndJSONLines() throws {
        let folder = try temporaryFolder()
        let path = folder + "/lab.sqlite"
        let jsonlPath = folder + "/lab.jsonl"
        let figures = MachineFigures(totalSeconds: 4, busySeconds: 1.75, stealSeconds: 0.125)
        do {
            let store = try LabStore.openForWriting(path: path)
            let jsonl = try JSONLWriter(path: jsonlPath)
            let runID = try store.insertRun(run())
            for (key, machine) in [("with", Optional(figures)), ("without", nil)] {
                var record = cell(runID: runID, key: key, machine: machine)
                record.id = try store.insertCell(record)
                try store.completeCell(record)
                try jsonl.writeCell(record)
            }
            try jsonl.close()
        }
        let cells = try LabStore.openForReading(path: path).cells()
        #expect(cells.first { $0.cellKey == "with" }?.machine == figures)
        #expect(cells.first { $0.cellKey == "without" }.map { $0.machine == nil } == true)
        let lines = try JSONLReader.read(path: jsonlPath).cells
        #expect(lines.first { $0.cellKey == "with" }?.machine == figures)
        #expect(lines.first { $0.cellKey == "without" }.map { $0.machine == nil } == true)

        // The view shows them, with other processes' CPU: busy − steal − client (0.75) − server (none).
        let row = try LabStore.openForReading(path: path).database.query(
            "SELECT machine_total_s, machine_steal_s, other_cpu_s FROM v_cells WHERE cell_id = ?",
            [.integer(try #require(cells.first { $0.cellKey == "with" }).id)]
        ).first
        #expect(row?["machine_total_s"].double == 4)
        #expect(row?["machine_steal_s"].double == 0.125)
        #expect(row?["other_cpu_s"].double == 0.875)
    }

    // MARK: Migration

    /// The report's fixture, written by schema version 1.
    private let version1 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ReportingTests/Fixtures/lab.db").path

    private func version(of path: String) throws -> Int64? {
        try LabStore.openForReading(path: path).database.query("SELECT max(version) AS v FROM schema_version")
            .first?["v"].int
    }

    @Test func aVersion1DatabaseMigratesToTheCurrentSchemaWithoutMachineFigures() throws {
        let copy = try temporaryFolder() + "/v1.sqlite"
        try FileManager.default.copyItem(atPath: version1, toPath: copy)
        let keys = try LabStore.openForReading(path: copy).cells().map(\.cellKey)
        #expect(try version(of: copy) == 1)
        do { _ = try LabStore.openForWriting(path: copy) }
        #expect(try version(of: copy) == Int64(Schema.current))
        #expect(Schema.current == 4)
        let cells = try LabStore.openForReading(path: copy).cells()
        #expect(cells.map(\.cellKey) == keys && !keys.isEmpty)
        #expect(cells.allSatisfy { $0.machine == nil && $0.serverSeed == nil })
    }

    /// A database written by schema version 2 (migrations 1 and 2, exactly as that build applied them), with one
    /// complete cell.
    private func makeVersion2Database(at path: String) throws {
        let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        try database.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for migration in Schema.migrations.prefix(2) { try database.execute(migration) }
        try database.execute("INSERT INTO schema_version (version) VALUES (2)")
        try database.execute(
            """
            INSERT INTO runs (id, experiment, status, started_at, master_seed, spec_path, spec_text, spec_sha256,
                command_line, git_commit, git_dirty, swift_version, os, kernel, cpu_model, cores, memory_bytes, target)
            VALUES (1, 'demo', 'complete', 't', 1, 'demo.json', '{}', '00', 'run', 'abc', 0, '6', 'Linux', '6', 'cpu',
                2, 1, 'mock');
            INSERT INTO cells (id, cell_key, run_id, experiment, engine, concurrency, repetition, params, seed, status,
                planned_requests, warmup_requests, started_at, elapsed_ns, cpu_user_s, cpu_sys_s, server_seed)
            VALUES (1, 'v2cell', 1, 'demo', 'async', 4, 0, '{}', 7, 'complete', 1, 0, 't', 1000, 0.5, 0.25, 99);
            INSERT INTO samples VALUES (1, 0, 1, 0, 0, 10, 200, 'ok', 2, 1, 0);
            """)
    }

    @Test func aVersion2DatabaseMergesAndMigratesWithoutMachineFigures() throws {
        let folder = try temporaryFolder()
        let old = folder + "/v2.sqlite"
        try makeVersion2Database(at: old)
        #expect(try version(of: old) == 2)

        // Merged as it is into a current database.
        let merged = folder + "/merged.sqlite"
        #expect(try LabStore.openForWriting(path: merged).merge(from: old) == 1)
        let mergedCell = try #require(try LabStore.openForReading(path: merged).cells().first)
        #expect(mergedCell.cellKey == "v2cell" && mergedCell.serverSeed == 99 && mergedCell.machine == nil)

        // Migrated in place: the cell keeps its figures and gains empty machine columns that a new cell fills.
        let figures = MachineFigures(totalSeconds: 2, busySeconds: 1, stealSeconds: 0)
        do {
            let store = try LabStore.openForWriting(path: old)
            var record = cell(runID: 1, key: "v3cell", machine: figures)
            record.id = try store.insertCell(record)
            try store.completeCell(record)
        }
        #expect(try version(of: old) == Int64(Schema.current))
        let cells = try LabStore.openForReading(path: old).cells()
        let v2 = try #require(cells.first { $0.cellKey == "v2cell" })
        #expect(v2.machine == nil && v2.serverSeed == 99 && v2.client?.cpuUserSeconds == 0.5)
        #expect(cells.first { $0.cellKey == "v3cell" }?.machine == figures)
    }

    // MARK: The busy-machine warning

    private func judged(_ machine: MachineFigures?, client: Double = 0.5, server: Double? = nil) -> CellRecord {
        var record = cell(runID: 1, key: "k", machine: machine)
        record.client = ResourceFigures(
            cpuUserSeconds: client, cpuSysSeconds: 0, peakRSSBytes: 0, voluntarySwitches: 0, involuntarySwitches: 0)
        if let server {
            record.server = ServerFigures(
                requests: 1, connections: 1, serviceMeanNs: 0, serviceP99Ns: 0, cpuUserSeconds: server,
                cpuSysSeconds: 0, countersJSON: "{}")
        }
        return record
    }

    @Test func aQuietMachineGivesNoWarning() {
        var check = BusyMachineCheck()
        // 10 CPU s available; the client and the server account for all but 0.5 s (5%); steal 2%.
        check.record(
            judged(.init(totalSeconds: 10, busySeconds: 4.5, stealSeconds: 0.2), client: 2, server: 2), label: "a")
        check.record(judged(nil), label: "no figures")
        #expect(check.judged == 1 && check.busy == 0)
        #expect(check.warning(target: false) == nil)
    }

    @Test func stealOrOtherProcessesOverTheirLimitsWarnWithTheCountAndTheWorstFigures() throws {
        var check = BusyMachineCheck()
        check.record(judged(.init(totalSeconds: 10, busySeconds: 2, stealSeconds: 0.7), client: 1.3), label: "steal 7%")
        check.record(judged(.init(totalSeconds: 10, busySeconds: 2, stealSeconds: 0.6), client: 1.4), label: "steal 6%")
        // Other processes: 5 − 1 − 1.5 = 2.5 of 10.
        check.record(
            judged(.init(totalSeconds: 10, busySeconds: 5, stealSeconds: 0), client: 1, server: 1.5), label: "other")
        check.record(judged(.init(totalSeconds: 10, busySeconds: 1, stealSeconds: 0), client: 1), label: "quiet")
        // Too short to judge: one 10 ms tick would be 2% of it.
        check.record(judged(.init(totalSeconds: 0.5, busySeconds: 0.5, stealSeconds: 0.5), client: 0), label: "short")
        #expect(check.judged == 4 && check.busy == 3)
        let warning = try #require(check.warning(target: false))
        #expect(warning.contains("busy during 3 of 4 cells"))
        #expect(warning.contains("CPU steal 7.0% in `steal 7%`"))
        #expect(warning.contains("other processes 25.0% in `other`"))
        #expect(!warning.contains("\n") && !warning.contains("--target"))
        #expect(try #require(check.warning(target: true)).contains("--target"))
    }

    @Test func aProcessCPUReadingSplitsTheClocksTotalInTheTicksRatio() {
        let start = ProcessFigures.CPUReading(totalNs: 1_000_000_000, userTicks: 70, sysTicks: 20)
        let end = ProcessFigures.CPUReading(totalNs: 1_043_210_000, userTicks: 73, sysTicks: 21)
        let spent = end.spent(since: start)
        // 43.21 ms, not the 40 ms the four ticks alone would say; three parts user, one part system.
        #expect(abs(spent.user - 0.0324075) < 1e-9 && abs(spent.sys - 0.0108025) < 1e-9)
        // No tick fell in between: the whole total is user time, as the kernel counts it.
        let tickless = ProcessFigures.CPUReading(totalNs: 1_004_000_000, userTicks: 70, sysTicks: 20)
        #expect(tickless.spent(since: start) == (0.004, 0))
    }

    @Test func aProcessCPUReadingResolvesLessThanATick() throws {
        let pid = getpid()
        let before = try #require(ProcessFigures.cpuReading(pid: pid))
        // Burn 3 ms of this thread's CPU: far under one 10 ms tick, which /proc's utime and stime would round to
        // 0 or 10 ms.
        var thread = timespec()
        func threadNs() -> Int64 {
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &thread)
            return Int64(thread.tv_sec) * 1_000_000_000 + Int64(thread.tv_nsec)
        }
        let start = threadNs()
        var spin: UInt64 = 0
        while threadNs() - start < 3_000_000 { spin &+= 1 }
        let after = try #require(ProcessFigures.cpuReading(pid: pid))
        let spent = after.totalNs - before.totalNs
        #expect(spin > 0 && spent >= 3_000_000)
        #expect(spent % 10_000_000 != 0, "a total in whole ticks: \(spent) ns")
        let (user, sys) = after.spent(since: before)
        #expect(abs(user + sys - Double(spent) / 1e9) < 1e-9)
    }
}
