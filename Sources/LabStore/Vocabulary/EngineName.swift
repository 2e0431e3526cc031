/// The name of what ran a cell's client: the `cells.engine` column and the `engine` of specs and reports.
///
/// The runner's `CellEngine` spells the same names (a test holds them equal); the report, which imports no engine,
/// names engines through this type.
public enum EngineName: String, Sendable, Hashable, CaseIterable, Codable {
    /// One thread, one blocking request after another: the baseline of speed-ups.
    case sync
    /// N OS threads, each with its own blocking client.
    case threaded
    /// Swift structured concurrency over SwiftNIO.
    case async
    /// The async engine over AsyncHTTPClient.
    case asyncAHC = "async_ahc"
    /// The async engine over libcurl multi.
    case asyncCurl = "async_curl"
    /// wrk, the reference load generator: it stores figures, not samples.
    case wrk
    /// The discrete-event simulation (`Simulation`) of the cell's clients and the mock server, in virtual time:
    /// its samples' times are virtual nanoseconds, and it has no CPU, memory or server-process figures.
    case sim
}
