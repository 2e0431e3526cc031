import AsyncPatterns
import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Drives libcurl's multi interface on one dedicated thread so that Swift tasks can await libcurl transfers.
///
/// A task hands over an easy handle it owns (already configured) and suspends; the driver adds it to the
/// multi handle and resumes the task with the transfer's `CURLcode` when it is done. The connection cache
/// lives in the multi handle and is shared by all handles.
///
/// On Linux the driver uses the event-driven `curl_multi_socket_action` API over epoll, so each wake-up
/// costs O(ready sockets), not O(transfers): this is what keeps thousands of transfers cheap. Elsewhere it
/// falls back to `curl_multi_perform` with `curl_multi_poll`.
final class CurlMultiDriver: @unchecked Sendable {
    // `@unchecked Sendable`, proof: the mutable state (`inFlight`, and on Linux `registered` and
    // `timerDeadline`) and the libcurl handle `multi` are touched only by the driver thread, in `loop` and in the
    // libcurl callbacks it runs, and by `deinit`, which runs after the thread has ended (the thread holds `self`).
    // Everything other threads reach is immutable (`shouldAbort`, the file descriptors) or in `inbox`, a
    // `LockedBox`.

    /// An easy handle crossing from a task to the driver thread, by address: the task owns the handle and stays
    /// suspended from `perform` until the driver resumes `continuation`, so only one thread uses it at a time.
    private struct Submission: Sendable {
        let easyAddress: UInt
        let continuation: CheckedContinuation<CURLcode, Never>

        init(easy: UnsafeMutableRawPointer, continuation: CheckedContinuation<CURLcode, Never>) {
            self.easyAddress = UInt(bitPattern: easy)
            self.continuation = continuation
        }

