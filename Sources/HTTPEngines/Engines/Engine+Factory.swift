/// Returns the engine that implements `kind`.
public func makeEngine(_ kind: EngineKind) -> any Engine {
    switch kind {
    case .sync: return SyncEngine()
    case .threaded: return ThreadedEngine()
    case .async: return AsyncEngine()
    case .asyncAHC: return AsyncAHCEngine()
    case .asyncCurl: return AsyncCurlEngine()
    }
}
