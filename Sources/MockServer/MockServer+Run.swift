import ServiceLifecycle

extension MockServer {
    /// Serves `configuration` until SIGINT or SIGTERM, then shuts down gracefully.
    ///
    /// `onListening` gets the base URL once the port is bound. Throws `MockServerConfigurationError` for a bad
    /// configuration, or the bind error.
    /// With `handlingSignals` false, it serves until the process exits (see `ParentWatch`).
    public static func runUntilSignalled(
        _ configuration: MockServerConfiguration, handlingSignals: Bool = true,
        onListening: @escaping @Sendable (String) -> Void
    ) async throws {
        let server = try MockServer(configuration: configuration) { running in onListening(running.baseURL) }
        let group = ServiceGroup(
            configuration: .init(
                services: [server], gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [],
                logger: .init(label: "mock-server"))
        )
        try await group.run()
    }
}
