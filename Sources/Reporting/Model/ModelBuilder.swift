import AsyncPatterns
import Histogram
import LabStore

/// Reads the store and aggregates it into a `ReportModel`.
enum ModelBuilder {
    /// Parameters that identify a repetition rather than a point of the grid.
    static let repetitionKeys: Set<String> = ["repetition", "seed", "rep"]

    static func build(store: LabStore, bootstrapResamples: Int) throws -> ReportModel {
        let runs = try store.runs()
        let cells = try store.cells(status: .complete)
        var byExperiment: [String: [CellRecord]] = [:]
        for cell in cells { byExperiment[cell.experiment, default: []].append(cell) }
        var experiments: [ExperimentModel] = []
        var usedSlugs: Set<String> = []
        var total = 0
        for name in byExperiment.keys.sorted() {
            let experimentRuns = runs.filter { $0.experiment == name }
            let contributing = Set(byExperiment[name]!.map(\.runID))
            let newest =
                experimentRuns.last { contributing.contains($0.id) } ?? experimentRuns.last
                ?? RunRecord(
                    experiment: name, status: .other("unknown"), startedAt: "", masterSeed: 0, specPath: "",
                    specText: "", specSHA256: "", commandLine: "", gitCommit: "unknown", gitDirty: false,
                    swiftVersion: "", os: "", kernel: "", cpuModel: "", cores: 0, memoryBytes: 0, target: "")
            var slug = slugify(name)
            var suffix = 2
            while usedSlugs.contains(slug) {
                slug = slugify(name) + "-\(suffix)"
                suffix += 1
            }
            usedSlugs.insert(slug)
            let model = try buildExperiment(
                name: name, slug: slug, run: newest, cells: byExperiment[name]!, store: store,
                resamples: bootstrapResamples)
            total += model.sampleCount
            experiments.append(model)
        }
        return ReportModel(experiments: experiments, runs: runs, sampleCount: total)
    }

