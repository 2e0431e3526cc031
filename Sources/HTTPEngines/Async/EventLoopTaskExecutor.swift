import NIOCore

/// Runs Swift tasks on one SwiftNIO event loop. A task started with this executor as its preference runs its
/// nonisolated code on the loop's thread, so a response read on the loop resumes the waiting task in the same
/// thread: no hop to the cooperative pool and back for each request.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
