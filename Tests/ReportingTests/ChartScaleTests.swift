import ReportingSynthetic
import Testing

@testable import Reporting

/// A metric panel whose values span two decades or more is drawn on a log y axis, so its small values do not lie
/// on the axis; panels with a zero, a fixed range or a narrow span stay linear.
@Suite("Chart scales")
struct ChartScaleTests {
    static func panel(_ values: [Double]) -> ChartPanel {
        ChartPanel(
            xLabel: "x", yLabel: "y",
            series: [
                ChartSeries(
                    title: "s", style: .errorLines, color: "#000000",
                    points: values.enumerated().map { (Double($0.offset), $0.element, $0.element, $0.element) })
            ])
    }

    @Test
    func panelsSpanningTwoDecadesNeedALogAxis() {
        #expect(ChartPlanner.needsLogY(Self.panel([92, 1_500, 24_700])))
        #expect(ChartPlanner.needsLogY(Self.panel([1, 100])))
        #expect(!ChartPlanner.needsLogY(Self.panel([2, 150])), "a factor of 75")
        #expect(!ChartPlanner.needsLogY(Self.panel([5_000, 18_000])))
        #expect(!ChartPlanner.needsLogY(Self.panel([0, 10, 5_000])), "a zero cannot be drawn on a log axis")
        #expect(!ChartPlanner.needsLogY(Self.panel([])))
        #expect(ChartPlanner.logScaleLabel("throughput (requests/s)") == "throughput (requests/s, log scale)")
        #expect(ChartPlanner.logScaleLabel("calls") == "calls (log scale)")
    }
}

/// Scales, ranges and selections that keep a chart from hiding or misdrawing what it shows, on synthetic labs.
@Suite("Chart scales on synthetic labs", .serialized)
struct SyntheticChartScaleTests {
    static let errors = SyntheticLab.Configuration(
        name: "errors", engines: ["threaded", "async"], concurrencies: [4], errorRates: [0, 0.1, 0.2, 0.3, 0.4],
        retries: ["exponential"], requests: 40, warmup: 2, repetitions: 3)

    @Test(.timeLimit(.minutes(1)))
    func aMetricSpanningTwoDecadesIsDrawnOnALogAxis() throws {
        var experiment = try TestSupport.syntheticExperiment(Self.errors)
        let groups = ChartPlanner.groups(experiment, xAxis: "errorRate")
        for index in experiment.points.indices { experiment.points[index].metrics["throughput"] = .exact(500) }
        let narrow = ChartPlanner.metricPanels(experiment, metric: .throughput, axis: "errorRate", groups: groups)
        #expect(narrow.allSatisfy { !$0.logY && $0.yLabel == "throughput (requests/s)" })
        experiment.points[0].metrics["throughput"] = .exact(4)
        let wide = ChartPlanner.metricPanels(
            experiment, metric: .throughput, axis: "errorRate",
            groups: ChartPlanner.groups(experiment, xAxis: "errorRate"))
        #expect(wide.allSatisfy { $0.logY && $0.yLabel == "throughput (requests/s, log scale)" })
        let script = GnuplotScript.script(
            for: Chart(name: "t", title: "t", heading: "t", caption: "", panels: wide), displayPath: "t.gp")
        #expect(script.contains("set logscale y 10"))
    }

    @Test
    func aNumericAxisRunsOverThePanelsOwnPoints() {
        let tics: [(value: Double, label: String)] = [(1, "1"), (10, "10"), (100, "100"), (1_000, "1000")]
        let series = [
            ChartSeries(title: "s", style: .errorLines, color: "#000000", points: [(1, 1, 1, 1), (100, 2, 2, 2)])
        ]
        #expect(ChartPlanner.ticsWithin(tics, of: series).map(\.value) == [1, 10, 100])
        #expect(ChartPlanner.ticsWithin(tics, of: []).map(\.value) == [1, 10, 100, 1_000])
    }

    /// A point without a value for a panel's metric is left out of the panel, and the caption says how many.
    @Test(.timeLimit(.minutes(1)))
    func pointsWithoutAValueAreCountedInTheCaption() throws {
        var experiment = try TestSupport.syntheticExperiment(Self.errors)
        let recovery = try #require(ChartPlanner.PlotMetric.catalogue("recovery_s"))
        for index in experiment.points.indices { experiment.points[index].metrics["recovery_s"] = .exact(1) }
        let groups = { ChartPlanner.groups(experiment, xAxis: "errorRate") }
        #expect(ChartPlanner.missingNote(metrics: [recovery], groups: groups()).isEmpty)
        experiment.points[0].metrics["recovery_s"] = nil
        let note = ChartPlanner.missingNote(metrics: [recovery], groups: groups())
        #expect(note.hasPrefix(" 1 of 10 points has no recovery time and is not drawn in its panel (a repetition"))
        let chart = ChartPlanner.metricChart(
            experiment, name: "r", title: "r", heading: "r", caption: "Recovery.", metrics: [recovery],
            axis: "errorRate", groups: groups())
        #expect(chart.caption.contains(note))
        #expect(chart.panels.flatMap(\.series).map(\.points.count).reduce(0, +) == 9)
    }

