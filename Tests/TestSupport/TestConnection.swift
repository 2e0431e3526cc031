import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a test client read.
public struct TestResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The header fields, in order.
    public var headers: [(String, String)]
    /// The body bytes.
    public var body: [UInt8]

    /// The first value of header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a test client request failed: "closed", "reset", "timeout" or a socket error.
public struct TestClientError: Error, CustomStringConvertible {
    public var description: String
}

/// A tiny blocking HTTP/1.1 client over a POSIX socket, for talking to the server on loopback.
public final class TestConnection {
    /// The connected socket.
    public let fd: Int32
    private var buffered: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; reads give up after `timeout` seconds.
    public init(port: Int, timeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket: \(errno)") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // No close here: a class whose stored properties are all set runs deinit (which closes) when init throws.
        guard result == 0 else { throw TestClientError(description: "connect: \(errno)") }
    }

    deinit {
        Glibc.close(fd)
    }

    /// Sends `text` as UTF-8.
    public func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    /// Sends every byte of `bytes`.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestClientError(description: "send: errno \(errno)") }
            offset += n
        }
    }

    /// Sends a GET with the given extra headers.
    public func get(_ target: String, headers: [(String, String)] = [], method: String = "GET", body: String = "")
        throws
        -> TestResponse
    {
        var request = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "PUT" || method == "POST" { request += "Content-Length: \(body.utf8.count)\r\n" }
        request += "\r\n" + body
        try send(request)
        return try readResponse()
    }

    /// Receives more bytes; returns false on orderly close. Throws on reset or timeout.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            buffered.append(contentsOf: chunk[0..<n])
            return true
        }
        if n == 0 { return false }
        if errno == ECONNRESET { throw TestClientError(description: "reset") }
        if errno == EAGAIN || errno == EWOULDBLOCK { throw TestClientError(description: "timeout") }
        throw TestClientError(description: "recv: errno \(errno)")
    }

    /// Reads one response with a Content-Length body. Throws "closed", "reset" or "timeout".
    public func readResponse() throws -> TestResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            if buffered.count >= 4 {
                for i in 0...(buffered.count - 4) where buffered[i..<(i + 4)].elementsEqual(separator) {
                    headEnd = i
                    break
                }
            }
            if headEnd == nil {
                guard try fill() else { throw TestClientError(description: "closed") }
            }
        }
        let headText = String(decoding: buffered[0..<headEnd!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw TestClientError(description: "bad status line: \(headText)")
        }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let bodyStart = headEnd! + 4
        while buffered.count < bodyStart + length {
            guard try fill() else { throw TestClientError(description: "closed in body") }
        }
        let body = Array(buffered[bodyStart..<(bodyStart + length)])
        buffered.removeFirst(bodyStart + length)
        return TestResponse(status: status, headers: headers, body: body)
    }

    /// Waits for the server to close: "closed" (FIN), "reset" (RST) or "timeout"; bytes before it are dropped.
    public func waitForClose() -> String {
        do {
            while try fill() {}
            return "closed"
        } catch {
            return (error as? TestClientError)?.description ?? "\(error)"
        }
    }
}

/// One request on a new connection.
public func httpGet(
    port: Int, _ target: String, headers: [(String, String)] = [], method: String = "GET", body: String = ""
)
    throws -> TestResponse
{
    try TestConnection(port: port).get(target, headers: headers, method: method, body: body)
}

/// The port of a base URL like `http://127.0.0.1:41234`.
public func port(of baseURL: String) -> Int {
    Int(baseURL.split(separator: ":").last!)!
}

/// What became of one request: the status answered, or how the connection ended ("closed", "reset", "timeout").
public func requestOutcome(port: Int, _ target: String, method: String = "GET", timeout: Double = 5) -> String {
    do {
        return String(try TestConnection(port: port, timeout: timeout).get(target, method: method).status)
    } catch {
        return (error as? TestClientError)?.description ?? "\(error)"
    }
}
