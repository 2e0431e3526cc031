/// One invocation of the runner, with its provenance.
public struct RunRecord: Sendable, Hashable, Codable {
    /// Row id; 0 before the run is stored.
    public var id: Int64 = 0
    /// The experiment's name.
    public var experiment: String
    /// `running`, `complete`, `interrupted`, `failed` or `abandoned`.
    public var status: RunStatus
    /// ISO 8601 UTC start time.
    public var startedAt: String
    /// ISO 8601 UTC end time, when ended.
    public var endedAt: String?
    /// The master seed every cell seed derives from.
    public var masterSeed: UInt64
    /// The spec file's path as given.
    public var specPath: String
    /// The spec file's full text.
    public var specText: String
    /// SHA-256 of the spec text, hex.
    public var specSHA256: String
    /// The command line, space-joined.
    public var commandLine: String
    /// The git commit of the working tree, or `unknown`.
    public var gitCommit: String
    /// Whether the working tree had uncommitted changes.
    public var gitDirty: Bool
    /// `swift --version`'s first line.
    public var swiftVersion: String
    /// The operating system's pretty name.
    public var os: String
    /// The kernel release.
    public var kernel: String
    /// The CPU model name.
    public var cpuModel: String
    /// Logical CPU count.
    public var cores: Int
    /// Physical memory, bytes.
    public var memoryBytes: Int64
    /// `mock` for the built-in mock server, otherwise the external target URL.
    public var target: String

    public init(
        id: Int64 = 0, experiment: String, status: RunStatus, startedAt: String, endedAt: String? = nil,
        masterSeed: UInt64, specPath: String, specText: String, specSHA256: String, commandLine: String,
        gitCommit: String, gitDirty: Bool, swiftVersion: String, os: String, kernel: String, cpuModel: String,
        cores: Int, memoryBytes: Int64, target: String
    ) {
        self.id = id
        self.experiment = experiment
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.masterSeed = masterSeed
        self.specPath = specPath
        self.specText = specText
        self.specSHA256 = specSHA256
        self.commandLine = commandLine
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.swiftVersion = swiftVersion
        self.os = os
        self.kernel = kernel
        self.cpuModel = cpuModel
        self.cores = cores
        self.memoryBytes = memoryBytes
        self.target = target
    }
}

/// One cell of an experiment's grid: one engine, one point of the sweep, one repetition.
public struct CellRecord: Sendable, Hashable, Codable {
    /// Row id; 0 before the cell is stored.
    public var id: Int64 = 0
    /// Stable id: a hash of the canonical parameters and the repetition.
    public var cellKey: String
    /// The run that measured it.
    public var runID: Int64
    /// The experiment's name.
    public var experiment: String
    /// The engine's name (`sync`, `threaded`, `async`).
    public var engine: String
    /// Closed loop: workers. Open loop: the in-flight cap.
    public var concurrency: Int
    /// Repetition index, from 0.
    public var repetition: Int
    /// Canonical JSON object of every parameter of the cell.
    public var params: String
    /// The cell's seed (the client's stream: backoff jitter, arrivals), from the master seed, `params` and the
    /// repetition.
    public var seed: UInt64
    /// The server's stream (faults, latency draws), from the master seed, the server's and workload's parameters
    /// and the repetition only, so every engine and client-side treatment meets the same faults. Nil in cells
    /// written before schema version 2.
    public var serverSeed: UInt64?
    /// `running`, `complete` or `failed`.
    public var status: CellStatus
    /// Why the cell failed, when it did.
    public var error: String?
    /// Logical requests measured (excluding warm-up).
    public var plannedRequests: Int
    /// Logical warm-up requests.
    public var warmupRequests: Int
    /// ISO 8601 UTC start time.
    public var startedAt: String
    /// Wall time of the engine run, ns.
    public var elapsedNs: Int64 = 0
    /// Open loop: the largest lateness behind schedule, ns.
    public var maxLatenessNs: Int64 = 0
    /// Client resource use over the cell.
    public var client: ResourceFigures?
    /// What the server counted over the cell.
    public var server: ServerFigures?
    /// What the whole machine's CPUs did over the cell. Nil where /proc/stat is unreadable (not Linux) and in cells
    /// written before schema version 3.
    public var machine: MachineFigures?
    /// A reference cell's figures (engine `wrk`, which stores no samples); nil in every other cell and in cells
    /// written before schema version 4.
    public var reference: ReferenceFigures?

    public init(
        id: Int64 = 0, cellKey: String, runID: Int64, experiment: String, engine: String, concurrency: Int,
        repetition: Int, params: String, seed: UInt64, status: CellStatus, error: String? = nil,
        plannedRequests: Int, warmupRequests: Int, startedAt: String, elapsedNs: Int64 = 0,
        maxLatenessNs: Int64 = 0, client: ResourceFigures? = nil, server: ServerFigures? = nil,
        serverSeed: UInt64? = nil, machine: MachineFigures? = nil, reference: ReferenceFigures? = nil
    ) {
        self.reference = reference
        self.serverSeed = serverSeed
        self.machine = machine
        self.id = id
        self.cellKey = cellKey
        self.runID = runID
        self.experiment = experiment
        self.engine = engine
        self.concurrency = concurrency
        self.repetition = repetition
        self.params = params
        self.seed = seed
        self.status = status
        self.error = error
        self.plannedRequests = plannedRequests
        self.warmupRequests = warmupRequests
        self.startedAt = startedAt
        self.elapsedNs = elapsedNs
        self.maxLatenessNs = maxLatenessNs
        self.client = client
        self.server = server
    }
}