    /// With samples dropped by the recording pipeline, the throughput chart says that it counts stored samples.
    @Test(.timeLimit(.minutes(1)))
    func theThroughputCaptionSaysWhenDroppedSamplesAreNotCounted() throws {
        var experiment = try TestSupport.syntheticExperiment(Self.errors)
        let phrase = "Where the recording pipeline dropped samples, requests whose samples were dropped are not counted"
        #expect(!ChartPlanner.throughputChart(experiment, axis: "errorRate").caption.contains(phrase))
        experiment.points[0].metrics["samples_dropped"] = .exact(5)
        #expect(ChartPlanner.throughputChart(experiment, axis: "errorRate").caption.contains(phrase))
    }

    /// A point that missed its nominal concurrency is drawn at it; the caption says how many did.
    @Test(.timeLimit(.minutes(1)))
    func theCaptionCountsPointsDrawnAtALoadTheyDidNotReach() throws {
        var experiment = try TestSupport.syntheticExperiment(
            SyntheticLab.Configuration(
                name: "scale", engines: ["threaded", "async"], concurrencies: [4, 16], errorRates: [0],
                retries: ["none"], requests: 40, warmup: 2, repetitions: 3))
        for index in experiment.points.indices {
            experiment.points[index].metrics["server_in_flight_peak"] = .exact(
                Double(experiment.points[index].concurrency))
        }
        let groups = { ChartPlanner.groups(experiment, xAxis: "concurrency") }
        #expect(ChartPlanner.nominalLoadNote(axis: "concurrency", groups: groups()).isEmpty)
        let last = experiment.points.count - 1
        experiment.points[last].metrics["server_in_flight_peak"] = .exact(3)
        #expect(
            ChartPlanner.nominalLoadNote(axis: "concurrency", groups: groups())
                == " 1 of 4 points did not reach the concurrency they are drawn at (marked § in the tables): the x "
                + "axis is the nominal value.")
        #expect(ChartPlanner.nominalLoadNote(axis: "errorRate", groups: groups()).isEmpty)
    }

    /// Too many lines for the spectrum: a numeric axis is held at its heaviest setting (the highest error rate), not
    /// at its first (no errors at all).
    @Test(.timeLimit(.minutes(1)))
    func theSpectrumHoldsANumericAxisAtItsHighestValue() throws {
        let experiment = try TestSupport.syntheticExperiment(Self.errors)
        let chart = ChartPlanner.spectrumChart(experiment)
        #expect(chart.panels.map(\.title) == ["c=4, errorRate=0.4"])
        #expect(chart.panels[0].series.map(\.title) == ["threaded", "async"])
        #expect(chart.caption.contains("the panel at c=4 shows only errorRate=0.4"))
    }

    /// Requests the client rejected without sending them count in the spectrum with the time it took to reject
    /// them: the caption says so when they are 1% or more of the drawn ones.
    @Test(.timeLimit(.minutes(1)))
    func theSpectrumCaptionNamesRequestsRejectedWithoutBeingSent() throws {
        var experiment = try TestSupport.syntheticExperiment(Self.errors)
        #expect(!ChartPlanner.spectrumChart(experiment).caption.contains("rejected by the client"))
        for index in experiment.points.indices {
            experiment.points[index].finalClasses = [("ok", 60), ("circuit_open", 30), ("throttled", 10)]
        }
        let note = ChartPlanner.unsentNote(experiment.points)
        #expect(
            note == " 40.0% of the drawn requests were rejected by the client without being sent (circuit_open, "
                + "throttled): each counts with the time it took to reject it, so the low percentiles of their lines "
                + "are rejections, not fast responses.")
        #expect(ChartPlanner.spectrumChart(experiment).caption.hasSuffix(note))
        for index in experiment.points.indices {
            experiment.points[index].finalClasses = [("ok", 999), ("circuit_open", 1)]
        }
        #expect(ChartPlanner.unsentNote(experiment.points).isEmpty)
    }
}
