import NIOHTTP1

/// A parsed request target.
enum Route: Equatable {
    case health
    case get
    case status(Int)
    case delay(nanoseconds: Int64)
    case rateLimited
    case fail500
    case bytes(Int)
    case contention(key: String)
    case adminCounters
    case adminReset
    case adminConfig
    case adminConfigRead
    case badParameter(String)
    case methodNotAllowed(allow: String)
    case notFound

    /// Largest `/bytes/{n}` body, 1 MiB.
    static let maximumBytes = 1 << 20
    /// Longest `/delay/{s}`, 60 s.
    static let maximumDelaySeconds = 60.0

    /// Whether the request goes through admission (counters by phase, faults, capacity).
    var isScheduled: Bool {
        switch self {
        case .get, .status, .delay, .rateLimited, .fail500, .bytes, .contention: true
        default: false
        }
    }

    var isAdmin: Bool {
        switch self {
        case .adminCounters, .adminReset, .adminConfig, .adminConfigRead: true
        default: false
        }
    }

    /// Parses the path part of a request target (the query excluded).
    static func parse(method: HTTPMethod, path: Substring) -> Route {
        if path.hasPrefix("/__admin/") {
            switch path.dropFirst(9) {
            case "counters":
                return method == .GET ? .adminCounters : .methodNotAllowed(allow: "GET")
            case "reset":
                return method == .POST ? .adminReset : .methodNotAllowed(allow: "POST")
            case "config":
                switch method {
                case .PUT: return .adminConfig
                case .GET: return .adminConfigRead
                default: return .methodNotAllowed(allow: "GET, PUT")
                }
            default:
                return .notFound
            }
        }
        let route = parseGET(path: path)
        switch route {
        case .notFound:
            return route
        case .contention:
            return method == .GET || method == .POST || method == .PUT
                ? route : .methodNotAllowed(allow: "GET, POST, PUT")
        default:
            return method == .GET ? route : .methodNotAllowed(allow: "GET")
        }
    }

    private static func parseGET(path: Substring) -> Route {
        switch path {
        case "/health": return .health
        case "/get": return .get
        case "/429": return .rateLimited
        case "/500": return .fail500
        default: break
        }
        if let parameter = parameter(of: path, prefix: "/status/") {
            guard let code = Int(parameter), (200...599).contains(code) else {
                return .badParameter("status code must be an integer in 200...599, got '\(parameter)'")
            }
            return .status(code)
        }
        if let parameter = parameter(of: path, prefix: "/delay/") {
            guard let seconds = Double(parameter), seconds.isFinite, seconds >= 0 else {
                return .badParameter("delay must be a number of seconds >= 0 (capped at 60), got '\(parameter)'")
            }
            return .delay(nanoseconds: Int64(min(seconds, maximumDelaySeconds) * 1_000_000_000))
        }
        if let parameter = parameter(of: path, prefix: "/bytes/") {
            guard let n = Int(parameter), n >= 0 else {
                return .badParameter("byte count must be an integer >= 0 (capped at 1048576), got '\(parameter)'")
            }
            return .bytes(min(n, maximumBytes))
        }
        if let parameter = parameter(of: path, prefix: "/contention/") {
            guard !parameter.isEmpty, parameter.utf8.count <= 256, !parameter.contains("/") else {
                return .badParameter("contention key must be 1...256 bytes without '/'")
            }
            return .contention(key: String(parameter))
        }
        return .notFound
    }

    /// The rest of `path` after `prefix`, if it starts with it and the rest is short enough to be a parameter.
    private static func parameter(of path: Substring, prefix: String) -> Substring? {
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count)
        return rest.utf8.count <= 256 ? rest : rest.prefix(256)
    }
}
