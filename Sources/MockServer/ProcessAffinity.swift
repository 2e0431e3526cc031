import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Pins the whole process to CPUs, and raises its scheduling class.
public enum ProcessAffinity {
    /// Why pinning failed.
    public struct PinError: Error, Sendable, CustomStringConvertible {
        /// What went wrong and what to try.
        public let description: String
    }

    /// Pins every thread of this process (and threads created later) to CPU `cpu`.
    /// Throws `PinError` if the CPU does not exist or the kernel refuses (e.g. in a restricted container).
    public static func pin(toCPU cpu: Int) throws(PinError) {
        try pin(toCPUs: [cpu])
    }

    /// Pins every thread of this process (and threads created later, child processes included) to `cpus`.
    /// Throws `PinError` if a CPU does not exist, the list is empty, or the kernel refuses.
    public static func pin(toCPUs cpus: [Int]) throws(PinError) {
        let list = cpus.map(String.init).joined(separator: ",")
        #if os(Linux)
            let available = sysconf(Int32(_SC_NPROCESSORS_CONF))
            guard !cpus.isEmpty, cpus.allSatisfy({ $0 >= 0 && $0 < 1024 && (available <= 0 || $0 < available) }) else {
                throw PinError(description: "CPU \(list): no such CPU; allowed: 0...\(max(0, available - 1))")
            }
            // cpu_set_t and sched_setaffinity are behind _GNU_SOURCE, which Swift's Glibc module does not define:
            // use a 1024-bit mask and look the function up at run time.
            typealias SetAffinity = @convention(c) (pid_t, Int, UnsafeRawPointer) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity") else {
                throw PinError(description: "sched_setaffinity is not available; pin with `taskset -c \(list)` instead")
            }
            let setAffinity = unsafeBitCast(symbol, to: SetAffinity.self)
            var mask = [UInt64](repeating: 0, count: 16)
            for cpu in cpus { mask[cpu / 64] |= 1 << UInt64(cpu % 64) }
            // Threads already running (the main thread, runtime threads) are pinned one by one; new threads inherit.
            let failures = forEachThread { tid in mask.withUnsafeBytes { setAffinity(tid, $0.count, $0.baseAddress!) } }
            if !failures.isEmpty {
                throw PinError(
                    description: "cannot pin to CPU \(list) (\(failures.joined(separator: "; "))); "
                        + "check the CPUs this process may use with `taskset -p $$`")
            }
        #else
            throw PinError(description: "pinning to a CPU is supported on Linux only")
        #endif
    }

    /// Moves every thread of this process (and threads created later) to the real-time FIFO class at `priority`
    /// (1...99), so timers fire on time on a busy machine. Throws `PinError` when the kernel refuses (it needs root
    /// or CAP_SYS_NICE).
    public static func setRealtimePriority(_ priority: Int) throws(PinError) {
        #if os(Linux)
            guard (1...99).contains(priority) else {
                throw PinError(description: "--realtime-priority \(priority): allowed: 1...99")
            }
            var parameters = sched_param(sched_priority: Int32(priority))
            let failures = forEachThread { tid in sched_setscheduler(tid, SCHED_FIFO, &parameters) }
            if !failures.isEmpty {
                throw PinError(
                    description: "cannot use real-time priority \(priority) (\(failures.joined(separator: "; "))); "
                        + "run as root or grant CAP_SYS_NICE, or leave --realtime-priority out")
            }
        #else
            throw PinError(description: "real-time priority is supported on Linux only")
        #endif
    }

    #if os(Linux)
        /// Calls `body` with the id of every thread of this process (0, the caller, when they cannot be listed);
        /// returns "thread ID: error" for each call that did not return 0.
        private static func forEachThread(_ body: (pid_t) -> Int32) -> [String] {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            var failures: [String] = []
            for task in tasks.isEmpty ? ["0"] : tasks {
                guard let tid = Int32(task) else { continue }
                if body(tid) != 0 { failures.append("thread \(tid): \(String(cString: strerror(errno)))") }
            }
            return failures
        }
    #endif
}
