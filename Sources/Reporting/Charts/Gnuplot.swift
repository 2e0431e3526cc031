import Foundation

/// Finds and runs gnuplot.
struct Gnuplot: Sendable {
    /// The command that installs gnuplot on Debian and Ubuntu.
    static let installCommand = "sudo apt-get install -y gnuplot-nox"

    /// The executable's absolute path.
    let executable: String

    /// Finds `name` (a path, or a name looked up in `searchPath`, else the process's PATH); nil when absent.
    static func locate(_ name: String, searchPath: String?) -> Gnuplot? {
        let manager = FileManager.default
        if name.contains("/") {
            return manager.isExecutableFile(atPath: name) ? Gnuplot(executable: name) : nil
        }
        let path = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = String(folder) + "/" + name
            if manager.isExecutableFile(atPath: candidate) { return Gnuplot(executable: candidate) }
        }
        return nil
    }

    /// Runs the scripts, each in its own gnuplot process. Returns an error message per failed script.
    func render(scripts: [String]) -> [String: String] {
        var failures: [String: String] = [:]
        for script in scripts {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [script]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
                let stderr = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                if process.terminationStatus != 0 {
                    let message = String(decoding: stderr, as: UTF8.self)
                        .split(separator: "\n").suffix(3).joined(separator: " | ")
                    failures[script] = "gnuplot exited with status \(process.terminationStatus): \(message)"
                }
            } catch {
                failures[script] = "cannot run \(executable): \(error)"
            }
        }
        return failures
    }
}