/// CPU, memory and scheduling figures of one process over a cell.
public struct ResourceFigures: Sendable, Hashable, Codable {
    /// User CPU, seconds.
    public var cpuUserSeconds: Double
    /// System CPU, seconds.
    public var cpuSysSeconds: Double
    /// Peak resident set size, bytes.
    public var peakRSSBytes: Int64
    /// Voluntary context switches.
    public var voluntarySwitches: Int64
    /// Involuntary context switches.
    public var involuntarySwitches: Int64

    public init(
        cpuUserSeconds: Double, cpuSysSeconds: Double, peakRSSBytes: Int64, voluntarySwitches: Int64,
        involuntarySwitches: Int64
    ) {
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSysSeconds = cpuSysSeconds
        self.peakRSSBytes = peakRSSBytes
        self.voluntarySwitches = voluntarySwitches
        self.involuntarySwitches = involuntarySwitches
    }
}

/// What the whole machine's CPUs did over one cell, from /proc/stat (all CPUs summed).
public struct MachineFigures: Sendable, Hashable, Codable {
    /// CPU seconds available: wall time × CPUs online.
    public var totalSeconds: Double
    /// CPU seconds busy (user, nice, system, irq, softirq, steal), every process included.
    public var busySeconds: Double
    /// CPU seconds stolen by the hypervisor.
    public var stealSeconds: Double

    public init(totalSeconds: Double, busySeconds: Double, stealSeconds: Double) {
        self.totalSeconds = totalSeconds
        self.busySeconds = busySeconds
        self.stealSeconds = stealSeconds
    }
}

/// What a reference load generator (wrk) reported over one cell, which it measured itself: it stores no samples.
public struct ReferenceFigures: Sendable, Hashable, Codable {
    /// Requests completed over the measured run.
    public var requests: Int64
    /// Requests per second over the measured run.
    public var requestsPerSecond: Double
    /// Median latency, ns.
    public var p50Ns: Double
    /// 99th-percentile latency, ns.
    public var p99Ns: Double
    /// Responses other than 2xx or 3xx, plus socket errors (connect, read, write, timeout).
    public var errors: Int64

    public init(requests: Int64, requestsPerSecond: Double, p50Ns: Double, p99Ns: Double, errors: Int64) {
        self.requests = requests
        self.requestsPerSecond = requestsPerSecond
        self.p50Ns = p50Ns
        self.p99Ns = p99Ns
        self.errors = errors
    }
}

/// What the mock server counted over one cell.
public struct ServerFigures: Sendable, Hashable, Codable {
    /// Requests served (admin requests excluded).
    public var requests: Int64
    /// Connections accepted.
    public var connections: Int64
    /// Mean service time, ns.
    public var serviceMeanNs: Double
    /// p99 service time, ns.
    public var serviceP99Ns: Double
    /// Server CPU user seconds, when it runs as its own process.
    public var cpuUserSeconds: Double?
    /// Server CPU system seconds, when it runs as its own process.
    public var cpuSysSeconds: Double?
    /// Server peak RSS bytes, when it runs as its own process.
    public var peakRSSBytes: Int64?
    /// The counters document verbatim (JSON).
    public var countersJSON: String

    public init(
        requests: Int64, connections: Int64, serviceMeanNs: Double, serviceP99Ns: Double,
        cpuUserSeconds: Double? = nil, cpuSysSeconds: Double? = nil, peakRSSBytes: Int64? = nil,
        countersJSON: String
    ) {
        self.requests = requests
        self.connections = connections
        self.serviceMeanNs = serviceMeanNs
        self.serviceP99Ns = serviceP99Ns
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSysSeconds = cpuSysSeconds
        self.peakRSSBytes = peakRSSBytes
        self.countersJSON = countersJSON
    }
}

/// A timestamped event of a cell: a breaker transition, a budget refusal, a lag or queue-depth sample.
public struct EventRecord: Sendable, Hashable, Codable {
    /// Nanoseconds since the cell started.
    public var tNs: Int64
    /// A short label: `breaker_transition`, `budget_exhausted`, `lag_ns`, `queue_depth`, `rss_bytes`, ...
    public var kind: EventKind
    /// A numeric value, when the event has one.
    public var value: Double?
    /// Free text, e.g. `closed->open: failure rate 0.62 >= 0.5`.
    public var detail: String?

    public init(tNs: Int64, kind: EventKind, value: Double? = nil, detail: String? = nil) {
        self.tNs = tNs
        self.kind = kind
        self.value = value
        self.detail = detail
    }
}
