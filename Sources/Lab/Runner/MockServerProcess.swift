import AsyncHTTPClient
import Foundation
import LabStore
import MockServer
import NIOCore
import NIOHTTP1

/// The mock server running as its own process, so its CPU use never counts against the engines.
/// The runner configures it per cell over its admin endpoints and reads its counters after each cell.
package final class MockServerProcess: Sendable {
    private let process: Process
    /// The write end of the server's standard input: the server exits when it closes, so it never outlives
    /// this process (see `ParentWatch`).
    private let lifeline: Pipe
    /// The server's base URL, e.g. `http://127.0.0.1:41234`.
    package let baseURL: String
    /// The server's process id.
    package var pid: Int32 { process.processIdentifier }
    /// The CPU the server is pinned to, if any.
    package let cpu: Int?

    /// Starts `executable` on a free loopback port, pinned to `cpu` with one event loop when given, in the real-time
    /// class at `realtimePriority` when given, and waits for it to listen.
    /// - Throws: `LabError` when the binary is missing or the server does not start within 10 s.
    package init(executable: String, cpu: Int?, realtimePriority: Int? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw LabError(
                "mock server binary not found at \(executable). Build it with `swift build -c release` "
                    + "(or `make install`), or pass --mock-server PATH.")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        var arguments = ["--host", "127.0.0.1", "--port", "0", "--exit-with-stdin"]
        if let cpu { arguments += ["--cpu", String(cpu), "--event-loops", "1"] }
        if let realtimePriority { arguments += ["--realtime-priority", String(realtimePriority)] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        let lifeline = Pipe()
        process.standardInput = lifeline
        try process.run()
        self.process = process
        self.lifeline = lifeline

        // The first line of standard output is `listening http://HOST:PORT`.
        var line = Data()
        let handle = output.fileHandleForReading
        let deadline = Date().addingTimeInterval(10)
        while !line.contains(UInt8(ascii: "\n")) && Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("listening "), let url = text.split(separator: " ").last else {
            try? lifeline.fileHandleForWriting.close()
            throw LabError("the mock server did not start (it printed: \(text.isEmpty ? "nothing" : text))")
        }
        baseURL = String(url)
        self.cpu = cpu
    }

    /// Stops the server by closing its lifeline (it ignores SIGTERM), and waits for it to exit.
    package func stop() {
        guard process.isRunning else { return }
        try? lifeline.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Applies a configuration (a JSON object) and zeroes the counters, once the previous cell's requests have
    /// left the server.
    package func configure(json: String, client: HTTPClient) async throws {
        try await drain(client: client)
        try await send(.PUT, "/__admin/config", body: json, client: client)
        try await send(.POST, "/__admin/reset", body: nil, client: client)
        ProcessFigures.resetPeakRSS(pid: pid)
    }

    /// Reads the counters since the last reset, with the server process's CPU and peak memory.
    package func figures(client: HTTPClient, cpuBefore: ProcessFigures.CPUReading?) async throws -> ServerFigures {
        let json = try await send(.GET, "/__admin/counters", body: nil, client: client)
        var figures = try ServerFigures.decode(countersJSON: json)
        if let before = cpuBefore, let after = ProcessFigures.cpuReading(pid: pid) {
            (figures.cpuUserSeconds, figures.cpuSysSeconds) = after.spent(since: before)
        }
        figures.peakRSSBytes = ProcessFigures.peakRSSBytes(pid: pid)
        return figures
    }

    /// Waits, for at most `limit`, until no request is queued or in service at the server. A client that stopped
    /// (a `wrk` cell ends by closing its connections, a timed-out request is abandoned) leaves its requests at the
    /// server, which goes on serving them; a reset would keep them, and the next cell would meet the previous one's
    /// backlog (a collapsed open-loop cell can leave its whole queue). Past the limit it says so and goes on.
    private func drain(client: HTTPClient, limit: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + limit
        var left = try await counters(client: client)
        while left.inFlight + left.queued > 0 {
            guard ContinuousClock.now < deadline else {
                FileHandle.standardError.write(
                    Data(
                        ("warning: the mock server still has \(left.inFlight) requests in service and \(left.queued) "
                            + "queued after waiting \(limit) for the previous cell's work to finish; the next cell "
                            + "starts with them\n").utf8))
                return
            }
            try await Task.sleep(for: .milliseconds(5))
            left = try await counters(client: client)
        }
    }

    private func counters(client: HTTPClient) async throws -> MockServerCounters {
        try ServerFigures.counters(try await send(.GET, "/__admin/counters", body: nil, client: client))
    }

    @discardableResult
    private func send(_ method: HTTPMethod, _ path: String, body: String?, client: HTTPClient) async throws -> String {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let text = String(buffer: bytes)
        guard (200..<300).contains(response.status.code) else {
            throw LabError("the mock server refused \(method) \(path): \(response.status.code) \(text)")
        }
        return text
    }
}

extension MockServerProcess {
    /// Starts the server as the runner and `make perf` use it: with `pin` and at least two CPUs, the server is
    /// pinned to the last CPU with one event loop and this process to the others (see `CPUPlacement`).
    package static func start(executable: String, pin: Bool, realtimePriority: Int? = nil) throws -> MockServerProcess {
        guard pin, let cpu = CPUPlacement.serverCPU else {
            return try MockServerProcess(executable: executable, cpu: nil, realtimePriority: realtimePriority)
        }
        CPUPlacement.pinClient()
        return try MockServerProcess(executable: executable, cpu: cpu, realtimePriority: realtimePriority)
    }
}

extension ServerFigures {
    /// Reads the mock server's `/__admin/counters` document.
    static func decode(countersJSON: String) throws -> ServerFigures {
        let counters = try counters(countersJSON)
        return ServerFigures(
            requests: Int64(counters.requests), connections: Int64(counters.connections),
            serviceMeanNs: counters.serviceTime.meanNs, serviceP99Ns: counters.serviceTime.p99Ns,
            countersJSON: countersJSON)
    }

    static func counters(_ json: String) throws -> MockServerCounters {
        do {
            return try JSONDecoder().decode(MockServerCounters.self, from: Data(json.utf8))
        } catch {
            throw LabError("the mock server's counters do not decode (\(error)): \(json.prefix(200))")
        }
    }
}

/// A runner failure with a message that says what to do.
public struct LabError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
