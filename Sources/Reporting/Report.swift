import Foundation
import LabStore

// The report stage: LabStore → ModelBuilder (streams samples per point into HdrHistograms, gives medians intervals
// from order statistics, bootstraps ratios, rank-tests speed-ups) → renderers (Markdown pages and index, JSON, CSV)
// and ChartPlanner → GnuplotScript → Gnuplot. Output is a pure function of the database: fixed number formats,
// stable ordering, seeded resampling, and no clock except the times the runner recorded.
//
// Chart paths: every script computes its own folder from gnuplot's ARG0 (the script path it was given) and names
// its data and image files relative to that, so `gnuplot reports/<exp>/<chart>.gp` works from the repository root,
// from inside the folder, or from anywhere else, and `report --check` can render into a temporary folder and get
// the same bytes.

/// Renders the report from the lab database into `options.outputDirectory`.
/// - Returns: what was written, which charts were rendered, and warnings.
/// - Throws: `ReportError` (missing or empty database, unwritable folder, bad option) or `StoreError`
///   (a corrupt, foreign or newer database).
public func renderReport(_ options: ReportOptions) throws -> ReportSummary {
    try ReportRenderer(options: options).render(into: options.outputDirectory)
}

/// Re-renders into a temporary folder and compares it with `options.outputDirectory`, byte for byte for
/// every text file (Markdown, gnuplot scripts, data, JSON, CSV). Rendered images are checked for presence only
/// and gnuplot is not run: images derive from the scripts and data and vary with the gnuplot version, so a
/// checked-in report checks the same on machines with and without gnuplot.
/// - Throws: as `renderReport`.
public func checkReport(_ options: ReportOptions) throws -> ReportCheckResult {
    let manager = FileManager.default
    let temporary = manager.temporaryDirectory.appendingPathComponent(
        "report-check-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0..<UInt64.max))")
    defer { try? manager.removeItem(at: temporary) }
    let summary = try ReportRenderer(options: options, checkAgainst: options.outputDirectory).render(
        into: temporary.path)
    var differing: [String] = []
    var missing: [String] = []
    for file in summary.files {
        let fresh = temporary.appendingPathComponent(file).path
        let existing = (options.outputDirectory as NSString).appendingPathComponent(file)
        guard manager.fileExists(atPath: existing) else {
            missing.append(file)
            continue
        }
        if file.hasSuffix(".svg") || file.hasSuffix(".png") { continue }
        if manager.contents(atPath: fresh) != manager.contents(atPath: existing) { differing.append(file) }
    }
    // Stale chart files in the experiment folders this render owns.
    let produced = Set(summary.files)
    var unexpected: [String] = []
    let folders = Set(summary.files.compactMap { $0.contains("/") ? String($0.split(separator: "/")[0]) : nil })
    for folder in folders.sorted() {
        let path = (options.outputDirectory as NSString).appendingPathComponent(folder)
        for name in (try? manager.contentsOfDirectory(atPath: path))?.sorted() ?? []
        where ReportRenderer.ownedExtensions.contains((name as NSString).pathExtension)
            && !produced.contains(folder + "/" + name)
        {
            unexpected.append(folder + "/" + name)
        }
    }
    if options.format == .markdown {
        unexpected += ReportRenderer.staleExperimentFolders(in: options.outputDirectory, current: folders)
            .map { $0 + "/" }
    }
    return ReportCheckResult(differing: differing, missing: missing, unexpected: unexpected)
}

/// Does one render: reads the database, builds the model, writes the files and runs gnuplot.
struct ReportRenderer {
    /// Extensions of the files the report owns inside an experiment folder (stale ones are removed).
    static let ownedExtensions: Set<String> = ["md", "gp", "dat", "svg", "png", "csv"]

    let options: ReportOptions
    /// When checking: the folder being checked, whose images stand in for running gnuplot.
    var checkAgainst: String? = nil

