import ArgumentParser
import Foundation
import Reporting
import ReportingSynthetic

extension ReportFormat: ExpressibleByArgument {}

/// `report`: renders Markdown, JSON or CSV reports and gnuplot charts from the lab database.
@main
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render reports/ (Markdown tables, gnuplot charts) from the lab's SQLite database.",
        discussion: """
            Charts are written as <chart>.gp + <chart>.dat and rendered to .svg and .png with gnuplot; \
            re-render one with `gnuplot reports/<experiment>/<chart>.gp`. Without gnuplot the Markdown, \
            scripts and data are still written.
            """)

    @Option(name: .long, help: "The lab database to read.")
    var db = "results/lab.sqlite"

    @Option(name: .long, help: "The folder to write the report into.")
    var out = "reports"

    @Option(name: .long, help: "Output format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ReportFormat = .markdown

    @Option(name: .long, help: "The gnuplot executable (a name looked up in PATH, or a path).")
    var gnuplot = "gnuplot"

    @Flag(name: .long, help: "Do not run gnuplot; write .gp and .dat files only.")
    var noCharts = false

    @Flag(name: .long, help: "Re-render into a temporary folder and list the files that differ from --out.")
    var check = false

    @Option(
        name: .long,
        help: ArgumentHelp("Write a synthetic database of about N samples to --db, then exit.", visibility: .hidden))
    var synthesize: Int?

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Time a full render of --db (synthesized with 1M samples when missing) and print the perf figure as JSON.",
            visibility: .hidden))
    var benchmark = false

    func run() throws {
        let options = ReportOptions(
            databasePath: db, outputDirectory: out, format: format, gnuplot: gnuplot, renderCharts: !noCharts)
        if let synthesize {
            let written = try SyntheticLab.write(path: db, SyntheticLab.Configuration.sized(samples: synthesize))
            print("wrote \(written) samples to \(db)")
            return
        }
        if benchmark {
            let figure = try ReportBenchmark.run(options)
            print(figure.json)
            return
        }
        if check {
            let result = try checkReport(options)
            if result.matches {
                print("\(out): up to date with \(db).")
                return
            }
            for file in result.differing { print("differs: \(out)/\(file)") }
            for file in result.missing { print("missing: \(out)/\(file)") }
            for file in result.unexpected { print("stale: \(out)/\(file)") }
            print(
                "\(out) does not match \(db); run `swift run report --db \(db) --out \(out) --format \(format.rawValue)` "
                    + "to update it.")
            throw ExitCode(1)
        }
        let summary = try renderReport(options)
        var line = "wrote \(summary.files.count) files to \(out)/ from \(db) "
        line += "(\(summary.experiments.count) experiments, \(summary.samplesRead) samples"
        if format == .markdown {
            line += ", \(summary.chartsRendered.count) charts rendered"
            if !summary.chartsNotRendered.isEmpty { line += ", \(summary.chartsNotRendered.count) not rendered" }
        }
        print(line + ")")
        for warning in summary.warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        if summary.gnuplotMissing {
            FileHandle.standardError.write(
                Data(
                    ("gnuplot not found: charts were written as .gp and .dat only. Install it with "
                        + "`sudo apt-get install -y gnuplot-nox`, then run the report again.\n").utf8))
        }
    }
}
