import Foundation
import LabStore
import ReportingSynthetic
import Testing

@testable import Reporting

/// The design rules of the charts (issue 14), checked on the planned charts of small synthetic experiments:
/// categories are never joined by lines, panels stay legible, derived figures carry interval bars, the latency
/// spectrum is log-log at one concurrency per panel, and the jitter chart has one line per strategy.
@Suite("Chart design", .serialized)
struct ChartDesignTests {
    static let strategies = ["none", "exponential", "full", "equal", "decorrelated"]

    /// The charts of each experiment in a synthetic database written with `configurations`.
    static func charts(_ configurations: [SyntheticLab.Configuration]) throws -> [String: [Chart]] {
        let folder = try TestSupport.temporaryFolder("design")
        defer { TestSupport.cleanUp(folder) }
        let path = folder.appendingPathComponent("lab.sqlite").path
        for configuration in configurations { try SyntheticLab.write(path: path, configuration) }
        let model = try ModelBuilder.build(store: try LabStore.openForReading(path: path), bootstrapResamples: 200)
        var out: [String: [Chart]] = [:]
        for experiment in model.experiments { out[experiment.name] = ChartPlanner.charts(for: experiment) }
        return out
    }

    static func configuration(
        _ name: String, engines: [String], concurrencies: [Int], errorRates: [Double] = [0.3],
        backoffs: [String] = [], repetitions: Int = 3
    ) -> SyntheticLab.Configuration {
        SyntheticLab.Configuration(
            name: name, engines: engines, concurrencies: concurrencies, errorRates: errorRates,
            retries: ["exponential"], backoffs: backoffs, requests: 24, warmup: 2, repetitions: repetitions)
    }

    /// Charts whose points are derived per point (not timelines or the pooled spectrum).
    static func derived(_ charts: [Chart]) -> [Chart] {
        charts.filter { !["latency-spectrum", "breaker", "pipeline"].contains($0.name) }
    }

    @Test(.timeLimit(.minutes(1)))
    func categoricalAxesAreNeverJoinedByLines() throws {
        // Backoff strategy is the only swept axis besides the engine: it goes on x, as categories.
        let charts = try Self.charts([
            Self.configuration(
                "categories", engines: ["threaded", "async"], concurrencies: [8], backoffs: Self.strategies)
        ])["categories"]!
        let backoff = try #require(charts.first { $0.name == "backoff" })
        var categoricalPanels = 0
        for chart in charts {
            for panel in chart.panels {
                let labels = (panel.xTics ?? []).map(\.label)
                let nonNumeric = labels.contains { Double($0) == nil && !$0.hasSuffix("%") }
                if nonNumeric && chart.name != "latency-spectrum" {
                    #expect(panel.categoricalX, "\(chart.name): categorical ticks \(labels) on a numeric panel")
                }
                guard panel.categoricalX else { continue }
                categoricalPanels += 1
                for series in panel.series {
                    #expect(series.style == .errorPoints, "\(chart.name)/\(series.title) is drawn as \(series.style)")
                }
                // Series sit side by side within a category, never on top of each other.
                let xs = panel.series.compactMap { $0.points.first?.x }
                #expect(Set(xs).count == xs.count, "\(chart.name): series overlap at \(xs)")
            }
            let script = GnuplotScript.script(for: chart, displayPath: chart.name + ".gp")
            if chart.panels.allSatisfy(\.categoricalX) {
                #expect(!script.contains("lines"), "\(chart.name) joins categories: \(script)")
                #expect(script.contains("with yerrorbars"))
            }
        }
        #expect(categoricalPanels >= 3)
        #expect(backoff.panels.allSatisfy { $0.xTics?.map(\.label) == Self.strategies })
        #expect(!backoff.panels[0].xLabel.contains("backoff strategy, backoff"))
    }

