import NIOCore

/// Where the async engine sends its GETs: the server's resolved address, the `Host` header and the path.
struct HTTPTarget: Sendable {
    let address: SocketAddress
    let hostHeader: String
    let path: String

    /// Parses `http://HOST[:PORT]` and resolves HOST once.
    /// - Throws: `HTTPTargetError` for another scheme, a bad port, or a host that does not resolve.
    init(baseURL: String, path: String) throws {
        let prefix = "http://"
        guard baseURL.lowercased().hasPrefix(prefix) else {
            throw HTTPTargetError(baseURL: baseURL, reason: "only http:// URLs are supported")
        }
        var authority = Substring(baseURL.dropFirst(prefix.count))
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        var host = authority
        var port = 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let parsed = Int(rest.dropFirst()), (1...65535).contains(parsed) else {
                    throw HTTPTargetError(baseURL: baseURL, reason: "the port must be a number from 1 to 65535")
                }
                port = parsed
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let parsed = Int(authority[authority.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw HTTPTargetError(baseURL: baseURL, reason: "the port must be a number from 1 to 65535")
            }
            port = parsed
        }
        guard !host.isEmpty else { throw HTTPTargetError(baseURL: baseURL, reason: "the host is missing") }
        do {
            address = try SocketAddress.makeAddressResolvingHost(String(host), port: port)
        } catch {
            throw HTTPTargetError(baseURL: baseURL, reason: "the host does not resolve (\(error))")
        }
        hostHeader = String(authority)
        self.path = path.isEmpty ? "/" : path
    }
}

/// A base URL the async engine cannot use.
public struct HTTPTargetError: Error, CustomStringConvertible {
    /// The URL as given.
    public let baseURL: String
    /// What is wrong with it.
    public let reason: String

    public var description: String {
        "cannot send to base URL \"\(baseURL)\": \(reason); use a URL such as http://127.0.0.1:8080"
    }
}
