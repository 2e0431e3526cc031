import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny blocking HTTP/1.1 server on 127.0.0.1 port 0 for fault tests the mock server cannot express:
/// a server that accepts and never answers, and a server killed mid-run. One thread per connection.
public final class RawTestServer: Sendable {
    /// How the server answers.
    public enum Mode: Sendable {
        /// Answers `200 ok` with keep-alive (or the status the closure returns for (request id, attempt)).
        case http(@Sendable (Int, Int) -> Int)
        /// Accepts connections and never sends a byte.
        case silent
    }

    /// The port it listens on.
    public let port: Int
    private let listenFD: Int32
    private let mode: Mode
    /// When set, the server kills itself on receiving this many requests (that request gets no answer).
    private let killAfter: Int?
    /// One request the server read, in arrival order.
    public struct ServedRequest: Sendable {
        /// The `X-Request-Id` header, or -1.
        public var id: Int
        /// The `X-Attempt` header, or 1.
        public var attempt: Int
        /// Connections accepted so far, when this request arrived.
        public var acceptedConnections: Int
    }

    private struct State {
        var connections: [Int32] = []
        var accepted = 0
        var requests = 0
        var served: [ServedRequest] = []
        var closed = false
    }
    private let state = Mutex(State())

    /// Starts listening on 127.0.0.1 port 0 and accepting connections; `killAfter` as on the property.
    public init(_ mode: Mode, killAfter: Int? = nil) throws {
        self.mode = mode
        self.killAfter = killAfter
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 1024) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.listenFD = fd
        let acceptor = Thread { [self] in acceptLoop() }
        acceptor.stackSize = 256 * 1024
        acceptor.start()
    }

    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Connections accepted so far.
    public var acceptedConnections: Int { state.withLock { $0.accepted } }
    /// Requests read so far.
    public var servedRequests: Int { state.withLock { $0.requests } }
    /// Every request read so far, in arrival order.
    public var served: [ServedRequest] { state.withLock { $0.served } }

    /// Closes the listener and drops every open connection (as a killed server process would).
    public func kill() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
            close(listenFD)
            for fd in state.connections {
                Glibc.shutdown(fd, Int32(SHUT_RDWR))
            }
            if case .silent = mode {
                for fd in state.connections { close(fd) }
                state.connections = []
            }
        }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            let open = state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.connections.append(fd)
                state.accepted += 1
                return true
            }
            guard open else {
                close(fd)
                return
            }
            if case .http(let respond) = mode {
                let worker = Thread { [self] in serve(fd, respond) }
                worker.stackSize = 256 * 1024
                worker.start()
            }
        }
    }

    private func serve(_ fd: Int32, _ respond: @Sendable (Int, Int) -> Int) {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { forget(fd) }
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            buffer += chunk[0..<n]
            while let end = headerEnd(buffer) {
                let head = String(decoding: buffer[0..<end], as: UTF8.self).lowercased()
                buffer.removeFirst(end + 4)
                let id = headerValue(head, "x-request-id") ?? -1
                let attempt = headerValue(head, "x-attempt") ?? 1
                let closeAfter = head.contains("\r\nconnection: close")
                let served = state.withLock { state -> Int in
                    state.requests += 1
                    state.served.append(ServedRequest(id: id, attempt: attempt, acceptedConnections: state.accepted))
                    return state.requests
                }
                if let killAfter, served >= killAfter {
                    kill()
                    return
                }
                let status = respond(id, attempt)
                let response =
                    "HTTP/1.1 \(status) X\r\nContent-Length: 2\r\n"
                    + (closeAfter ? "Connection: close\r\n" : "") + "\r\nok"
                // MSG_NOSIGNAL: a client that hung up gets EPIPE, not a SIGPIPE that would end the test process.
                let written = response.utf8CString.withUnsafeBufferPointer {
                    send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL))
                }
                if written <= 0 || closeAfter { return }
            }
        }
    }

    private func forget(_ fd: Int32) {
        let owned = state.withLock { state -> Bool in
            guard let index = state.connections.firstIndex(of: fd) else { return false }
            state.connections.remove(at: index)
            return true
        }
        if owned { close(fd) }
    }

    private func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    private func headerValue(_ head: String, _ name: String) -> Int? {
        guard let range = head.range(of: "\r\n\(name):") else { return nil }
        let rest = head[range.upperBound...].prefix { !$0.isNewline }
        return Int(rest.trimmingCharacters(in: .whitespaces))
    }

    deinit {
        kill()
    }
}