    @Test(.timeLimit(.minutes(1)))
    func noPanelHoldsMoreThanEightSeries() throws {
        // 3 engines × 5 strategies against the error rate: 15 series, split by engine.
        let charts = try Self.charts([
            Self.configuration(
                "crowded", engines: ["sync", "threaded", "async"], concurrencies: [4], errorRates: [0, 0.2, 0.4],
                backoffs: Self.strategies, repetitions: 2)
        ])["crowded"]!
        for chart in charts {
            for panel in chart.panels {
                #expect(panel.series.count <= ChartPlanner.maximumSeries, "\(chart.name) '\(panel.title)'")
            }
            #expect(chart.rows * chart.columns >= chart.panels.count)
        }
        let backoff = try #require(charts.first { $0.name == "backoff" })
        let titles = backoff.panels.flatMap { $0.series.map(\.title) }
        #expect(Set(titles).count == 15, "\(titles)")
        #expect(backoff.panels.count >= 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func derivedChartsDrawIntervalBarsAndSayWhatTheyAre() throws {
        let all = try Self.charts([
            Self.configuration("bars", engines: ["threaded", "async"], concurrencies: [2, 8], errorRates: [0, 0.3]),
            Self.configuration(
                "cats", engines: ["threaded", "async"], concurrencies: [8], backoffs: ["none", "full"]),
        ])
        var withBars = 0
        for charts in all.values {
            for chart in Self.derived(charts) {
                for panel in chart.panels {
                    for series in panel.series {
                        #expect(
                            series.style == .errorLines || series.style == .errorPoints,
                            "\(chart.name)/\(series.title) has no bars")
                        if series.points.contains(where: { $0.high > $0.low }) { withBars += 1 }
                    }
                }
                // Three runs per point: the bars are ranges, not intervals from order statistics, and the caption
                // says so.
                #expect(chart.caption.contains("range of the 3 runs"), "\(chart.name): \(chart.caption)")
                #expect(!chart.caption.contains("order statistics"), "\(chart.name): \(chart.caption)")
                #expect(!chart.caption.contains("95%"), "\(chart.name): \(chart.caption)")
            }
        }
        #expect(withBars > 4)
        let names = Set(all.values.flatMap { Self.derived($0).map(\.name) })
        #expect(names.isSuperset(of: ["throughput", "errors", "backoff"]), "\(names)")
    }

    @Test(.timeLimit(.minutes(1)))
    func spectrumIsLogLogAndComparesEnginesAtOneConcurrency() throws {
        // Sync runs only at concurrency 1; the others at 1, 4 and 16.
        let charts = try Self.charts([
            Self.configuration("spectrum", engines: ["sync", "threaded", "async"], concurrencies: [1, 4, 16])
        ])["spectrum"]!
        let spectrum = try #require(charts.first { $0.name == "latency-spectrum" })
        #expect(spectrum.panels.map(\.title) == ["c=1", "c=16"])
        for panel in spectrum.panels {
            #expect(panel.logX && panel.logY)
            // Each engine once per panel, all at the panel's concurrency.
            let engines = panel.series.map(\.title)
            #expect(Set(engines).count == engines.count)
            #expect(!engines.contains { $0.contains("c=") }, "\(engines)")
        }
        #expect(spectrum.panels[0].series.count == 3 && spectrum.panels[1].series.count == 2)
        let script = GnuplotScript.script(for: spectrum, displayPath: "x.gp")
        #expect(script.contains("set logscale y 10"))
    }

    @Test(.timeLimit(.minutes(1)))
    func jitterChartHasOneLinePerStrategyAgainstConcurrency() throws {
        let charts = try Self.charts([
            Self.configuration("jitter", engines: ["async"], concurrencies: [10, 25, 50], backoffs: Self.strategies)
        ])["jitter"]!
        let chart = try #require(charts.first { $0.name == "backoff" })
        #expect(!chart.panels.isEmpty)
        #expect(chart.panels.contains { $0.title == "completion time" })
        for panel in chart.panels {
            #expect(panel.xLabel.hasPrefix("concurrency"))
            #expect(!panel.categoricalX)
            #expect(panel.series.map(\.title) == Self.strategies.map { "backoff=\($0)" })
            for series in panel.series {
                #expect(series.style == .errorLines)
                // A point whose requests gave up (retries are capped) has no completion time and is not drawn.
                if panel.title == "completion time" {
                    #expect(Set(series.points.map(\.x)).isSubset(of: [10, 25, 50]))
                } else {
                    #expect(series.points.map(\.x) == [10, 25, 50])
                }
            }
            #expect(Set(panel.series.map(\.color)).count == Self.strategies.count)
            #expect(Set(panel.series.map(\.pointType)).count == Self.strategies.count)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func breakerTimelineSharesOneTimeAxis() throws {
        let charts = try Self.charts([
            Self.configuration("breaker", engines: ["threaded", "async"], concurrencies: [4], errorRates: [0.5])
        ])["breaker"]!
        let chart = try #require(charts.first { $0.name == "breaker" }, "\(charts.map(\.name))")
        #expect(chart.rows == chart.panels.count && chart.columns == 1)
        let ranges = chart.panels.map { $0.xRange.map { "\($0.low)-\($0.high)" } ?? "none" }
        #expect(Set(ranges).count == 1 && ranges[0] != "none", "\(ranges)")
        let script = GnuplotScript.script(for: chart, displayPath: "x.gp")
        if chart.panels.count > 1 { #expect(script.contains("set multiplot layout 2,1")) }
    }

    /// The jitter page's crowd: live strategies, simulated ones with the live settings and simulated ones with the
    /// AWS study's network, 15 lines. Split by strategy, no panel would compare strategies; split per engine and
    /// setting, each panel is the AWS figure, a strategy keeps its colour (and, open for the simulation, its marker)
    /// in every panel, and a long panel title
    /// (metric and setting) is written whole.
    @Test func aCrowdedTreatmentChartKeepsEveryStrategyInEachPanel() throws {
        let settings = [("async", "0", "200"), ("sim", "0", "200"), ("sim", "10", "2000")]
        var groups: [ChartPlanner.Group] = []
        for (engine, network, cap) in settings {
            for strategy in Self.strategies {
                let keys = [("engine", engine), ("backoff", strategy), ("networkMs", network), ("capMs", cap)]
                groups.append(
                    ChartPlanner.Group(
                        title: keys.map { "\($0.0)=\($0.1)" }.joined(separator: ", "), engine: engine, engineIndex: 0,
                        variant: groups.count, keys: keys.map { (name: $0.0, value: $0.1) }, points: [],
                        color: ChartPalette.colors[groups.count % ChartPalette.colors.count]))
            }
        }
        let parts = ChartPlanner.split(groups, lines: "backoff")
        #expect(
            parts.map(\.suffix) == [
                "async, networkMs=0, capMs=200", "sim, networkMs=0, capMs=200", "sim, networkMs=10, capMs=2000",
            ])
        for part in parts {
            #expect(part.groups.map(\.title) == Self.strategies.map { "backoff=\($0)" })
            #expect(part.groups.map(\.color) == parts[0].groups.map(\.color))
            #expect(Set(part.groups.map(\.color)).count == Self.strategies.count)
        }
        // The live markers are filled; the simulation's are their open twins, strategy by strategy.
        #expect(parts[0].groups.allSatisfy { ChartPalette.filledPointTypes.contains($0.pointType) })
        for part in parts.dropFirst() {
            #expect(part.groups.map(\.pointType) == parts[0].groups.map { ChartPalette.open($0.pointType) })
        }
        // Without a line coordinate to keep, the first coordinate that splits them does: the strategy.
        #expect(ChartPlanner.split(groups).map(\.suffix) == Self.strategies.map { "backoff=\($0)" })

        let title = "completion time: sim, networkMs=10, networkSdMs=2, baseMs=5, capMs=2000"
        let panels = (0..<3).map { _ in ChartPanel(title: title, xLabel: "concurrency", yLabel: "s", series: []) }
        let chart = Chart(
            name: "t", title: "t", heading: "t", caption: "t", panels: panels, size: (1800, 600), rows: 1)
        // Whole, in two lines: a 600-pixel column holds about 55 characters of the PNG's font.
        #expect(
            GnuplotScript.script(for: chart, displayPath: "t.gp").contains(
                "set title 'completion time: sim, networkMs=10, networkSdMs=2,'.\"\\n\".'baseMs=5, capMs=2000'\n"))
    }

    /// A title too long for its panel wraps after ": " or ", " into at most three lines, the last one shortened;
    /// each line stays a single-quoted literal.
    @Test func aLongPanelTitleWrapsAndStaysQuoted() {
        #expect(GnuplotScript.wrappedTitle("p99: async", limit: 20) == "'p99: async'")
        #expect(GnuplotScript.wrappedTitle("metric: a=1, b=2, c=3", limit: 12) == #"'metric: a=1,'."\n".'b=2, c=3'"#)
        let long = "m: " + (1...20).map { "name\($0)=value" }.joined(separator: ", ")
        let wrapped = GnuplotScript.wrappedTitle(long, limit: 30)
        let lines = wrapped.components(separatedBy: #"."\n"."#)
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.hasPrefix("'") && $0.hasSuffix("'") && $0.count <= 32 })
        #expect(lines[2].hasSuffix("…'"))
        #expect(GnuplotScript.wrappedTitle("it's: `id`, x", limit: 8) == #"'it''s:'."\n".'`id`, x'"#)
    }

    @Test func categoricalPanelsAreWrittenAsPointsWithBars() {
        let panel = ChartPanel(
            xLabel: "throttle", yLabel: "goodput", xTics: [(0, "off"), (1, "k:2")], categoricalX: true,
            series: [
                ChartSeries(
                    title: "async", style: .errorPoints, color: "#1b9e77",
                    points: [(-0.1, 10, 9, 11), (0.9, 12, 11, 13)]),
                ChartSeries(
                    title: "threaded", style: .errorPoints, color: "#7570b3",
                    points: [(0.1, 8, 7, 9), (1.1, 9, 8, 10)]),
            ])
        let chart = Chart(name: "t", title: "t", heading: "t", caption: "t", panels: [panel])
        let script = GnuplotScript.script(for: chart, displayPath: "t.gp")
        #expect(script.contains("using 1:2:3:4 with yerrorbars"))
        #expect(!script.contains("lines"))
        #expect(script.contains("set xrange [-0.6:1.6]"))
        #expect(GnuplotScript.logTics(low: 2, high: 5).map(\.label) == ["2", "3", "4", "5"])
        // Too many fine steps (600, 700, … 7000) for a range of less than two decades: 1-2-5, not one decade tick.
        #expect(GnuplotScript.logTics(low: 580, high: 7988).map(\.label) == ["1000", "2000", "5000"])
    }

    /// Five treatments whose labels wrap ("retries + budget token:10") in three side-by-side panels would run into
    /// each other: the panels go one a row, wide enough, and the axis label moves below the second line of labels.
    /// Short categories stay side by side.
    @Test func categoriesThatNeedTheWidthGetOnePanelARow() {
        func panel(_ labels: [String]) -> ChartPanel {
            ChartPanel(
                xLabel: "treatment", yLabel: "goodput",
                xTics: labels.enumerated().map { (Double($0.offset), $0.element) }, categoricalX: true,
                series: [ChartSeries(title: "async", style: .errorPoints, color: "#1b9e77", points: [(0, 1, 1, 1)])])
        }
        let long = panel([
            "no retries", "retries", "retries + budget token:10", "retries + breaker", "retries + throttle k:2",
        ])
        #expect(GnuplotScript.ticLines("retries + budget token:10") == ["retries", "+ budget token:10"])
        // 130 pixels of margin and 5 categories of 17 characters: 130 + 5 · (7.5 · 17 + 10), rounded down.
        #expect(ChartPlanner.categoryPanelWidth(long) == 815)
        let stacked = ChartPlanner.layout([long, long, long], rows: 1)
        #expect(stacked.perRow == 1 && stacked.rows == 3 && stacked.width == 960)
        // Two such panels side by side would get 600 pixels each, too few, though 2 · 815 fits in 2400.
        let two = ChartPlanner.layout([long, long], rows: 1)
        #expect(two.perRow == 1 && two.rows == 2 && two.width == 960)
        let short = panel(["off", "k:1.5", "k:2", "k:3"])
        let sideBySide = ChartPlanner.layout([short, short, short], rows: 1)
        #expect(sideBySide.perRow == 3 && sideBySide.rows == 1 && sideBySide.width == 1800)
        // A numeric axis needs no room per category.
        var numeric = long
        numeric.categoricalX = false
        #expect(ChartPlanner.categoryPanelWidth(numeric) == 0)

        let chart = Chart(name: "t", title: "t", heading: "t", caption: "t", panels: [long, short], rows: 2)
        let script = GnuplotScript.script(for: chart, displayPath: "t.gp")
        #expect(script.contains("set multiplot layout 2,1"))
        #expect(script.contains("set xlabel 'treatment' offset 0,-1\n"))
        #expect(script.contains("set xlabel 'treatment'\n"))
    }

    /// A series of one point (sync, at concurrency 1 only) under other series' points within 3% is named in the
    /// caption; one further off, or a series of several points, is not.
    @Test func aSinglePointUnderOthersIsNamed() {
        func series(_ title: String, _ points: [(Double, Double)]) -> ChartSeries {
            ChartSeries(
                title: title, style: .errorLines, color: "#000000", points: points.map { ($0.0, $0.1, $0.1, $0.1) })
        }
        let panel = ChartPanel(
            title: "throughput", xLabel: "concurrency", yLabel: "throughput",
            series: [
                series("sync", [(1, 95.3)]), series("threaded", [(1, 95.0), (4, 379)]),
                series("async", [(1, 93.0), (4, 380)]), series("async_ahc", [(1, 90.0), (4, 370)]),
            ])
        #expect(
            ChartPlanner.coveredNote([panel], axis: "concurrency")
                == "\"sync\" has a single point, at concurrency 1 (95.3), where the points of \"threaded\" and "
                + "\"async\" lie within 3% of it and may cover it.")
        var apart = panel
        apart.series[0].points = [(1, 120, 120, 120)]
        #expect(ChartPlanner.coveredNote([apart], axis: "concurrency").isEmpty)
        // With two panels, the sentence names the panel.
        #expect(ChartPlanner.coveredNote([panel, apart], axis: "concurrency").contains("in the throughput panel"))
    }
}
