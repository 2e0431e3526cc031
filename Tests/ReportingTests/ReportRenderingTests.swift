import Foundation
import LabStore
import ReportingSynthetic
import Testing

@testable import Reporting

@Suite("Report rendering", .serialized)
struct ReportRenderingTests {
    /// The committed fixture renders to the committed Markdown, scripts and data, byte for byte.
    /// To update the expected files after an intended change, run `UPDATE_GOLDEN=1 swift test --filter golden`:
    /// that run writes the fresh files into `Fixtures/expected` and fails ("golden files updated"), so it can never
    /// pass by rewriting its own expectations; review the diff, then run the test again without `UPDATE_GOLDEN`.
    @Test(.timeLimit(.minutes(1)))
    func golden() throws {
        let database = try TestSupport.fixtureDatabase
        let out = try TestSupport.temporaryFolder("golden")
        defer { TestSupport.cleanUp(out) }
        let summary = try renderReport(
            ReportOptions(
                databasePath: database, outputDirectory: out.path, renderCharts: false,
                databaseLabel: "results/lab.sqlite", outputLabel: "reports"))
        #expect(summary.experiments == ["retries", "throughput"])
        let expected = TestSupport.fixtures.appendingPathComponent("expected")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: expected)
            try FileManager.default.copyItem(at: out, to: expected)
            Issue.record("golden files updated; re-run without UPDATE_GOLDEN")
            return
        }
        #expect(TestSupport.files(under: out) == TestSupport.files(under: expected))
        for file in TestSupport.files(under: expected) {
            let fresh = TestSupport.read(out.appendingPathComponent(file))
            let golden = TestSupport.read(expected.appendingPathComponent(file))
            #expect(
                fresh == golden,
                "\(file) differs from the golden copy; if intended, run UPDATE_GOLDEN=1 swift test --filter golden")
        }
        let index = TestSupport.read(out.appendingPathComponent("README.md"))
        // Without an `answer` in the spec, the headline compares engines by throughput.
        #expect(index.contains("| [throughput](throughput/README.md) | throughput (req/s) |"))
    }

    @Test(.timeLimit(.minutes(1)))
    func rerenderingGivesIdenticalBytes() throws {
        let scratch = try TestSupport.temporaryFolder("rerender")
        defer { TestSupport.cleanUp(scratch) }
        let database = try TestSupport.smallDatabase(in: scratch)
        let first = try TestSupport.temporaryFolder("first")
        let second = try TestSupport.temporaryFolder("second")
        defer {
            TestSupport.cleanUp(first)
            TestSupport.cleanUp(second)
        }
        for format in ReportFormat.allCases {
            for folder in [first, second] {
                _ = try renderReport(
                    ReportOptions(
                        databasePath: database, outputDirectory: folder.path, format: format, renderCharts: false,
                        bootstrapResamples: 400,
                        outputLabel: "r"))
            }
        }
        let files = TestSupport.files(under: first)
        #expect(files == TestSupport.files(under: second))
        #expect(files.contains("report.json") && files.contains("report.csv"))
        for file in files where !file.hasSuffix(".png") && !file.hasSuffix(".svg") {
            let a = FileManager.default.contents(atPath: first.appendingPathComponent(file).path)
            let b = FileManager.default.contents(atPath: second.appendingPathComponent(file).path)
            #expect(a == b, "\(file) differs between two renders")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: first.appendingPathComponent("report.json")))
        #expect((json as? [String: Any])?["experiments"] as? [Any] != nil)
        let csv = TestSupport.read(first.appendingPathComponent("report.csv")).split(separator: "\n")
        #expect(csv.count == 1 + 5 + 8)  // header, throughput: 5 points, retries: 8 points
    }

    @Test(.timeLimit(.minutes(1)))
    func missingGnuplotStillWritesScriptsAndSaysHowToInstall() throws {
        let database = try TestSupport.fixtureDatabase
        let out = try TestSupport.temporaryFolder("nognuplot")
        defer { TestSupport.cleanUp(out) }
        let summary = try renderReport(
            ReportOptions(databasePath: database, outputDirectory: out.path, searchPath: "/nonexistent-bin"))
        #expect(summary.gnuplotMissing)
        #expect(summary.chartsRendered.isEmpty)
        #expect(!summary.chartsNotRendered.isEmpty)
        let files = TestSupport.files(under: out)
        #expect(files.contains("throughput/throughput.gp") && files.contains("throughput/throughput.dat"))
        #expect(!files.contains { $0.hasSuffix(".svg") || $0.hasSuffix(".png") })
        let page = TestSupport.read(out.appendingPathComponent("throughput/README.md"))
        #expect(page.contains("Chart not rendered"))
        #expect(page.contains("apt-get install -y gnuplot-nox"))
    }

    /// gnuplot renders every chart as SVG and PNG, and a script re-renders from any working directory. Needs
    /// gnuplot (fails without it).
    @Test(.timeLimit(.minutes(1)))
    func chartsRenderAsSVGAndPNG() throws {
        try TestSupport.requireGnuplot()
        let database = try TestSupport.fixtureDatabase
        let out = try TestSupport.temporaryFolder("charts")
        defer { TestSupport.cleanUp(out) }
        let summary = try renderReport(ReportOptions(databasePath: database, outputDirectory: out.path))
        #expect(summary.warnings.isEmpty, "\(summary.warnings)")
        #expect(summary.chartsNotRendered.isEmpty)
        let svg = TestSupport.read(out.appendingPathComponent("throughput/throughput.svg"))
        #expect(svg.hasPrefix("<?xml") && svg.contains("</svg>"))
        #expect(svg.contains("async") && svg.contains("requests/s"))
        let png = FileManager.default.contents(atPath: out.appendingPathComponent("throughput/throughput.png").path)
        #expect((png?.count ?? 0) > 1000)
        // The script re-renders from any working directory: here, with a path relative to the output's parent.
        try FileManager.default.removeItem(at: out.appendingPathComponent("throughput/throughput.svg"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gnuplot", out.lastPathComponent + "/throughput/throughput.gp"]
        process.currentDirectoryURL = out.deletingLastPathComponent()
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("throughput/throughput.svg").path))
    }

    @Test(.timeLimit(.minutes(1)))
    func checkFindsDifferencesAndStaleFiles() throws {
        let out = try TestSupport.temporaryFolder("check")
        defer { TestSupport.cleanUp(out) }
        let database = try TestSupport.smallDatabase(in: out)
        let options = ReportOptions(
            databasePath: database, outputDirectory: out.path, renderCharts: false, bootstrapResamples: 400)
        _ = try renderReport(options)
        #expect(try checkReport(options).matches)
        let page = out.appendingPathComponent("throughput/README.md")
        try (TestSupport.read(page) + "edited\n").write(to: page, atomically: true, encoding: .utf8)
        try "old".write(to: out.appendingPathComponent("throughput/gone.dat"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: out.appendingPathComponent("throughput/throughput.gp"))
        let result = try checkReport(options)
        #expect(!result.matches)
        #expect(result.differing == ["throughput/README.md"])
        #expect(result.missing == ["throughput/throughput.gp"])
        #expect(result.unexpected == ["throughput/gone.dat"])
        // Rendering again repairs the folder and removes the stale file.
        _ = try renderReport(options)
        #expect(try checkReport(options).matches)
        // A folder of an experiment that is no longer in the database is reported, never deleted.
        let old = out.appendingPathComponent("old-experiment")
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: out.appendingPathComponent("throughput/throughput.gp"), to: old.appendingPathComponent("throughput.gp"))
        #expect(try checkReport(options).unexpected == ["old-experiment/"])
        let summary = try renderReport(options)
        #expect(summary.warnings.contains { $0.contains("old-experiment") })
        #expect(FileManager.default.fileExists(atPath: old.appendingPathComponent("throughput.gp").path))
    }

    /// A report rendered with gnuplot checks clean on a machine without it; one rendered without gnuplot does not
    /// match where gnuplot is available (its charts would be rendered). Needs gnuplot (fails without it).
    @Test(.timeLimit(.minutes(1)))
    func checkDoesNotNeedGnuplot() throws {
        try TestSupport.requireGnuplot()
        let out = try TestSupport.temporaryFolder("check-gnuplot")
        defer { TestSupport.cleanUp(out) }
        let database = try TestSupport.smallDatabase(in: out)
        let withGnuplot = ReportOptions(databasePath: database, outputDirectory: out.path, bootstrapResamples: 200)
        var withoutGnuplot = withGnuplot
        withoutGnuplot.searchPath = "/nonexistent-bin"
        _ = try renderReport(withGnuplot)
        #expect(try checkReport(withoutGnuplot).matches)
        #expect(try checkReport(withGnuplot).matches)
        _ = try renderReport(withoutGnuplot)
        #expect(try checkReport(withoutGnuplot).matches)
        let result = try checkReport(withGnuplot)
        #expect(result.differing.contains("README.md"))
        #expect(result.missing.contains("throughput/throughput.svg"))
    }

    /// Each sweep axis brings its chart: latency vs offered load, server load vs budget, calls per backoff; gnuplot
    /// renders each. Needs gnuplot (fails without it).
    @Test(.timeLimit(.minutes(1)))
    func axesChooseTheirCharts() throws {
        try TestSupport.requireGnuplot()
        let folder = try TestSupport.temporaryFolder("axes")
        defer { TestSupport.cleanUp(folder) }
        let database = folder.appendingPathComponent("lab.sqlite").path
        let small = SyntheticLab.Configuration(
            engines: ["sync", "async"], concurrencies: [8], requests: 40, warmup: 4, repetitions: 1)
        var open = small
        open.name = "open-loop"
        open.rates = [50, 200, 400, 800]
        var budget = small
        budget.name = "budget"
        budget.errorRates = [0.3]
        budget.retries = ["exponential"]
        budget.budgets = [0, 0.1, 0.5]
        var backoff = budget
        backoff.name = "backoff"
        backoff.budgets = []
        backoff.backoffs = ["none", "exponential", "full", "equal", "decorrelated"]
        for configuration in [open, budget, backoff] { try SyntheticLab.write(path: database, configuration) }
        let out = folder.appendingPathComponent("reports")
        let summary = try renderReport(ReportOptions(databasePath: database, outputDirectory: out.path))
        #expect(summary.warnings.isEmpty, "\(summary.warnings)")
        #expect(summary.chartsNotRendered.isEmpty, "\(summary.chartsNotRendered)")
        let files = Set(summary.files)
        for chart in ["open-loop/latency-vs-load", "budget/budget", "backoff/backoff"] {
            #expect(files.contains(chart + ".gp"))
            #expect(files.contains(chart + ".svg") && summary.chartsRendered.contains(chart), "\(chart) not rendered")
        }
        let budgetPage = TestSupport.read(out.appendingPathComponent("budget/README.md"))
        #expect(budgetPage.contains("budget\\_exhausted"))
        // Categorical axes are labelled by their values.
        let script = TestSupport.read(out.appendingPathComponent("backoff/backoff.gp"))
        #expect(script.contains("set xtics ('none' 0, 'exponential' 1, 'full' 2, 'equal' 3, 'decorrelated' 4)"))
    }

    @Test func missingDatabaseSaysToRunTheExperiments() throws {
        let error = #expect(throws: ReportError.self) {
            try renderReport(ReportOptions(databasePath: "/nonexistent/lab.sqlite", outputDirectory: "/tmp/unused"))
        }
        #expect(error?.description.contains("/nonexistent/lab.sqlite") == true)
        #expect(error?.description.contains("make experiments") == true)
    }

    @Test func emptyDatabaseIsReported() throws {
        let folder = try TestSupport.temporaryFolder("empty")
        defer { TestSupport.cleanUp(folder) }
        let path = folder.appendingPathComponent("lab.sqlite").path
        _ = try LabStore.openForWriting(path: path)
        let error = #expect(throws: ReportError.self) {
            try renderReport(
                ReportOptions(databasePath: path, outputDirectory: folder.appendingPathComponent("r").path))
        }
        #expect(error?.description.contains("no complete cells") == true)
    }
}
