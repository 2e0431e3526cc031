import Foundation
import LabStore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program to completion with `posix_spawn` and reaps it with `wait4`, so its own CPU time and context
/// switches are known (its peak memory is read from /proc while it runs) (Foundation's `Process` reaps its children itself and keeps their usage). The child
/// inherits this process's CPU affinity and environment; its standard output and error go to files in `folder`.
enum SpawnedProcess {
    /// How the program ended.
    struct Outcome: Sendable {
        /// Its exit status, or the signal that killed it.
        var status: Int32
        /// Whether a signal killed it.
        var signalled: Bool
        /// Its standard output.
        var output: String
        /// Its standard error.
        var errors: String
        /// Its resource use.
        var usage: ResourceFigures
        /// Spawn to exit.
        var elapsed: Duration
    }

    /// Runs `executable` with `arguments` and waits for it on a thread of its own.
    /// - Throws: `LabError` when it cannot be started.
    static func run(_ executable: String, _ arguments: [String]) async throws(LabError) -> Outcome {
        let folder = FileManager.default.temporaryDirectory.path
        let base = (folder as NSString).appendingPathComponent(
            "spawned-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        let outPath = base + ".out"
        let errPath = base + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let start = ContinuousClock.now
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw LabError("cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        let child = pid
        // `ru_maxrss` of a child started with vfork semantics is at least its parent's RSS when it called exec (Linux
        // keeps the high-water mark across exec), so the child's own peak is read from /proc while it runs: every
        // 10 ms, until it exits.
        let (status, usage, peak) = await withCheckedContinuation {
            (continuation: CheckedContinuation<(Int32, rusage, Int64?), Never>) in
            Thread.detachNewThread {
                var status: Int32 = 0
                var usage = rusage()
                var peak: Int64?
                while true {
                    let reaped = wait4(child, &status, WNOHANG, &usage)
                    if reaped == child || (reaped < 0 && errno != EINTR) { break }
                    if let bytes = ProcessFigures.peakRSSBytes(pid: child) { peak = max(peak ?? 0, bytes) }
                    usleep(10_000)
                }
                continuation.resume(returning: (status, usage, peak))
            }
        }
        let elapsed = ContinuousClock.now - start
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        let signalled = (status & 0x7f) != 0
        return Outcome(
            status: signalled ? status & 0x7f : (status >> 8) & 0xff, signalled: signalled,
            output: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            errors: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
            usage: ResourceFigures(
                cpuUserSeconds: seconds(usage.ru_utime), cpuSysSeconds: seconds(usage.ru_stime),
                peakRSSBytes: peak ?? Int64(usage.ru_maxrss) * 1024, voluntarySwitches: Int64(usage.ru_nvcsw),
                involuntarySwitches: Int64(usage.ru_nivcsw)),
            elapsed: elapsed)
    }
}
