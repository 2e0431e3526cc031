import Foundation
import MockServer

/// Where the runner and `make perf` put this process (the engines, and tools it starts such as wrk) and the mock
/// server: with at least two CPUs, the server on the last one and the client on the others, so they never compete
/// for a core.
package enum CPUPlacement {
    /// The CPUs online (not those this process may use, which pinning reduces).
    static var cores: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The server's CPU when pinning: the last one, given at least two.
    package static var serverCPU: Int? { cores >= 2 ? cores - 1 : nil }

    /// Pins this process to every CPU but the server's. A refusal is a warning.
    static func pinClient() {
        guard cores >= 2 else { return }
        do {
            try ProcessAffinity.pin(toCPUs: Array(0..<(cores - 1)))
        } catch {
            FileHandle.standardError.write(Data("warning: \(error.description); the client runs unpinned\n".utf8))
        }
    }

    /// Runs `body` with this process (and what it starts) allowed on every CPU, then pins the client again: for
    /// figures about the whole machine rather than a client beside a pinned server.
    package static func withEveryCPU<T>(_ body: () async throws -> T) async rethrows -> T {
        try? ProcessAffinity.pin(toCPUs: Array(0..<cores))
        defer { pinClient() }
        return try await body()
    }
}
