import Foundation
import LabStore
import Testing

@testable import Reporting

/// The findings that answer each page's question, from `Fixtures/findings.db`: a slice of a real
/// `make experiments` run (jitter at 10, 25 and 50 clients, five repetitions; circuit-breaker, two repetitions),
/// whose stored specs were given the `answer` objects of `experiments/jitter.json` and
/// `experiments/circuit-breaker.json`.
@Suite("Answer findings", .serialized)
struct AnswerFindingsTests {
    static var database: String { TestSupport.fixtures.appendingPathComponent("findings.db").path }

    /// Renders the fixture once per test (no charts).
    static func render(_ label: String) throws -> URL {
        let out = try TestSupport.temporaryFolder(label)
        _ = try renderReport(
            ReportOptions(
                databasePath: database, outputDirectory: out.path, renderCharts: false,
                databaseLabel: "results/lab.sqlite", outputLabel: "reports"))
        return out
    }

    /// The part of a page from `## Findings` up to `## Setup`: findings, the question's table, the analyses.
    static func answerPart(_ page: String) -> String {
        guard let start = page.range(of: "## Findings\n"), let end = page.range(of: "## Setup\n") else { return "" }
        return String(page[start.lowerBound..<end.lowerBound])
    }

    /// Golden: the answer part of the jitter and circuit-breaker pages. To update after an intended change, run
    /// `UPDATE_GOLDEN=1 swift test --filter AnswerFindingsTests`, which writes the files and fails; review the diff.
    @Test(.timeLimit(.minutes(1)))
    func goldenFindings() throws {
        let out = try Self.render("answer-golden")
        defer { TestSupport.cleanUp(out) }
        let expected = TestSupport.fixtures.appendingPathComponent("findings-expected")
        for experiment in ["jitter", "circuit-breaker"] {
            let part = Self.answerPart(TestSupport.read(out.appendingPathComponent("\(experiment)/README.md")))
            let file = expected.appendingPathComponent("\(experiment).md")
            if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
                try FileManager.default.createDirectory(at: expected, withIntermediateDirectories: true)
                try Data(part.utf8).write(to: file)
                Issue.record("golden findings updated; re-run without UPDATE_GOLDEN")
                continue
            }
            #expect(part == TestSupport.read(file), "\(experiment): answer part differs from \(file.lastPathComponent)")
        }
    }

    /// What the issue asks of the two pages, independently of the golden bytes.
    @Test(.timeLimit(.minutes(1)))
    func findingsAnswerTheQuestions() throws {
        let out = try Self.render("answer-content")
        defer { TestSupport.cleanUp(out) }
        let jitter = Self.answerPart(TestSupport.read(out.appendingPathComponent("jitter/README.md")))
        #expect(jitter.contains("full jitter made"))
        #expect(jitter.contains("against plain exponential's"))
        #expect(jitter.contains("completion time per strategy: "))
        // A lead is named only where it is significant (p < 0.05 and the ratio's interval excludes 1): decorrelated
        // beats full at 10 and 50 clients by less than the noise.
        #expect(
            jitter.contains(
                "decorrelated leads the runner-up significantly at 1 of 3 values of concurrency (25); no significant "
                    + "leader at 10, 50."))
        for strategy in ["none", "exponential", "full", "equal", "decorrelated"] {
            #expect(jitter.contains("\(strategy) "), "jitter findings name \(strategy)")
        }
        #expect(jitter.contains("## Against the AWS study"))
        #expect(jitter.contains("| AWS claim (2015) | ours | verdict |"))
        #expect(!jitter.lowercased().contains("peaks at"))
        let breaker = Self.answerPart(TestSupport.read(out.appendingPathComponent("circuit-breaker/README.md")))
        #expect(breaker.contains("the breaker opened "))
        #expect(breaker.contains("s after the failure began"))
        #expect(breaker.contains("s after the server recovered"))
        #expect(breaker.contains("of server calls"))
        #expect(breaker.contains("requests to avoid "))
        #expect(!breaker.contains("highest error rate"))
    }

    /// Every page has a methods section; open-loop pages print no efficiency.
    @Test(.timeLimit(.minutes(1)))
    func methodsOnEveryPageAndNoOpenLoopEfficiency() throws {
        let out = try Self.render("answer-methods")
        defer { TestSupport.cleanUp(out) }
        for experiment in ["jitter", "circuit-breaker"] {
            let page = TestSupport.read(out.appendingPathComponent("\(experiment)/README.md"))
            #expect(page.contains("## Methods and threats to validity"))
            #expect(page.contains("**Which side saturated.**"))
            #expect(page.contains("**Paired design.**"))
        }
        // jitter has five repetitions a point: the Methods section gives the coverage of their range, not 95%.
        let jitter = TestSupport.read(out.appendingPathComponent("jitter/README.md"))
        #expect(jitter.contains("(here: with 5 repetitions, the range of the runs, coverage 93.8%)"))
        #expect(
            jitter.contains(
                "bars are distribution-free intervals for the median from order statistics (coverage 93.8%)"))
        // circuit-breaker is an open loop (Poisson arrivals).
        let breaker = TestSupport.read(out.appendingPathComponent("circuit-breaker/README.md"))
        #expect(!breaker.lowercased().contains("efficiency"))
    }

    /// The question's table of the jitter page, recomputed from its cells.csv alone, gives the same numbers.
    @Test(.timeLimit(.minutes(1)))
    func cellsCSVRecomputesTheQuestionTable() throws {
        let out = try Self.render("answer-csv")
        defer { TestSupport.cleanUp(out) }
        let csv = TestSupport.read(out.appendingPathComponent("jitter/cells.csv"))
        let page = TestSupport.read(out.appendingPathComponent("jitter/README.md"))
        let lines = csv.split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let header = lines[0]
        let rows = lines.dropFirst()
        func column(_ name: String) -> Int { header.firstIndex(of: name)! }
        let parameterColumns = header.indices.filter { header[$0].hasPrefix("param.") }
        // A point: the engine and every parameter.
        var points: [String: [[String]]] = [:]
        for row in rows {
            let key = ([row[column("engine")]] + parameterColumns.map { row[$0] }).joined(separator: "|")
            points[key, default: []].append(row)
        }
        #expect(points.count == 15)
        var checked = 0
        for (_, cells) in points {
            let ordered = cells.sorted {
                (Int($0[column("repetition")])!, $0[column("cell_key")]) < (
                    Int($1[column("repetition")])!, $1[column("cell_key")]
                )
            }
            // A point whose server never had its nominal concurrency in service carries the § mark (`LoadCheck`).
            let peaks = ordered.compactMap { Double($0[column("server_in_flight_peak")]) }
            let missed = LoadCheck.missedConcurrency(
                serverPeak: peaks.isEmpty ? nil : Statistics.median(peaks),
                nominal: Int(ordered[0][column("concurrency")])!)
            var row = [
                ordered[0][column("concurrency")],
                ordered[0][column("param.backoff")] + (missed ? " \(LoadCheck.closedMark)" : ""), "\(ordered.count)",
            ]
            for id in ["server_calls", "completion_s"] {
                let metric = try #require(Metric.named(id))
                let values = ordered.map { Double($0[column(id)])! }
                let estimate = Statistics.medianInterval(values)
                row.append(Format.estimate(estimate, metric.format))
            }
            let line = "| " + row.joined(separator: " | ") + " |"
            #expect(page.contains(line), "the page has the recomputed row \(line)")
            checked += 1
        }
        #expect(checked == 15)
    }
}
