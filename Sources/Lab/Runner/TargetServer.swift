import Foundation

/// A server of the user's own that `experiments run --target URL` measures instead of the mock server.
/// Every request goes to the URL's path (and query); the spec's `path` and its server settings are not used.
struct TargetServer: Sendable, Hashable {
    /// The parameters only the mock server honours: against a target they are recorded but not in force. A spec
    /// that injects faults (`errorRate` above 0) is skipped altogether (see `skipReason(for:)`), so `errorRate` is
    /// left out.
    static let mockOnlyParameters = CellPlan.serverParameters.filter { $0 != "errorRate" }

    /// The mock server's endpoints that only it has, whose answers are its own faults, delays or shared state, as in
    /// its `Route` (which is not public): `/429`, `/500`, `/status/{code}`, `/delay/{s}` and `/contention/{key}`.
    /// A path ending in `/` is a prefix. `/get`, `/health` and `/bytes/{n}` are plain content a target can serve.
    static let mockOnlyPaths = ["/429", "/500", "/status/", "/delay/", "/contention/"]

    /// Whether `path` (a request target; its query is ignored) is an endpoint only the mock server has.
    static func isMockOnly(path: String) -> Bool {
        let path = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return mockOnlyPaths.contains { $0.hasSuffix("/") ? path.hasPrefix($0) : path == $0 }
    }

    /// `http://HOST[:PORT]`, what the engines connect to.
    let baseURL: String
    /// The path every request asks for, `/` when the URL has none.
    let path: String
    /// The URL as given.
    let url: String

    /// Parses `--target`.
    /// - Throws: `LabError` naming the option, the value and what is allowed.
    init(_ text: String) throws {
        guard let components = URLComponents(string: text), components.scheme == "http",
            let host = components.host, !host.isEmpty
        else {
            throw LabError(
                "--target: `\(text)` is not an http:// URL; give one such as http://127.0.0.1:8080/index.html "
                    + "(https is not supported)")
        }
        let port = components.port.map { ":\($0)" } ?? ""
        baseURL = "http://\(host.contains(":") ? "[\(host)]" : host)\(port)"
        var path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { path += "?" + query }
        self.path = path
        url = text
    }

    /// Why `spec` cannot run against this target, or nil when it can: it injects faults or sets the mock
    /// server's `server` settings (`ExperimentSpec.needsMockServer`), or it asks for an endpoint only the mock
    /// server has, which a target cannot stand in for.
    func skipReason(for spec: ExperimentSpec) -> String? {
        if spec.needsMockServer {
            return "it injects faults (errorRate or the spec's `server` settings), which only the mock server can do, "
                + "not --target"
        }
        let axis = spec.axes.first { $0.name == "path" }?.values ?? []
        let paths = (axis + [spec.fixed["path"]].compactMap { $0 }).map(\.description)
        let mockOnly = paths.filter(Self.isMockOnly(path:))
        guard !mockOnly.isEmpty else { return nil }
        return "its path \(mockOnly.joined(separator: ", ")) is an endpoint only the mock server has (its faults, "
            + "delays or shared state), and --target would send every request to \(path) instead"
    }

    /// One line for the sweep's log: where the spec's requests go, and which of its settings are not in force.
    func note(for spec: ExperimentSpec) -> String {
        let ignored = Self.mockOnlyParameters.compactMap { name -> String? in
            if let axis = spec.axes.first(where: { $0.name == name }) {
                return "\(name)=" + axis.values.map(\.description).joined(separator: "|")
            }
            return spec.fixed[name].map { "\(name)=\($0)" }
        }
        var line = "\(spec.name): every request goes to \(baseURL)\(path)"
        if !ignored.isEmpty {
            line += "; only the mock server honours \(ignored.joined(separator: ", ")), so they are not in force"
        }
        return line
    }
}
