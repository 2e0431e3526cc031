import LabStore
import Testing

@testable import Reporting

/// The chart planner names its axes with the shared `ParameterName`s, and `jitter` is the server's latency jitter,
/// a number on an axis, not a backoff strategy.
@Suite struct ChartAxisTests {
    @Test func jitterIsServerLatencyJitter() {
        #expect(ChartPlanner.axisLabel("jitter") == "server latency jitter, jitter (fraction of latencyMs)")
        #expect(!ChartPlanner.treatmentParameters.contains(.jitter))
    }

    @Test func backoffAndBudgetAreTreatments() {
        #expect(ChartPlanner.treatmentParameters == [.budget, .backoff])
        #expect(ChartPlanner.axisLabel("backoff") == "backoff strategy (backoff)")
        #expect(ChartPlanner.axisLabel("budget") == "retry budget (budget)")
    }

    /// Names that are no parameter get the generic label, whatever they look like.
    @Test(arguments: ["offeredRate", "failureRate", "retry_budget", "backoffStrategy"])
    func unknownSpellingsGetTheGenericLabel(axis: String) {
        #expect(ChartPlanner.axisLabel(axis) == axis)
    }

    @Test func knownAxesKeepTheirLabels() {
        #expect(ChartPlanner.axisLabel("rate") == "offered load, rate (requests/s)")
        #expect(ChartPlanner.axisLabel("errorRate") == "injected error rate, errorRate (fraction of attempts)")
        #expect(ChartPlanner.axisLabel("concurrency") == "concurrency (requests in flight)")
        #expect(ChartPlanner.axisLabel("timeoutMs") == "timeoutMs (ms)")
    }
}
