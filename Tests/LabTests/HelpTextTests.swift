import Foundation
import Testing

/// `--help` of every command and subcommand: its prose is wrapped by ArgumentParser, never broken mid-sentence by
/// a newline left in the source.
@Suite struct HelpTextTests {
    /// Runs `executable` with `arguments` and returns its standard output.
    private func output(of executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["COLUMNS": "80"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The lines of the overview and discussion (before `USAGE:`) that end a line early inside a paragraph: a line
    /// wrapped at 80 columns is at least 50 characters long unless it is a paragraph's last.
    static func shortLinesInsideParagraphs(_ help: String) -> [String] {
        let prose = help.components(separatedBy: "USAGE:")[0]
        let lines = prose.components(separatedBy: "\n")
        return lines.indices.dropLast().compactMap { index in
            let line = lines[index]
            let next = lines[index + 1]
            return !line.isEmpty && !next.isEmpty && line.count < 50 ? line : nil
        }
    }

    @Test func theCheckFindsALineBrokenMidSentence() {
        let broken = "OVERVIEW: Sweeps.\n\nEvery cell's seed derives from the\nspec's master seed.\n\nUSAGE: x\n"
        #expect(Self.shortLinesInsideParagraphs(broken) == ["Every cell's seed derives from the"])
    }

    @Test(arguments: [
        ["--help"], ["help", "run"], ["help", "list"], ["help", "merge"], ["help", "perf"], ["help", "benchmark"],
        ["help", "benchmark-resilience"], ["help", "benchmark-full"],
    ])
    func experimentsHelpIsWrappedWhole(arguments: [String]) throws {
        let help = try output(of: Built.experiments, arguments)
        #expect(help.contains("USAGE:"))
        #expect(Self.shortLinesInsideParagraphs(help) == [])
    }

    @Test(arguments: ["report", "mock-server"])
    func otherToolsHelpIsWrappedWhole(tool: String) throws {
        let help = try output(of: Built.folder + "/" + tool, ["--help"])
        #expect(help.contains("USAGE:"))
        #expect(Self.shortLinesInsideParagraphs(help) == [])
    }
}