    /// Subfolders of `directory` that an earlier render wrote (they hold a generated gnuplot script) but that
    /// are not among the `current` experiment folders.
    static func staleExperimentFolders(in directory: String, current: Set<String>) -> [String] {
        let manager = FileManager.default
        var stale: [String] = []
        for name in ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).sorted() where !current.contains(name)
        {
            let folder = (directory as NSString).appendingPathComponent(name)
            let files = (try? manager.contentsOfDirectory(atPath: folder)) ?? []
            let generated = files.contains { file in
                guard file.hasSuffix(".gp"),
                    let text = manager.contents(atPath: (folder as NSString).appendingPathComponent(file))
                else { return false }
                return String(decoding: text.prefix(400), as: UTF8.self).contains("# Generated by `swift run report`")
            }
            if generated { stale.append(name) }
        }
        return stale
    }

    func render(into directory: String) throws -> ReportSummary {
        guard options.bootstrapResamples >= 0 else {
            throw ReportError.badOption(
                "bootstrapResamples", value: "\(options.bootstrapResamples)", allowed: "a count >= 0")
        }
        guard FileManager.default.fileExists(atPath: options.databasePath) else {
            throw ReportError.missingDatabase(options.databasePath)
        }
        let store = try LabStore.openForReading(path: options.databasePath)
        let model = try ModelBuilder.build(store: store, bootstrapResamples: options.bootstrapResamples)
        guard !model.experiments.isEmpty else { throw ReportError.emptyDatabase(options.databasePath) }
        var writer = FileWriter(root: directory)
        var summary = ReportSummary(
            files: [], chartsRendered: [], chartsNotRendered: [], gnuplotMissing: false, warnings: [],
            experiments: model.experiments.map(\.name), samplesRead: model.sampleCount)
        switch options.format {
        case .json:
            try writer.write("report.json", DataRenderers.json(model))
        case .csv:
            try writer.write("report.csv", DataRenderers.csv(model))
        case .markdown:
            try renderMarkdown(model, writer: &writer, summary: &summary)
        }
        summary.files = writer.written.sorted()
        return summary
    }

    private func renderMarkdown(_ model: ReportModel, writer: inout FileWriter, summary: inout ReportSummary) throws {
        var charts: [String: [Chart]] = [:]
        var scripts: [(key: String, path: String)] = []
        for experiment in model.experiments {
            let planned = ChartPlanner.charts(for: experiment)
            charts[experiment.slug] = planned
            for chart in planned {
                let base = experiment.slug + "/" + chart.name
                try writer.write(base + ".dat", GnuplotScript.data(for: chart))
                let display = ((options.outputLabel ?? options.outputDirectory) as NSString).appendingPathComponent(
                    base + ".gp")
                try writer.write(base + ".gp", GnuplotScript.script(for: chart, displayPath: display))
                scripts.append((base, writer.absolutePath(base + ".gp")))
            }
        }
        var status: [String: ChartStatus] = [:]
        let gnuplot = options.renderCharts ? Gnuplot.locate(options.gnuplot, searchPath: options.searchPath) : nil
        let reason =
            options.renderCharts
            ? "gnuplot was not found (looked for `\(options.gnuplot)`); install it with "
                + "`\(Gnuplot.installCommand)`." : "chart rendering was turned off."
        if let existing = checkAgainst {
            // Checking: images derive from the scripts and data, so gnuplot is not run. A chart counts as rendered
            // when the checked folder has its image, or when gnuplot is here to render it.
            for script in scripts {
                let image = (existing as NSString).appendingPathComponent(script.key + ".svg")
                if gnuplot != nil || FileManager.default.fileExists(atPath: image) {
                    status[script.key] = .rendered
                    writer.record(script.key + ".svg")
                    writer.record(script.key + ".png")
                    summary.chartsRendered.append(script.key)
                } else {
                    status[script.key] = .notRendered(reason)
                    summary.chartsNotRendered.append(script.key)
                }
            }
        } else if let gnuplot {
            // Remove old images first, so a failed render never leaves a stale picture behind.
            for script in scripts {
                writer.remove(script.key + ".svg")
                writer.remove(script.key + ".png")
            }
            let failures = gnuplot.render(scripts: scripts.map(\.path))
            for script in scripts {
                if let failure = failures[script.path] {
                    status[script.key] = .notRendered("gnuplot failed on \(script.key).gp")
                    summary.warnings.append("\(script.path): \(failure)")
                    summary.chartsNotRendered.append(script.key)
                } else {
                    status[script.key] = .rendered
                    writer.recordExisting(script.key + ".svg")
                    writer.recordExisting(script.key + ".png")
                    summary.chartsRendered.append(script.key)
                }
            }
        } else {
            if options.renderCharts { summary.gnuplotMissing = true }
            for script in scripts {
                status[script.key] = .notRendered(reason)
                summary.chartsNotRendered.append(script.key)
                writer.remove(script.key + ".svg")
                writer.remove(script.key + ".png")
            }
        }
        let renderer = MarkdownRenderer(
            model: model, displayDirectory: options.outputLabel ?? options.outputDirectory,
            databasePath: options.databaseLabel ?? options.databasePath, resamples: options.bootstrapResamples)
        for experiment in model.experiments {
            try writer.write(experiment.slug + "/cells.csv", CellsCSV.render(experiment))
            if let ratios = ReferenceRatios.csv(experiment) {
                try writer.write(experiment.slug + "/" + ReferenceRatios.fileName, ratios)
            }
            try writer.write(
                experiment.slug + "/README.md",
                renderer.page(for: experiment, charts: charts[experiment.slug] ?? [], status: status))
        }
        try writer.write("README.md", renderer.index(charts: charts, status: status))
        let current = Set(model.experiments.map(\.slug))
        for folder in Self.staleExperimentFolders(in: writer.root, current: current) {
            summary.warnings.append(
                "\((options.outputDirectory as NSString).appendingPathComponent(folder))/: this experiment is no "
                    + "longer in the database; delete the folder if it is stale.")
        }
        // Remove stale files of earlier renders from the experiment folders.
        for experiment in model.experiments {
            writer.pruneFolder(experiment.slug, keeping: Self.ownedExtensions)
        }
    }
}

