import Foundation

/// Ties the server's life to the process that started it, through a pipe on standard input.
///
/// The runner gives the server a pipe as standard input and keeps the write end. However the runner ends —
/// exit, SIGTERM, SIGKILL, the OOM killer — the kernel closes that end, the server reads end-of-file, and it
/// exits. Unlike `PR_SET_PDEATHSIG`, this does not depend on which thread started the child. A server watched
/// this way ignores SIGINT and SIGTERM: a scheduler's `scancel` or a terminal's Ctrl-C signals every process of
/// the job, and the runner must be able to finish its current cell against a server that is still there.
public enum ParentWatch {
    /// Ignores SIGINT and SIGTERM, and starts a thread that waits for end-of-file (or an error) on standard
    /// input, then exits the process.
    public static func exitWhenStandardInputCloses() {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let count = read(STDIN_FILENO, &buffer, buffer.count)
                if count > 0 { continue }
                if count < 0 && errno == EINTR { continue }
                break
            }
            exit(0)
        }
        thread.name = "parent-watch"
        thread.start()
    }
}
