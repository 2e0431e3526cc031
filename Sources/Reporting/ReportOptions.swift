/// The output formats of the report.
public enum ReportFormat: String, Sendable, CaseIterable, Codable {
    /// `README.md` index, one Markdown page per experiment, and gnuplot charts.
    case markdown
    /// One `report.json` with every point's figures.
    case json
    /// One `report.csv` with a row per point.
    case csv
}

/// What to render, from where, to where.
public struct ReportOptions: Sendable {
    /// The lab database to read. Default `results/lab.sqlite`.
    public var databasePath: String
    /// The folder to write into, created when missing. Default `reports`.
    public var outputDirectory: String
    /// The output format. Default `.markdown`.
    public var format: ReportFormat
    /// The gnuplot executable: a name looked up in `searchPath`, or a path. Default `gnuplot`.
    public var gnuplot: String
    /// The `PATH` used to find gnuplot; nil means the process's own `PATH`. Default nil.
    public var searchPath: String?
    /// Whether to run gnuplot to render SVG and PNG files. Default true.
    public var renderCharts: Bool
    /// Bootstrap resamples per interval of a ratio of medians. Default 2000. (A median's own interval comes from
    /// order statistics and resamples nothing.)
    public var bootstrapResamples: Int
    /// How the pages name the database; nil means `databasePath`. Default nil.
    public var databaseLabel: String?
    /// How the pages and scripts name the output folder in re-render instructions; nil means
    /// `outputDirectory`. Default nil.
    public var outputLabel: String?

    /// Creates options; every argument has the default documented on its property.
    public init(
        databasePath: String = "results/lab.sqlite", outputDirectory: String = "reports",
        format: ReportFormat = .markdown, gnuplot: String = "gnuplot", searchPath: String? = nil,
        renderCharts: Bool = true, bootstrapResamples: Int = 2000, databaseLabel: String? = nil,
        outputLabel: String? = nil
    ) {
        self.databasePath = databasePath
        self.outputDirectory = outputDirectory
        self.format = format
        self.gnuplot = gnuplot
        self.searchPath = searchPath
        self.renderCharts = renderCharts
        self.bootstrapResamples = bootstrapResamples
        self.databaseLabel = databaseLabel
        self.outputLabel = outputLabel
    }
}

/// What a render did.
public struct ReportSummary: Sendable {
    /// Files written, relative to the output folder, sorted.
    public var files: [String]
    /// Charts whose SVG and PNG were rendered, as `<experiment>/<chart>`.
    public var chartsRendered: [String]
    /// Charts written as `.gp` and `.dat` only, as `<experiment>/<chart>`.
    public var chartsNotRendered: [String]
    /// Whether gnuplot was missing (charts were then not rendered).
    public var gnuplotMissing: Bool
    /// Problems that did not stop the render, e.g. a gnuplot error; each names the file.
    public var warnings: [String]
    /// Experiments rendered, by name.
    public var experiments: [String]
    /// Samples read from the database.
    public var samplesRead: Int
}

/// The result of `report --check`.
public struct ReportCheckResult: Sendable {
    /// Files whose bytes differ from a fresh render, relative to the output folder.
    public var differing: [String]
    /// Files a fresh render writes that are missing from the output folder.
    public var missing: [String]
    /// Files in the output folder that a fresh render does not produce (stale).
    public var unexpected: [String]
    /// Whether the output folder matches the database.
    public var matches: Bool { differing.isEmpty && missing.isEmpty && unexpected.isEmpty }
}