    /// A folder name from a user-given experiment name: lower-case letters, digits, `.`, `_` and `-` only.
    static func slugify(_ name: String) -> String {
        var out = ""
        for scalar in name.lowercased().unicodeScalars {
            let alphanumeric = (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9")
            if alphanumeric {
                out.unicodeScalars.append(scalar)
            } else if (scalar == "." || scalar == "_"), let last = out.unicodeScalars.last,
                (last >= "a" && last <= "z") || (last >= "0" && last <= "9")
            {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty && !out.hasSuffix("-") {
                out += "-"
            }
        }
        while out.hasSuffix("-") || out.hasSuffix(".") || out.hasSuffix("_") { out.removeLast() }
        if out.count > 60 { out = String(out.prefix(60)) }
        return out.isEmpty ? "experiment" : out
    }

    /// Engines in the spec's order, then sync, threaded, async, then any other in name order; the simulation
    /// (`sim`) last, wherever the spec lists it.
    static func engineOrder(spec: [String], present: Set<String>) -> [String] {
        var order: [String] = []
        let sim = EngineName.sim.rawValue
        for engine in spec + [EngineName.sync, .threaded, .async].map(\.rawValue) + present.sorted()
        where present.contains(engine) && !order.contains(engine) && engine != sim {
            order.append(engine)
        }
        if present.contains(sim) { order.append(sim) }
        return order
    }

    static func pointKey(_ params: CellParameters, engine: String) -> String {
        engine + "|" + params.removing(repetitionKeys).canonicalJSON
    }

    private static func buildExperiment(
        name: String, slug: String, run: RunRecord, cells: [CellRecord], store: LabStore, resamples: Int
    ) throws -> ExperimentModel {
        let spec = ReportSpec(specText: run.specText, fallbackName: name)
        let referenceCells = cells.filter { $0.engine == ReferenceRatios.engine }
        let cells = cells.filter { $0.engine != ReferenceRatios.engine }
        // Samples are streamed later, one point at a time, so only one point's histograms are in memory at once.
        let stats = cells.map(CellStatistics.init(cell:))
        // Group repetitions into points.
        var groups: [String: [CellStatistics]] = [:]
        for cellStats in stats {
            groups[pointKey(cellStats.params, engine: cellStats.cell.engine), default: []].append(cellStats)
        }
        let engines = engineOrder(spec: spec.engines, present: Set(stats.map(\.cell.engine)))
        let varying = varyingAxes(spec: spec, groups: groups)

        struct Draft {
            var key: String
            var cells: [CellStatistics]
            var coordinates: [(name: String, value: JSONValue)]
        }
        var drafts: [Draft] = groups.map { key, group in
            let sorted = group.sorted { ($0.cell.repetition, $0.cell.cellKey) < ($1.cell.repetition, $1.cell.cellKey) }
            let first = sorted[0]
            let coordinates = varying.map { axis in (name: axis, value: value(of: axis, in: first)) }
            return Draft(key: key, cells: sorted, coordinates: coordinates)
        }
        let engineRank = Dictionary(uniqueKeysWithValues: engines.enumerated().map { ($1, $0) })
        drafts.sort { lhs, rhs in
            for (l, r) in zip(lhs.coordinates, rhs.coordinates) where l.name != "concurrency" && l.value != r.value {
                return JSONValue.precedes(l.value, r.value)
            }
            let le = engineRank[lhs.cells[0].cell.engine] ?? 0
            let re = engineRank[rhs.cells[0].cell.engine] ?? 0
            if le != re { return le < re }
            if lhs.cells[0].cell.concurrency != rhs.cells[0].cell.concurrency {
                return lhs.cells[0].cell.concurrency < rhs.cells[0].cell.concurrency
            }
            return lhs.key < rhs.key
        }
        var points: [PointSummary] = []
        var histograms: [LatencyHistogram] = []
        var events: [Int64: [EventRecord]] = [:]
        var samples = 0
        for index in drafts.indices {
            for cellIndex in drafts[index].cells.indices {
                try drafts[index].cells[cellIndex].load(from: store)
                samples += drafts[index].cells[cellIndex].samplesRead
                let id = drafts[index].cells[cellIndex].cell.id
                let cellEvents = try store.events(cellID: id)
                if !cellEvents.isEmpty { events[id] = cellEvents }
            }
            let (point, histogram) = summarize(
                drafts[index].cells, coordinates: drafts[index].coordinates, events: events)
            points.append(point)
            histograms.append(histogram)
            for cellIndex in drafts[index].cells.indices { drafts[index].cells[cellIndex].releaseHistograms() }
        }
        addSpeedups(to: &points, resamples: resamples)
        return ExperimentModel(
            name: name, slug: slug, spec: spec, run: run, runIDs: Array(Set(cells.map(\.runID))).sorted(),
            engines: engines, varyingAxes: varying, points: points, cellCount: cells.count, sampleCount: samples,
            histograms: histograms, cells: drafts.map(\.cells), events: events, referenceCells: referenceCells)
    }

    /// The cell's value on `axis`: the stored parameter; else the default of a parameter that cells store only away
    /// from its default (`networkMs`); else the cell's concurrency for `concurrency`; else null.
    static func value(of axis: String, in cell: CellStatistics) -> JSONValue {
        if let value = cell.params[key: axis] { return JSONValue(value) }
        if let name = ParameterName(rawValue: axis), !name.isStoredAtDefault { return JSONValue(name.defaultValue) }
        if axis == "concurrency" { return .number(Double(cell.cell.concurrency)) }
        return .null
    }

    /// The spec's axes whose values differ between points, then any other parameter that differs, by name.
    static func varyingAxes(spec: ReportSpec, groups: [String: [CellStatistics]]) -> [String] {
        let representatives = groups.keys.sorted().map { groups[$0]![0] }
        func varies(_ axis: String) -> Bool {
            Set(representatives.map { value(of: axis, in: $0).canonical }).count > 1
        }
        var axes: [String] = []
        for axis in spec.axes.map(\.name) where axis != "engine" && axis != "engines" && !axes.contains(axis) {
            if varies(axis) || axis == "concurrency" { axes.append(axis) }
        }
        var others: Set<String> = []
        for cell in representatives {
            for key in cell.params.keys where !repetitionKeys.contains(key) && key != "engine" {
                others.insert(key)
            }
        }
        for axis in others.sorted() where !axes.contains(axis) && varies(axis) { axes.append(axis) }
        if !axes.contains("concurrency") { axes.insert("concurrency", at: 0) }
        return axes
    }

    static func seed(for keys: [String], salt: String) -> UInt64 {
        StableHash.hash(keys.sorted().joined(separator: ","), seed: StableHash.hash(salt))
    }

    static func percentiles(_ histogram: LatencyHistogram) -> LatencyPercentiles {
        guard histogram.totalCount > 0 else {
            return LatencyPercentiles(p50: .nan, p90: .nan, p99: .nan, p999: .nan, max: .nan, mean: .nan)
        }
        let (values, mean) = histogram.summary(atPercentiles: [50, 90, 99, 99.9])
        return LatencyPercentiles(
            p50: Double(values[0]), p90: Double(values[1]), p99: Double(values[2]), p999: Double(values[3]),
            max: Double(histogram.maxRecorded), mean: mean)
    }

    static func medianOf(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }.filter(\.isFinite)
        return present.isEmpty ? nil : Statistics.median(present)
    }

    static func summarize(
        _ cells: [CellStatistics], coordinates: [(name: String, value: JSONValue)], events: [Int64: [EventRecord]]
    ) -> (PointSummary, LatencyHistogram) {
        let keys = cells.map(\.cell.cellKey).sorted()
        var pooled = LatencyHistogram.latency()
        var attemptPooled = LatencyHistogram.latency()
        var uncorrectedPooled = LatencyHistogram.latency()
        var classes: [String: Int] = [:]
        for cell in cells {
            pooled.add(cell.latency)
            attemptPooled.add(cell.attemptLatency)
            uncorrectedPooled.add(cell.uncorrectedLatency)
            for (label, count) in cell.finalClasses { classes[label, default: 0] += count }
        }
        let first = cells[0]
        // Efficiency against the Little's-law bound means something in a closed loop only: an open loop's
        // throughput is its offered rate, whatever the concurrency cap.
        let openLoop = PointSummary.isOpenLoop(first.params)
        let efficiencies = cells.map(\.efficiency)
        let efficiency: Estimate? =
            openLoop || efficiencies.contains { $0 == nil }
            ? nil
            : Statistics.medianInterval(efficiencies.map { $0! })
        let params = first.params.removing(repetitionKeys)
        var point = PointSummary(
            engine: first.cell.engine, concurrency: first.cell.concurrency, coordinates: coordinates, params: params,
            cellKeys: keys, repetitions: cells.count,
            throughput: Statistics.medianInterval(cells.map(\.throughput)),
            goodput: Statistics.medianInterval(cells.map(\.goodput)),
            latency: percentiles(pooled), uncorrectedLatency: percentiles(uncorrectedPooled),
            attemptLatency: percentiles(attemptPooled),
            errorRate: Statistics.median(cells.map(\.errorRate)),
            attemptsPerRequest: Statistics.median(cells.map(\.attemptsPerRequest)),
            amplification: medianOf(cells.map(\.amplification)),
            serverRequests: medianOf(cells.map { $0.cell.server.map { Double($0.requests) } }),
            efficiency: efficiency, serviceMeanNs: medianOf(cells.map(\.serviceMeanNs)),
            cpuSeconds: medianOf(cells.map(\.cpuSeconds)), peakRSSBytes: medianOf(cells.map(\.peakRSSBytes)),
            spanSeconds: Statistics.median(cells.map(\.spanSeconds)),
            requests: Statistics.median(cells.map { Double($0.finals) }),
            finalClasses: classes.keys.sorted().map { ($0, classes[$0]!) }, speedup: nil,
            metrics: metricEstimates(cells, events: events))
        // With samples dropped by the recording pipeline, server calls per stored request measure the drops, not
        // amplification.
        if (point.metrics["samples_dropped"]?.high ?? 0) > 0 {
            point.amplification = nil
        }
        return (point, pooled)
    }

    /// Every catalogue metric that each repetition gives, with its median interval like throughput.
    static func metricEstimates(_ cells: [CellStatistics], events: [Int64: [EventRecord]]) -> [String: Estimate] {
        var out: [String: Estimate] = [:]
        for metric in Metric.catalogue {
            let values = cells.map { metric.value($0, events[$0.cell.id] ?? []) }
            guard values.allSatisfy({ $0?.isFinite ?? false }) else { continue }
            out[metric.id] = Statistics.medianInterval(values.map { $0! })
        }
        return out
    }

    /// Compares every non-sync point with the sync point at the same settings: the same parameters apart from
    /// the engine, else the same apart from engine and concurrency (the sync engine is sequential), preferring
    /// concurrency 1.
    static func addSpeedups(to points: inout [PointSummary], resamples: Int) {
        func strip(_ params: CellParameters, dropping: Set<String>) -> String {
            params.removing(dropping).canonicalJSON
        }
        var exact: [String: Int] = [:]
        var loose: [String: Int] = [:]
        let sync = EngineName.sync.rawValue
        for (index, point) in points.enumerated() where point.engine == sync {
            exact[strip(point.params, dropping: ["engine"])] = index
            let key = strip(point.params, dropping: ["engine", "concurrency"])
            if let existing = loose[key] {
                let current = points[existing]
                if point.concurrency == 1 || (current.concurrency != 1 && point.concurrency < current.concurrency) {
                    loose[key] = index
                }
            } else {
                loose[key] = index
            }
        }
        // The simulation's throughput is in virtual time: no ratio against a live baseline.
        for index in points.indices where points[index].engine != sync && !points[index].isSimulated {
            let point = points[index]
            guard
                let baseIndex = exact[strip(point.params, dropping: ["engine"])]
                    ?? loose[strip(point.params, dropping: ["engine", "concurrency"])]
            else { continue }
            let base = points[baseIndex]
            let seed = StableHash.combine(
                seed(for: point.cellKeys, salt: "speedup"), seed(for: base.cellKeys, salt: "baseline"))
            let ratio = Statistics.bootstrapRatio(
                point.throughput.samples, base.throughput.samples, seed: seed, resamples: resamples)
            let p = Statistics.mannWhitneyP(point.throughput.samples, base.throughput.samples)
            points[index].speedup = Comparison(
                ratio: ratio, pValue: p,
                counts: [point.throughput.samples.count, base.throughput.samples.count],
                baselineConcurrency: base.concurrency, baselineThroughput: base.throughput.median)
        }
    }
}
