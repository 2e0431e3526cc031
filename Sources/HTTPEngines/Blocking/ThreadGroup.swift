import Foundation
import Synchronization

/// Runs a body on N dedicated OS threads (not the Swift concurrency pool) and lets a task await them all.
enum ThreadGroup {
    /// Stack size of each worker thread, in bytes: 512 KiB, so 1024 threads reserve 512 MiB of address space.
    static let stackSize = 512 * 1024

    private final class Completion: Sendable {
        private struct State {
            var remaining: Int
            var continuation: CheckedContinuation<Void, Never>?
        }
        private let state: Mutex<State>

        init(count: Int) { state = Mutex(State(remaining: count, continuation: nil)) }

        func arm(_ continuation: CheckedContinuation<Void, Never>) {
            let done = state.withLock { state -> Bool in
                if state.remaining == 0 { return true }
                state.continuation = continuation
                return false
            }
            if done { continuation.resume() }
        }

        func threadFinished() {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.remaining -= 1
                guard state.remaining == 0 else { return nil }
                defer { state.continuation = nil }
                return state.continuation
            }
            continuation?.resume()
        }
    }

    /// Starts `count` threads running `body(index)` and returns when every one has returned.
    static func run(count: Int, name: String, body: @escaping @Sendable (Int) -> Void) async {
        precondition(count > 0, "a thread group needs at least one thread")
        let completion = Completion(count: count)
        for index in 0..<count {
            let thread = Thread {
                body(index)
                completion.threadFinished()
            }
            thread.stackSize = stackSize
            thread.name = "\(name)-\(index)"
            thread.start()
        }
        await withCheckedContinuation { completion.arm($0) }
    }
}
