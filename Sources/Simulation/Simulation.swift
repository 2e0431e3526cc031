import AsyncPatterns
import HTTPEngines
import MockServer

/// A discrete-event simulation, in virtual time, of an engine cell's clients against the mock server.
///
/// The clients are the engines' load models (closed loop, fixed-rate and Poisson open loops, warm-up, per-attempt
/// timeout) driving the library's own `ResiliencePolicy` on a `VirtualClock`; the server is the mock server's own
/// fault and latency decisions and its capacity model; each attempt also pays a network round trip. A run is
/// single-threaded and deterministic: the same inputs give the same samples on any machine at any speed.
public enum Simulation {
    /// Simulates `configuration` (its `baseURL`, `pooling`, `connectTimeout`, `eventLoops` and `shutdownGrace` play
    /// no part) against a server configured as `server`, with `resilience` (nil: one attempt per request) seeded
    /// with `seed`, as the runner seeds the live policy. Every sent attempt pays one round trip of `network`: half on
    /// the way to the server, half back, drawn per (seed, request id, attempt) when it is random.
    ///
    /// Request ids are the live engines' `X-Request-Id` text (the decimal id), so a (server seed, request id,
    /// attempt) gets the fault it gets live. The endpoint is `/get` or `/contention/{key}` (an optimistic write to
    /// the key: 409 when another write committed during its service time). Throws `SimulationError` for a setting
    /// the simulation cannot use (a non-positive rate, concurrency or timeout; a negative network delay; another
    /// endpoint), and `ResilienceConfigurationError` when `resilience` does not validate.
    public static func run(
        configuration: EngineConfiguration, server: MockServerConfiguration,
        resilience: ResilienceConfiguration? = nil, seed: UInt64, network: NetworkDelay = .fixed(.zero)
    ) throws -> SimulationResult {
        let endpoint = try validate(configuration, network: network)
        let clock = VirtualClock()
        var policy: ResiliencePolicy<VirtualClock>?
        if let resilience, resilience != .none {
            // Retry-After dates resolve against a fixed wall clock; the server sends whole seconds anyway.
            // The simulation runs on one thread: the policy takes no lock.
            policy = try ResiliencePolicy(
                configuration: resilience, seed: seed, clock: clock, wallClock: .fixed(.zero),
                confinedToOneThread: true)
        }
        var simulator = Simulator(
            configuration: configuration, server: ServerModel(server), policy: policy, clock: clock,
            network: NetworkModel(network, seed: seed), contentionKey: endpoint.contentionKey)
        simulator.run()
        var snapshot = policy?.snapshot()
        if snapshot?.limiterLimit != nil {
            // The simulator waits for permits itself (the limiter's own waits block a thread or a task).
            snapshot?.limiterWaits = simulator.gateWaits
            snapshot?.limiterTimeouts = simulator.gateTimeouts
        }
        return SimulationResult(
            samples: simulator.samples, summary: simulator.summary(), resilience: snapshot,
            breakerTransitions: policy?.breakerTransitions ?? [], resilienceEvents: policy?.drainEvents() ?? [],
            server: simulator.serverCounters, events: simulator.eventsProcessed)
    }

    /// The endpoints the simulation models.
    private enum Endpoint {
        case get
        case contention(key: String)

        var contentionKey: String? {
            if case .contention(let key) = self { return key }
            return nil
        }
    }

    private static func validate(_ configuration: EngineConfiguration, network: NetworkDelay) throws -> Endpoint {
        let path = configuration.path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let endpoint: Endpoint
        if path == "/get" {
            endpoint = .get
        } else if let key = MockServer.contentionKey(path: path) {
            endpoint = .contention(key: key)
        } else if path.hasPrefix("/contention/") {
            throw SimulationError.invalid(
                key: "path", value: configuration.path,
                allowed: "/contention/{key} with a key of 1...256 bytes, no '/'")
        } else {
            throw SimulationError.unsupported(
                "the endpoint \(configuration.path) (only /get and /contention/{key} are modelled)")
        }
        guard configuration.concurrency >= 1 else {
            throw SimulationError.invalid(
                key: "concurrency", value: "\(configuration.concurrency)", allowed: "an integer >= 1")
        }
        guard configuration.requests >= 0, configuration.warmupRequests >= 0 else {
            throw SimulationError.invalid(
                key: "requests", value: "\(configuration.requests), warm-up \(configuration.warmupRequests)",
                allowed: "integers >= 0")
        }
        switch configuration.load {
        case .closed: break
        case .openFixed(let rate), .openPoisson(let rate):
            guard rate > 0, rate.isFinite else {
                throw SimulationError.invalid(key: "rate", value: "\(rate)", allowed: "a finite rate > 0 per second")
            }
        }
        guard configuration.requestTimeout > .zero else {
            throw SimulationError.invalid(
                key: "requestTimeout", value: "\(configuration.requestTimeout)", allowed: "a duration > 0")
        }
        try network.validate()
        return endpoint
    }
}
