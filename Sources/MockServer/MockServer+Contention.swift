import NIOHTTP1

extension MockServer {
    /// The key of a `/contention/{key}` path (its query excluded) as the live server routes it, or nil when the
    /// path is not a valid contention write (another endpoint, or a key the server answers 400 to).
    package static func contentionKey(path: Substring) -> String? {
        guard case .contention(let key) = Route.parse(method: .PUT, path: path) else { return nil }
        return key
    }
}
