import AsyncPatterns

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a body on N dedicated OS threads (not the Swift concurrency pool) and lets a task await them all.
enum ThreadGroup {
    /// Stack size of each worker thread, in bytes: 512 KiB, so 1024 threads reserve 512 MiB of address space.
    static let stackSize = 512 * 1024

    /// Starts one detached thread running `body`; returns 0 or the error number of `pthread_create`.
    typealias Spawn = (_ name: String, _ body: @escaping @Sendable () -> Void) -> Int32

    private final class Completion: Sendable {
        private struct State {
            var remaining: Int
            var continuation: CheckedContinuation<Void, Never>?
        }
        private let state: LockedBox<State>

        init(count: Int) { state = LockedBox(State(remaining: count, continuation: nil)) }

        func arm(_ continuation: CheckedContinuation<Void, Never>) {
            let done = state.withLock { state -> Bool in
                if state.remaining == 0 { return true }
                state.continuation = continuation
                return false
            }
            if done { continuation.resume() }
        }

        /// Records that `count` threads finished (or will never start).
        func finished(_ count: Int = 1) {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.remaining -= count
                guard state.remaining == 0 else { return nil }
                defer { state.continuation = nil }
                return state.continuation
            }
            continuation?.resume()
        }
    }

    /// Starts `count` threads running `body(index)` and returns when every started one has returned. When the OS
    /// refuses a thread, no more are started, `refused` runs (it must make the running bodies return soon), and
    /// after they have returned `ThreadCreationError` is thrown.
    static func run(
        count: Int, name: String, spawn: Spawn = spawnDetached, refused: () -> Void,
        body: @escaping @Sendable (Int) -> Void
    ) async throws(ThreadCreationError) {
        precondition(count > 0, "a thread group needs at least one thread")
        let completion = Completion(count: count)
        var failure: ThreadCreationError?
        for index in 0..<count {
            let code = spawn("\(name)-\(index)") {
                body(index)
                completion.finished()
            }
            if code != 0 {
                failure = ThreadCreationError(started: index, requested: count, errno: code)
                refused()
                completion.finished(count - index)
                break
            }
        }
        await withCheckedContinuation { completion.arm($0) }
        if let failure { throw failure }
    }

    fileprivate final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    fileprivate typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32

    /// Linux's `pthread_setname_np`, looked up at run time: Swift's Glibc module does not declare it.
    fileprivate static let setThreadName: SetName? = dlsym(
        UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np"
    ).map { unsafeBitCast($0, to: SetName.self) }

    /// Starts a detached POSIX thread with a `stackSize` stack.
    static func spawnDetached(name: String, body: @escaping @Sendable () -> Void) -> Int32 {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        #if canImport(Glibc)
            var thread = pthread_t()
        #else
            var thread: pthread_t?
        #endif
        let code = pthread_create(&thread, &attributes, threadEntry, start)
        if code != 0 { Unmanaged<Start>.fromOpaque(start).release() }
        return code
    }
}

/// The entry point of every `ThreadGroup` thread: names the thread and runs its body.
private func threadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let start = Unmanaged<ThreadGroup.Start>.fromOpaque(raw!).takeRetainedValue()
    #if canImport(Glibc)
        // Linux thread names hold at most 15 bytes.
        _ = ThreadGroup.setThreadName?(pthread_self(), String(start.name.utf8.suffix(15))!)
    #endif
    start.body()
    return nil
}

/// The OS refused to start one of the threads a blocking engine needs.
public struct ThreadCreationError: Error, CustomStringConvertible, Sendable {
    /// Threads that did start.
    public let started: Int
    /// Threads the run asked for.
    public let requested: Int
    /// The error number `pthread_create` returned.
    public let errno: Int32

    public var description: String {
        "the OS refused to start thread \(started + 1) of \(requested) (\(String(cString: strerror(errno)))); "
            + "the \(started) started ended their requests as cancelled. Lower the concurrency, or raise the limits "
            + "on threads (ulimit -u, /proc/sys/kernel/threads-max) and memory maps (vm.max_map_count)"
    }
}
