import Foundation

/// A server of the user's own that `experiments run --target URL` measures instead of the mock server.
/// Every request goes to the URL's path (and query); the spec's `path` and its server settings are not used.
struct TargetServer: Sendable, Hashable {
    /// The parameters only the mock server honours: against a target they are recorded but not in force.
    static let mockOnlyParameters = ["latencyMs", "jitter", "latencyModel", "path"]

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