        var easy: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: easyAddress)! }
    }

    private struct Inbox {
        var submissions: [Submission] = []
        var isShuttingDown = false
        var finished: CheckedContinuation<Void, Never>?
        var threadEnded = false
    }

    private let multi: UnsafeMutableRawPointer
    /// Polled at least every 100 ms: true aborts every transfer in flight (a socket that never becomes ready
    /// gives libcurl no chance to call the progress callback).
    private let shouldAbort: @Sendable () -> Bool
    private let inbox = LockedBox(Inbox())
    private var inFlight: [UnsafeMutableRawPointer: CheckedContinuation<CURLcode, Never>] = [:]
    #if os(Linux)
        private let epollFD: Int32
        private let wakeFD: Int32
        /// Sockets registered with epoll (driver thread only).
        fileprivate var registered = Set<Int32>()
        /// When libcurl wants `CURL_SOCKET_TIMEOUT` processed, in ns on the monotonic clock; nil for never.
        fileprivate var timerDeadline: ContinuousClock.Instant?
    #endif

    /// Starts the driver thread. `maxConnections` bounds the shared connection cache.
    /// - Throws: `CurlError` when libcurl cannot be initialised or the multi handle cannot be created.
    init(maxConnections: Int, shouldAbort: @escaping @Sendable () -> Bool = { false }) throws(CurlError) {
        self.shouldAbort = shouldAbort
        try CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else { throw CurlError.handleCreation }
        self.multi = multi
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, maxConnections))
        #if os(Linux)
            self.epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
            self.wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
            guard epollFD >= 0, wakeFD >= 0 else { throw CurlError.handleCreation }
            _ = ccurl_epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, EPOLLIN.rawValue)
            let userdata = Unmanaged.passUnretained(self).toOpaque()
            _ = ccurl_multi_setopt_socket_callback(multi, curlMultiSocket)
            _ = ccurl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, userdata)
            _ = ccurl_multi_setopt_timer_callback(multi, curlMultiTimer)
            _ = ccurl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, userdata)
        #endif
        let thread = Thread { [self] in loop() }
        thread.stackSize = ThreadGroup.stackSize
        thread.name = "curl-multi"
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
        #if os(Linux)
            close(epollFD)
            close(wakeFD)
        #endif
    }

    /// Wakes the driver thread from its wait.
    private func wake() {
        #if os(Linux)
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        #else
            curl_multi_wakeup(multi)
        #endif
    }

    /// Runs the transfer of `easy` to completion and returns its result code. The caller must own `easy` and
    /// not touch it until this returns.
    func perform(_ easy: UnsafeMutableRawPointer) async -> CURLcode {
        await withCheckedContinuation { continuation in
            let accepted = inbox.withLock { inbox -> Bool in
                guard !inbox.isShuttingDown else { return false }
                inbox.submissions.append(Submission(easy: easy, continuation: continuation))
                return true
            }
            if accepted {
                wake()
            } else {
                continuation.resume(returning: CURLE_ABORTED_BY_CALLBACK)
            }
        }
    }

    /// Lets transfers in flight finish, stops the driver thread and returns when it has ended.
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ended = inbox.withLock { inbox -> Bool in
                inbox.isShuttingDown = true
                if inbox.threadEnded { return true }
                inbox.finished = continuation
                return false
            }
            if ended { continuation.resume() } else { wake() }
        }
    }

    private func loop() {
        var running: Int32 = 0
        while true {
            let (incoming, shuttingDown) = inbox.withLock { inbox in
                defer { inbox.submissions.removeAll(keepingCapacity: true) }
                return (inbox.submissions, inbox.isShuttingDown)
            }
            for submission in incoming {
                if curl_multi_add_handle(multi, submission.easy) == CURLM_OK {
                    inFlight[submission.easy] = submission.continuation
                } else {
                    submission.continuation.resume(returning: CURLE_FAILED_INIT)
                }
            }
            if shuttingDown && inFlight.isEmpty { break }
            if !inFlight.isEmpty, shouldAbort() {
                for (easy, continuation) in inFlight {
                    _ = curl_multi_remove_handle(multi, easy)
                    continuation.resume(returning: CURLE_ABORTED_BY_CALLBACK)
                }
                inFlight.removeAll()
            }
            #if os(Linux)
                waitAndAct(&running)
            #else
                _ = curl_multi_perform(multi, &running)
            #endif
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                _ = curl_multi_remove_handle(multi, easy)
                inFlight.removeValue(forKey: easy)?.resume(returning: code)
            }
            #if !os(Linux)
                _ = curl_multi_poll(multi, nil, 0, 100, nil)
            #endif
        }
        let finished = inbox.withLock { inbox -> CheckedContinuation<Void, Never>? in
            inbox.threadEnded = true
            defer { inbox.finished = nil }
            return inbox.finished
        }
        finished?.resume()
    }

    #if os(Linux)
        /// Waits for socket readiness, a due timer or a wake-up, and hands what happened to libcurl.
        private func waitAndAct(_ running: inout Int32) {
            var timeoutMs: Int32 = 100
            if let deadline = timerDeadline {
                let remaining = ContinuousClock.now.duration(to: deadline)
                timeoutMs = remaining <= .zero ? 0 : Int32(min(100, RunClock.milliseconds(remaining)))
            }
            var fds = [Int32](repeating: 0, count: 256)
            var masks = [UInt32](repeating: 0, count: 256)
            let ready = ccurl_epoll_wait(epollFD, &fds, &masks, 256, timeoutMs)
            for index in 0..<max(0, Int(ready)) {
                let fd = fds[index]
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    continue
                }
                let mask = masks[index]
                var flags: Int32 = 0
                if mask & EPOLLIN.rawValue != 0 { flags |= CURL_CSELECT_IN }
                if mask & EPOLLOUT.rawValue != 0 { flags |= CURL_CSELECT_OUT }
                if mask & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { flags |= CURL_CSELECT_ERR }
                _ = curl_multi_socket_action(multi, fd, flags, &running)
            }
            if let deadline = timerDeadline, deadline <= ContinuousClock.now {
                timerDeadline = nil
                _ = curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
            }
        }

        /// CURLMOPT_SOCKETFUNCTION: keeps epoll's interest in `fd` in line with what libcurl waits for.
        fileprivate func watch(_ fd: Int32, what: Int32) {
            if what == CURL_POLL_REMOVE {
                if registered.remove(fd) != nil { _ = ccurl_epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, 0) }
                return
            }
            var events: UInt32 = 0
            if what & CURL_POLL_IN != 0 { events |= EPOLLIN.rawValue }
            if what & CURL_POLL_OUT != 0 { events |= EPOLLOUT.rawValue }
            let op = registered.insert(fd).inserted ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
            if ccurl_epoll_ctl(epollFD, op, fd, events) != 0 {
                // The kernel drops a closed descriptor from epoll by itself, and a new socket may reuse the
                // number: retry with the other operation so that no socket is left unwatched.
                let retry = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD
                _ = ccurl_epoll_ctl(epollFD, retry, fd, events)
            }
        }
    #endif
}

#if os(Linux)
    /// CURLMOPT_SOCKETFUNCTION trampoline.
    private func curlMultiSocket(
        _ easy: UnsafeMutableRawPointer?, _ fd: curl_socket_t, _ what: Int32, _ userdata: UnsafeMutableRawPointer?,
        _ socketData: UnsafeMutableRawPointer?
    ) -> Int32 {
        guard let userdata else { return 0 }
        Unmanaged<CurlMultiDriver>.fromOpaque(userdata).takeUnretainedValue().watch(fd, what: what)
        return 0
    }

    /// CURLMOPT_TIMERFUNCTION trampoline: -1 removes the timer, 0 means "call socket_action now".
    private func curlMultiTimer(
        _ multi: UnsafeMutableRawPointer?, _ timeoutMs: Int, _ userdata: UnsafeMutableRawPointer?
    ) -> Int32 {
        guard let userdata else { return 0 }
        let driver = Unmanaged<CurlMultiDriver>.fromOpaque(userdata).takeUnretainedValue()
        driver.timerDeadline = timeoutMs < 0 ? nil : ContinuousClock.now.advanced(by: .milliseconds(timeoutMs))
        return 0
    }
#endif
