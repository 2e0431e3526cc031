import Foundation

/// Facts about the machine and the code that a run records, so a result can be traced and reproduced.
package struct Provenance: Sendable {
    package var gitCommit: String
    package var gitDirty: Bool
    package var swiftVersion: String
    package var os: String
    package var kernel: String
    package var cpuModel: String
    package var cores: Int
    package var memoryBytes: Int64

    /// Reads the current machine and working tree. Never throws: unknown facts read `unknown`.
    package static func current() -> Provenance {
        let commit = Shell.output("git", ["rev-parse", "HEAD"]) ?? "unknown"
        let status = Shell.output("git", ["status", "--porcelain", "--untracked-files=no"])
        let swift = Shell.output("swift", ["--version"])?.split(separator: "\n").first.map(String.init) ?? "unknown"
        return Provenance(
            gitCommit: commit.isEmpty ? "unknown" : commit,
            gitDirty: status.map { !$0.isEmpty } ?? false,
            swiftVersion: swift,
            os: osName(),
            kernel: Shell.output("uname", ["-r"]) ?? "unknown",
            cpuModel: cpuModel(),
            cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: Int64(ProcessInfo.processInfo.physicalMemory))
    }

    private static func osName() -> String {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else {
            return ProcessInfo.processInfo.operatingSystemVersionString
        }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return "unknown"
    }

    private static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
                ?? "unknown"
        }
        return "unknown"
    }
}

/// Runs small helper commands.
enum Shell {
    /// Runs `command` (looked up on PATH) and returns its trimmed standard output, or nil when it fails.
    static func output(_ command: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// ISO 8601 UTC timestamps for the database.
package enum Timestamp {
    package static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