/// Writes files under a root folder and remembers what it wrote.
struct FileWriter {
    let root: String
    private(set) var written: Set<String> = []

    init(root: String) { self.root = root }

    func absolutePath(_ relative: String) -> String {
        let joined = (root as NSString).appendingPathComponent(relative)
        if joined.hasPrefix("/") { return joined }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(joined)
    }

    /// Writes `text` to `relative`, creating folders; only rewrites when the bytes change.
    mutating func write(_ relative: String, _ text: String) throws {
        let path = absolutePath(relative)
        let data = Data(text.utf8)
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if manager.contents(atPath: path) != data {
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            }
        } catch {
            throw ReportError.cannotWrite(path, reason: "\(error.localizedDescription)")
        }
        written.insert(relative)
    }

    /// Records a file as part of the render without writing it (an image a check expects).
    mutating func record(_ relative: String) {
        written.insert(relative)
    }

    /// Records a file that something else (gnuplot) wrote, when it exists.
    mutating func recordExisting(_ relative: String) {
        if FileManager.default.fileExists(atPath: absolutePath(relative)) { written.insert(relative) }
    }

    func remove(_ relative: String) {
        try? FileManager.default.removeItem(atPath: absolutePath(relative))
    }

    /// Deletes files with the given extensions in `folder` that this render did not write.
    func pruneFolder(_ folder: String, keeping extensions: Set<String>) {
        let path = absolutePath(folder)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        where extensions.contains((name as NSString).pathExtension) && !written.contains(folder + "/" + name) {
            try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(name))
        }
    }
}
