import Foundation
import Synchronization
import UnixSignals

/// Set by SIGINT or SIGTERM (how Slurm's `scancel` and time limits, and Kubernetes, stop a job); the sweep checks
/// it between cells, so an interrupted cell never leaves half a result. A second signal exits at once with status
/// 130; the unfinished cell is discarded by the next run. The signals arrive through swift-service-lifecycle's
/// `UnixSignalsSequence`, as the mock server's do.
final class InterruptFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private static let signals: [UnixSignal] = [.sigint, .sigterm]

    private init() {}

    /// Whether SIGINT or SIGTERM arrived.
    var isSet: Bool { flag.load(ordering: .relaxed) }

    /// Runs `body` with SIGINT and SIGTERM caught into a flag, and returns what it returns. Afterwards both signals
    /// have their default behaviour again (`UnixSignalsSequence` leaves them ignored on Darwin).
    /// - Throws: what `body` throws.
    static func catchingSignals<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (InterruptFlag) async throws -> Result
    ) async throws -> Result {
        // Ignored first, as `UnixSignalsSequence` does on Darwin, so that neither signal's default action (ending
        // the process) can win over its delivery to the sequence.
        for signal in signals { Foundation.signal(signal.rawValue, SIG_IGN) }
        defer { for signal in signals { Foundation.signal(signal.rawValue, SIG_DFL) } }
        let caught = await UnixSignalsSequence(trapping: signals)
        let interrupt = InterruptFlag()
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask {
                for await signal in caught { interrupt.received(signal) }
            }
            defer { group.cancelAll() }
            return try await body(interrupt)
        }
    }

    /// The first signal sets the flag and says what happens next; a second exits.
    private func received(_ signal: UnixSignal) {
        if flag.exchange(true, ordering: .relaxed) { exit(130) }
        FileHandle.standardError.write(
            Data("\n\(signal): finishing the current cell, then stopping (send it again to abort)\n".utf8))
    }
}
