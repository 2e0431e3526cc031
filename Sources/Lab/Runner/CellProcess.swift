import Foundation
import LabStore

/// The runner's side of one cell run in a child process (`experiments cell-child JOB`): writes the job, starts the
/// child with a lifeline pipe on its standard input (it exits when the runner does, however the runner ends),
/// waits for it without blocking a thread, and reports how it ended. The child inherits the runner's CPU affinity
/// (the client's CPUs when pinned), its environment and its working directory.
struct CellProcess {
    /// How the child ended.
    struct Exit: Sendable {
        /// The child's process id.
        var pid: Int32
        /// Its exit status, or the signal that killed it.
        var status: Int32
        /// Whether a signal killed it.
        var signalled: Bool
        /// The last lines of its standard error, up to `tailBytes`.
        var stderrTail: String
        /// The progress line it printed (`summary: ...`), if any.
        var summary: String?

        /// Whether it exited with status 0.
        var succeeded: Bool { !signalled && status == 0 }

        /// What went wrong, for `cells.error`: the pid, the exit status or signal, and the tail of standard error.
        var failure: String {
            let how =
                signalled
                ? "was killed by signal \(status) (\(Self.signalName(status)))" : "exited with status \(status)"
            let tail = stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
            return "the cell's client process (pid \(pid)) \(how)"
                + (tail.isEmpty ? "; it wrote nothing to stderr" : "; its stderr ended with: \(tail)")
        }

        static func signalName(_ number: Int32) -> String {
            let names: [Int32: String] = [
                SIGABRT: "SIGABRT", SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
                SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGPIPE: "SIGPIPE",
            ]
            return names[number] ?? "signal \(number)"
        }
    }

    /// Standard error kept for `cells.error`: the last 2 KiB.
    static let tailBytes = 2048

    /// The `experiments` binary that runs `cell-child`.
    let executable: String
    /// A folder of the runner's own for the job, output and database files.
    let folder: String

    /// The child's files for the cell `id`: the job, its standard output and error, and its database.
    func paths(cellID id: Int64) -> (job: String, out: String, err: String, database: String) {
        let base = (folder as NSString).appendingPathComponent("cell-\(id)")
        return (base + ".job.json", base + ".out", base + ".err", base + ".sqlite")
    }

    /// Runs `job` in a child process and waits for it to exit. Whatever the child wrote to standard error is
    /// passed on to this process's when it succeeded (warnings), and kept in `Exit.stderrTail` when it did not.
    /// - Throws: `LabError` when the child cannot be started.
    func run(_ job: CellJob, cellID: Int64) async throws -> Exit {
        let files = paths(cellID: cellID)
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw LabError(
                "the experiments binary that runs each cell was not found at \(executable); build it with "
                    + "`swift build --product experiments`, or run with --no-cell-process")
        }
        try JSONEncoder().encode(job).write(to: URL(fileURLWithPath: files.job))
        for path in [files.out, files.err] {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw LabError("cannot create \(path) for the cell's client process; check \(folder) is writable")
            }
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: files.out))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: files.err))
        let lifeline = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["cell-child", files.job]
        process.standardInput = lifeline
        process.standardOutput = out
        process.standardError = err
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: LabError("cannot start \(executable) cell-child: \(error)"))
            }
        }
        try? lifeline.fileHandleForWriting.close()
        try? out.close()
        try? err.close()

        let errors = (try? Data(contentsOf: URL(fileURLWithPath: files.err))) ?? Data()
        let output = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: files.out))) ?? Data(), as: UTF8.self)
        let summary = output.split(separator: "\n").last { $0.hasPrefix("summary: ") }?.dropFirst("summary: ".count)
        var exit = Exit(
            pid: process.processIdentifier, status: process.terminationStatus,
            signalled: process.terminationReason == .uncaughtSignal,
            stderrTail: Self.tail(of: String(decoding: errors, as: UTF8.self)), summary: summary.map(String.init))
        // Passed on either way: warnings when it succeeded, the whole crash report (backtrace) when it did not.
        if !errors.isEmpty { FileHandle.standardError.write(errors) }
        if exit.succeeded { exit.stderrTail = "" }
        return exit
    }

    /// The end of a child's standard error, at most `tailBytes`. When the Swift runtime's backtracer reported a
    /// crash, the tail is what came before its report (the program's own last words, such as `Fatal error: ...`)
    /// and the report's first line, not the end of a register and image dump.
    static func tail(of errors: String) -> String {
        var text = Substring(errors)
        var crash = ""
        if let marker = errors.range(of: "Program crashed:") {
            let lineStart =
                errors[..<marker.lowerBound].lastIndex(of: "\n").map { errors.index(after: $0) }
                ?? errors.startIndex
            let lineEnd = errors[marker.upperBound...].firstIndex(of: "\n") ?? errors.endIndex
            crash = String(errors[lineStart..<lineEnd]).trimmingCharacters(in: .whitespaces)
            text = errors[..<lineStart]
        }
        let budget = max(0, tailBytes - crash.utf8.count - 1)
        var kept = String(decoding: Array(text.utf8).suffix(budget), as: UTF8.self)
        kept = kept.trimmingCharacters(in: .whitespacesAndNewlines)
        return crash.isEmpty ? kept : kept.isEmpty ? crash : kept + "\n" + crash
    }

    /// Deletes the child's files for the cell `id`, its database's WAL and shared-memory files included.
    func removeFiles(cellID id: Int64) {
        let files = paths(cellID: id)
        for path in [files.job, files.out, files.err, files.database, files.database + "-wal", files.database + "-shm"]
        {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
