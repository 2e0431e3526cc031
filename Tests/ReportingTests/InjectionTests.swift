import Foundation
import ReportingSynthetic
import Testing

@testable import Reporting

@Suite("Gnuplot injection", .serialized)
struct InjectionTests {
    @Test func quotingNeutralisesQuotesNewlinesAndControlCharacters() {
        #expect(GnuplotScript.quote("it's") == "'it''s'")
        #expect(GnuplotScript.quote("a\nb\r\tc") == "'a b  c'")
        #expect(GnuplotScript.quote("`id` $(id) system(\"id\") @x") == "'`id` $(id) system(\"id\") @x'")
        #expect(GnuplotScript.quoteTic("50%") == "'50%%'")
        for hostile in ["'", "''", "'\n!touch x", "a'; system('touch x'); '"] {
            let quoted = GnuplotScript.quote(hostile)
            let inner = quoted.dropFirst().dropLast()
            // Inside, every quote is doubled: removing the pairs leaves none.
            #expect(!inner.replacingOccurrences(of: "''", with: "").contains("'"))
            #expect(!quoted.contains("\n"))
        }
    }

    /// Experiment, engine and axis-value names full of gnuplot and shell syntax never run anything when gnuplot
    /// runs the scripts, and stay legible. Needs gnuplot (fails without it): without it nothing would execute.
    @Test(.timeLimit(.minutes(1)))
    func hostileNamesNeverExecute() throws {
        try TestSupport.requireGnuplot()
        let folder = try TestSupport.temporaryFolder("injection")
        defer { TestSupport.cleanUp(folder) }
        let marker = folder.appendingPathComponent("pwned").path
        let name =
            "evil\\`touch \(marker)1` '\" $(touch \(marker)2) system(\"touch \(marker)3\")\n!touch \(marker)4 @m \\"
        let engine = "eng`touch \(marker)5`'x\\"
        let database = folder.appendingPathComponent("lab.sqlite").path
        try SyntheticLab.write(
            path: database,
            SyntheticLab.Configuration(
                name: name, question: "Is `this` | safe?\n# heading", engines: ["sync", engine], concurrencies: [1, 2],
                errorRates: [0, 0.5], retries: ["none", "x'`touch \(marker)6`"], requests: 20, warmup: 2,
                repetitions: 1))
        let out = folder.appendingPathComponent("reports")
        let summary = try renderReport(ReportOptions(databasePath: database, outputDirectory: out.path))
        // gnuplot ran every script: the check below is about scripts that were executed.
        #expect(summary.warnings.isEmpty, "\(summary.warnings)")
        #expect(!summary.chartsRendered.isEmpty && summary.chartsNotRendered.isEmpty, "\(summary.chartsNotRendered)")
        let files = TestSupport.files(under: folder)
        #expect(!files.contains { $0.contains("pwned") }, "a hostile name ran a command: \(files)")
        // The folder name is a safe slug.
        #expect(summary.files.allSatisfy { !$0.contains("`") && !$0.contains("'") && !$0.contains("..") })
        let slug = try #require(summary.files.first { $0.hasSuffix("/README.md") }?.split(separator: "/").first)
        for script in files where script.hasSuffix(".gp") {
            let text = TestSupport.read(folder.appendingPathComponent(script))
            // No user text in double quotes; every line holding it keeps it inside single quotes.
            for line in text.split(separator: "\n") where line.contains("touch") && !line.hasPrefix("#") {
                #expect(Self.everyOccurrenceIsQuoted("touch", in: String(line)), "unquoted user text: \(line)")
            }
        }
        let svg = TestSupport.read(out.appendingPathComponent("\(slug)/throughput.svg"))
        // Legible: the name appears on one line, with its quotes and backticks intact (XML-escaped).
        // (long names are shortened with an ellipsis, so only the start is checked)
        #expect(svg.contains("evil\\`touch /"))
        #expect(svg.contains("eng`touch /"))
        let page = TestSupport.read(out.appendingPathComponent("\(slug)/README.md"))
        #expect(page.hasPrefix("# evil\\\\\\`touch "))
        #expect(page.contains("Is \\`this\\` \\| safe? \\# heading"))
    }

    /// Lexes `line` as gnuplot does for single-quoted strings ('' is a quote inside one) and checks that every
    /// occurrence of `word` lies inside a string.
    static func everyOccurrenceIsQuoted(_ word: String, in line: String) -> Bool {
        let characters = Array(line)
        var quoted = [Bool](repeating: false, count: characters.count)
        var inside = false
        var index = 0
        while index < characters.count {
            if characters[index] == "'" {
                if inside, index + 1 < characters.count, characters[index + 1] == "'" {
                    quoted[index] = true
                    quoted[index + 1] = true
                    index += 2
                    continue
                }
                inside.toggle()
            } else {
                quoted[index] = inside
            }
            index += 1
        }
        let target = Array(word)
        for start in 0..<max(0, characters.count - target.count + 1)
        where Array(characters[start..<start + target.count]) == target {
            if !quoted[start] { return false }
        }
        return true
    }
}
