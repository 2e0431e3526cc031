import Foundation
import Lab

#if canImport(Glibc)
    import Glibc
#endif

/// A figure that could not be measured here, with why (e.g. wrk missing).
struct PerfSkip: Error, CustomStringConvertible {
    let description: String
    /// Figures of the same group measured before the skip.
    var partial: [PerfFigure] = []
    init(_ description: String, partial: [PerfFigure] = []) {
        self.description = description
        self.partial = partial
    }
}

/// Runs the external programs the perf harness compares against.
extension ExternalTools {
    /// Runs a program to completion and returns its standard output (standard error is discarded).
    static func output(_ executable: String, _ arguments: [String]) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A loopback TCP port free at the time of the call.
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PerfSkip("socket() failed (errno \(errno))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw PerfSkip("bind() on 127.0.0.1 failed (errno \(errno))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }
}

/// wrk, the reference HTTP load generator.
enum Wrk {
    /// The command line used, for the figures' detail.
    static func commandLine(url: String, connections: Int, seconds: Int) -> String {
        "wrk -t1 -c\(connections) -d\(seconds)s \(url)"
    }

    /// Runs `wrk -t1 -cN -dSs URL` and returns its "Requests/sec".
    /// - Throws: `PerfSkip` when wrk is missing or prints no rate.
    static func requestsPerSecond(url: String, connections: Int, seconds: Int = 5) throws -> Double {
        guard url.hasPrefix("http://127.0.0.1") else { throw PerfSkip("wrk is only run against loopback, not \(url)") }
        guard let wrk = ExternalTools.find("wrk") else {
            throw PerfSkip("wrk is not installed (make perf installs it: apt-get install wrk)")
        }
        let (status, text) = try ExternalTools.output(
            wrk, ["-t1", "-c\(connections)", "-d\(seconds)s", "--timeout", "5s", url])
        for line in text.split(separator: "\n") where line.contains("Requests/sec:") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        throw PerfSkip("wrk exited \(status) without a Requests/sec line: \(text.suffix(300))")
    }
}

/// nginx serving one small static file from a temporary prefix on a free loopback port, for `nginx.static_rps`.
final class StaticNginx {
    private let process: Process
    private let folder: String
    /// The URL of the static file.
    let url: String

    /// Starts nginx with `workers` worker processes and waits (up to 10 s) until it accepts connections.
    /// - Throws: `PerfSkip` when nginx is missing or does not start.
    init(workers: Int, body: String = "{\"status\":\"ok\"}") throws {
        guard let nginx = ExternalTools.find("nginx") else {
            throw PerfSkip("nginx is not installed (make perf installs it: apt-get install nginx-light)")
        }
        folder = try BenchmarkSupport.temporaryFolder("perf-nginx")
        let root = folder + "/www"
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try body.write(toFile: root + "/health", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: root + "/health")
        let port = try ExternalTools.freeLoopbackPort()
        let user = geteuid() == 0 ? "user root root;\n" : ""
        let configuration = """
            \(user)worker_processes \(workers);
            pid \(folder)/nginx.pid;
            error_log \(folder)/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(folder)/body;
                default_type application/json;
                keepalive_requests 1000000;
                server {
                    listen 127.0.0.1:\(port);
                    root \(root);
                    location / { }
                }
            }

            """
        try configuration.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = ["-p", folder, "-c", folder + "/nginx.conf", "-g", "daemon off;"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        url = "http://127.0.0.1:\(port)/health"
        let deadline = Date().addingTimeInterval(10)
        while !ExternalTools.accepts(port: port) {
            if !process.isRunning || Date() > deadline {
                let log = (try? String(contentsOfFile: folder + "/error.log", encoding: .utf8)) ?? ""
                stop()
                throw PerfSkip("nginx did not start: \(log.suffix(300))")
            }
            usleep(20_000)
        }
    }

    /// Stops nginx (SIGTERM to the master, which stops its workers) and removes its folder.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    deinit { stop() }
}
