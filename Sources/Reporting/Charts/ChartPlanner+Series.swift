import LabStore

/// Series and panels of metric charts: grouping points into series, styling them, interval bars, and splitting
/// crowded panels.
extension ChartPlanner {
    /// Points that share the engine and every coordinate other than the x axis: one series.
    struct Group {
        var title: String
        var engine: String
        var engineIndex: Int
        /// The group's place among the groups of its engine.
        var variant: Int
        /// Coordinates other than the x axis that set this group apart, with the engine first.
        var keys: [(name: String, value: String)]
        var points: [PointSummary]
        /// Colour, point type and dash, set by `styled`.
        var color = "#000000"
        var pointType = 7
        var dash = 1
    }

    /// A figure drawn on a y axis: a catalogue metric, scaled, with a fallback for points without it.
    struct PlotMetric: Sendable {
        /// The `Metric.catalogue` id read from `PointSummary.metrics`.
        var id: String
        /// Panel title.
        var title: String
        /// Y-axis label with its unit.
        var yLabel: String
        /// Multiplies the metric (100 for a fraction shown in %).
        var scale: Double = 1
        var logY = false
        var yRange: (low: Double, high: Double)? = nil
        /// Whether the y axis may start above zero.
        var yFromData = false
        /// The value when the point has no such metric (older databases); drawn without bars. Completion time has none:
        /// a cell whose requests gave up has no completion time, and its span is not one.
        var fallback: @Sendable (PointSummary) -> Double? = { _ in nil }

        static let throughput = PlotMetric(
            id: "throughput", title: "throughput", yLabel: "throughput (requests/s)", fallback: { $0.throughput.median }
        )
        static let goodput = PlotMetric(
            id: "goodput", title: "goodput", yLabel: "goodput (successful requests/s)",
            fallback: { $0.goodput.median })
        static let successRate = PlotMetric(
            id: "success_rate", title: "success rate", yLabel: "success rate (%)", scale: 100, yRange: (0, 105),
            fallback: { 1 - $0.errorRate })
        static let amplification = PlotMetric(
            id: "amplification", title: "load amplification", yLabel: "server requests per logical request (x)",
            fallback: { $0.amplification ?? $0.attemptsPerRequest })
        static let serverCalls = PlotMetric(
            id: "server_calls", title: "server calls", yLabel: "calls the server received (count)",
            fallback: { $0.serverRequests })
        static let completion = PlotMetric(
            id: "completion_s", title: "completion time", yLabel: "time to finish the cell's work (s)")
        static let p50 = PlotMetric(
            id: "p50_ms", title: "p50 latency", yLabel: "p50 latency (ms, log scale)", logY: true,
            fallback: { $0.latency.p50 / 1e6 })
        static let p99 = PlotMetric(
            id: "p99_ms", title: "p99 latency", yLabel: "p99 latency (ms, log scale)", logY: true,
            fallback: { $0.latency.p99 / 1e6 })
        static let peakRSS = PlotMetric(
            id: "peak_rss_mib", title: "peak RSS", yLabel: "client peak RSS (MiB; axis not from 0)", yFromData: true,
            fallback: { $0.peakRSSBytes.map { $0 / 1_048_576 } })
        static let cpuPerRequest = PlotMetric(
            id: "client_cpu_us_per_request", title: "CPU per request",
            yLabel: "client CPU per request (µs, log scale)", logY: true,
            fallback: { point in point.cpuSeconds.map { $0 / Swift.max(1, point.requests) * 1e6 } })

        /// The plot of a catalogue metric named by a spec: percentages in %, others as the catalogue labels them.
        static func catalogue(_ id: String) -> PlotMetric? {
            switch id {
            case "throughput": return .throughput
            case "goodput": return .goodput
            case "success_rate": return .successRate
            case "amplification": return .amplification
            case "server_calls": return .serverCalls
            case "completion_s": return .completion
            case "p50_ms": return .p50
            case "p99_ms": return .p99
            case "peak_rss_mib": return .peakRSS
            case "client_cpu_us_per_request": return .cpuPerRequest
            default: break
            }
            guard let metric = Metric.named(id) else { return nil }
            if metric.style == .percent {
                return PlotMetric(id: id, title: metric.label, yLabel: "\(metric.label) (%)", scale: 100)
            }
            return PlotMetric(id: id, title: metric.label, yLabel: metric.header)
        }
    }

    /// The value of `metric` at `point`: the median with its interval (scaled), or the fallback without one.
    static func value(_ point: PointSummary, _ metric: PlotMetric) -> (y: Double, low: Double, high: Double)? {
        if let estimate = point.metrics[metric.id], estimate.median.isFinite {
            let low = estimate.low.isFinite ? estimate.low : estimate.median
            let high = estimate.high.isFinite ? estimate.high : estimate.median
            return (estimate.median * metric.scale, low * metric.scale, high * metric.scale)
        }
        guard let y = metric.fallback(point), y.isFinite else { return nil }
        return (y * metric.scale, y * metric.scale, y * metric.scale)
    }

    /// Whether any point has `metric`.
    static func has(_ metric: PlotMetric, in experiment: ExperimentModel) -> Bool {
        experiment.points.contains { value($0, metric) != nil }
    }

    /// Series of points sharing the engine and every coordinate other than `xAxis` (and `alsoIgnore`), styled.
    static func groups(
        _ experiment: ExperimentModel, xAxis: String, alsoIgnore: Set<String> = [],
        include: (PointSummary) -> Bool = { _ in true }
    ) -> [Group] {
        var order: [String] = []
        var grouped: [String: [PointSummary]] = [:]
        var meta: [String: Group] = [:]
        var variantCount: [String: Int] = [:]
        let included = experiment.points.filter(include)
        let constant = constantAxes(experiment, among: included)
        for point in included {
            let others = point.coordinates.filter {
                $0.name != xAxis && !alsoIgnore.contains($0.name) && !constant.contains($0.name)
            }
            let otherText = others.map { label($0.name, $0.value) }.joined(separator: ", ")
            let key = point.engine + "\u{1}" + otherText
            if grouped[key] == nil {
                order.append(key)
                let variant = variantCount[point.engine, default: 0]
                variantCount[point.engine] = variant + 1
                meta[key] = Group(
                    title: otherText.isEmpty ? point.engine : "\(point.engine), \(otherText)", engine: point.engine,
                    engineIndex: experiment.engines.firstIndex(of: point.engine) ?? 0, variant: variant,
                    keys: [("engine", point.engine)] + others.map { ($0.name, $0.value.display) }, points: [])
            }
            grouped[key, default: []].append(point)
        }
        let categories = categoryIndex(experiment, axis: xAxis)
        var result = order.map { key in
            var group = meta[key]!
            group.points = grouped[key]!.sorted {
                xValue($0, axis: xAxis, categories: categories) < xValue($1, axis: xAxis, categories: categories)
            }
            return group
        }
        // Series in the engines' order, then in the spec's order of each other axis (not alphabetical), so a
        // legend reads like the spec: none, exponential, full, ...
        var orders: [String: [String: Int]] = [:]
        for name in Set(result.flatMap { $0.keys.dropFirst().map(\.name) }) {
            orders[name] = categoryIndex(experiment, axis: name)
        }
        func rank(_ group: Group) -> [Double] {
            pointRank(group.points[0], engines: experiment.engines, axes: group.keys.dropFirst().map(\.name), orders)
        }
        result = result.enumerated().sorted { a, b in
            let (left, right) = (rank(a.element), rank(b.element))
            return left == right ? a.offset < b.offset : left.lexicographicallyPrecedes(right)
        }.map(\.element)
        variantCount = [:]
        for index in result.indices {
            result[index].variant = variantCount[result[index].engine, default: 0]
            variantCount[result[index].engine] = result[index].variant + 1
        }
        return styled(result)
    }

    /// Where a point sorts: by engine (in the experiment's order), then by each of `axes` in the spec's order of
    /// its values (`orders` holds the categorical axes' positions).
    static func pointRank(
        _ point: PointSummary, engines: [String], axes: [String], _ orders: [String: [String: Int]]
    ) -> [Double] {
        [Double(engines.firstIndex(of: point.engine) ?? engines.count)]
            + axes.map { xValue(point, axis: $0, categories: orders[$0]) }
    }

    /// Colours and point types. With one engine every series gets its own colour and point type (strategies must
    /// be told apart in print as on screen); with several, the engine keeps its colour and the variants differ in
    /// point type and dash. The engine's name leaves the legend when there is only one.
    ///
    /// The simulation (`sim`) beside one live engine: each variant (a strategy, say) keeps one colour in both; the
    /// simulation's lines are dashed and its markers open (the live ones filled), so a simulated series reads against
    /// its live twin, with or without a joining line.
    static func styled(_ groups: [Group]) -> [Group] {
        let engines = Set(groups.map(\.engine))
        let sim = EngineName.sim.rawValue
        let simBesideOne = engines.contains(sim) && engines.count == 2
        return groups.enumerated().map { index, group in
            var group = group
            if simBesideOne {
                group.color = ChartPalette.colors[group.variant % ChartPalette.colors.count]
                let filled = ChartPalette.filledPointTypes[group.variant % ChartPalette.filledPointTypes.count]
                group.pointType = group.engine == sim ? ChartPalette.open(filled) : filled
                group.dash = group.engine == sim ? 2 : 1
            } else if engines.count <= 1 {
                group.color = ChartPalette.colors[index % ChartPalette.colors.count]
                group.pointType = ChartPalette.pointTypes[index % ChartPalette.pointTypes.count]
                group.dash = 1
                if group.keys.count > 1, group.title.hasPrefix(group.engine + ", ") {
                    group.title.removeFirst(group.engine.count + 2)
                }
            } else {
                group.color = ChartPalette.color(engine: group.engine, index: group.engineIndex)
                let own = ChartPalette.pointType(engine: group.engine, index: group.engineIndex)
                let others = ChartPalette.pointTypes.filter { $0 != own }
                group.pointType = group.variant == 0 ? own : others[(group.variant - 1) % others.count]
                group.dash = 1 + group.variant % 5
            }
            return group
        }
    }

    /// Splits groups into sets of at most `maximumSeries`: by engine, else by another coordinate, else in runs.
    /// Each set comes with a panel-title suffix naming what it holds.
    ///
    /// With `lines` (a treatment chart's treatment), a panel keeps every line of one setting: the groups are split
    /// by a coordinate other than `lines`, else by all of them at once (one panel per engine and setting, the AWS
    /// form), and only then by `lines` itself. Split by all at once, a line is named by its `lines` value alone
    /// and has that value's colour and point type in every panel.
    static func split(_ groups: [Group], lines: String? = nil) -> [(suffix: String, groups: [Group])] {
        guard groups.count > maximumSeries else { return [("", groups)] }
        let names = groups.first?.keys.map(\.name) ?? []
        for name in names where name != lines {
            if let parts = partition(groups, by: [name]) { return parts }
        }
        if let lines {
            let others = names.filter { $0 != lines }
            if others.count > 1, let parts = partition(groups, by: others) {
                return restyled(parts, lines: lines)
            }
            if let parts = partition(groups, by: [lines]) { return parts }
        }
        return stride(from: 0, to: groups.count, by: maximumSeries).map { start in
            let end = Swift.min(groups.count, start + maximumSeries)
            return ("series \(start + 1)-\(end)", Array(groups[start..<end]))
        }
    }

    /// Groups partitioned by their values of `names`, in order of first appearance, each set named by the values
    /// that differ between sets; nil unless that makes more than one set and none holds more than `maximumSeries`.
    static func partition(_ groups: [Group], by names: [String]) -> [(suffix: String, groups: [Group])]? {
        func values(_ group: Group) -> [String] {
            names.map { name in group.keys.first { $0.name == name }?.value ?? "" }
        }
        var order: [[String]] = []
        var parts: [[String]: [Group]] = [:]
        for group in groups {
            let key = values(group)
            if parts[key] == nil { order.append(key) }
            parts[key, default: []].append(group)
        }
        guard order.count > 1, parts.values.allSatisfy({ $0.count <= maximumSeries }) else { return nil }
        let varying = names.indices.filter { index in Set(order.map { $0[index] }).count > 1 }
        return order.map { key in
            let suffix = varying.map { names[$0] == "engine" ? key[$0] : "\(names[$0])=\(key[$0])" }
            return (suffix.joined(separator: ", "), parts[key]!)
        }
    }

    /// Sets of groups that differ only in `lines`: each line named by its `lines` value, with that value's colour
    /// and point type (in order of first appearance) in every set, so a strategy reads the same across panels. As in
    /// `styled(_:)`, the simulation's markers are the open twins of the live ones.
    static func restyled(
        _ parts: [(suffix: String, groups: [Group])], lines: String
    ) -> [(suffix: String, groups: [Group])] {
        var index: [String: Int] = [:]
        return parts.map { part in
            let groups = part.groups.map { group in
                var group = group
                let value = group.keys.first { $0.name == lines }?.value ?? ""
                let position = index[value] ?? index.count
                index[value] = position
                group.title = "\(lines)=\(value)"
                group.color = ChartPalette.colors[position % ChartPalette.colors.count]
                let filled = ChartPalette.filledPointTypes[position % ChartPalette.filledPointTypes.count]
                group.pointType = group.engine == EngineName.sim.rawValue ? ChartPalette.open(filled) : filled
                return group
            }
            return (part.suffix, groups)
        }
    }

    /// Panels of one metric against `axis` (nil: per engine), split when crowded. On a categorical axis the series
    /// are points with bars, offset side by side within each category; on a numeric axis, lines with bars.
    static func metricPanels(
        _ experiment: ExperimentModel, metric: PlotMetric, axis: String?, groups: [Group], lines: String? = nil
    ) -> [ChartPanel] {
        let (tics, categories): ([(value: Double, label: String)], [String: Int]?)
        if let axis {
            (tics, categories) = xAxis(experiment, axis: axis)
        } else {
            let engines = experiment.engines.enumerated().map { (Double($0.offset), $0.element) }
            (tics, categories) = (engines, Dictionary(uniqueKeysWithValues: engines.map { ($0.1, Int($0.0)) }))
        }
        let categorical = categories != nil
        let parts = split(groups, lines: lines)
        return parts.map { part in
            let count = part.groups.count
            // Side-by-side offsets within a category: at most 0.7 of the slot in all.
            let width = count > 1 ? Swift.min(0.7 / Double(count), 0.18) : 0
            let series = part.groups.enumerated().map { index, group in
                // Per engine, each series has its own category: nothing to set apart.
                let offset = categorical && axis != nil ? (Double(index) - Double(count - 1) / 2) * width : 0
                let points: [(x: Double, y: Double, low: Double, high: Double)] = group.points.compactMap { point in
                    guard let v = value(point, metric) else { return nil }
                    let x =
                        axis.map { xValue(point, axis: $0, categories: categories) }
                        ?? Double(group.engineIndex)
                    guard x.isFinite, !metric.logY || v.y > 0 else { return nil }
                    return (x + offset, v.y, metric.logY ? Swift.max(v.low, v.y / 1e3) : v.low, v.high)
                }
                return ChartSeries(
                    title: group.title, style: categorical ? .errorPoints : .errorLines, color: group.color,
                    dash: group.dash, pointType: group.pointType, points: points)
            }
            let title = part.suffix.isEmpty ? metric.title : "\(metric.title): \(part.suffix)"
            // A numeric axis runs over the panel's own points: a panel whose series stop at 100 clients is not
            // stretched to another panel's 1,000.
            let panelTics = categorical ? tics : ticsWithin(tics, of: series)
            let logX = !categorical && axis != nil && spansDecades(panelTics)
            let xLabel = axis.map { axisLabel($0) + (logX ? ", log scale" : "") } ?? "engine"
            var panel = ChartPanel(
                title: title, xLabel: xLabel, yLabel: metric.yLabel, logX: logX, logY: metric.logY, xTics: panelTics,
                yRange: metric.yRange, yFromData: metric.yFromData, categoricalX: categorical, series: series,
                metric: metric.id)
            if !metric.logY, metric.yRange == nil, !metric.yFromData, needsLogY(panel) {
                panel.logY = true
                panel.yLabel = logScaleLabel(metric.yLabel)
            }
            return panel
        }
    }

    /// The ticks from the series' lowest x to their highest; all of `tics` when none falls there.
    static func ticsWithin(
        _ tics: [(value: Double, label: String)], of series: [ChartSeries]
    ) -> [(value: Double, label: String)] {
        let xs = series.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        guard let low = xs.min(), let high = xs.max() else { return tics }
        let slack = Swift.max(abs(low), abs(high)) * 1e-9
        let within = tics.filter { $0.value >= low - slack && $0.value <= high + slack }
        return within.isEmpty ? tics : within
    }

    /// Whether a panel's values (bars included) are all positive and span at least two decades: on a linear axis
    /// the small ones would lie on the axis, so the panel is drawn on a log one.
    static func needsLogY(_ panel: ChartPanel) -> Bool {
        let values = panel.drawnYValues
        guard let low = values.min(), let high = values.max(), low > 0 else { return false }
        return high / low >= 100
    }

    /// "throughput (requests/s)" as "throughput (requests/s, log scale)"; "x" as "x (log scale)".
    static func logScaleLabel(_ label: String) -> String {
        label.hasSuffix(")") ? label.dropLast() + ", log scale)" : label + " (log scale)"
    }

    /// A chart of `metrics` against `axis`: one row of panels per metric (or one row when nothing is split).
    /// `lines`, if any, is the coordinate each panel must show every line of (see `split`).
    static func metricChart(
        _ experiment: ExperimentModel, name: String, title: String, heading: String, caption: String,
        metrics: [PlotMetric], axis: String?, groups: [Group], lines: String? = nil
    ) -> Chart {
        let rows = metrics.map { metricPanels(experiment, metric: $0, axis: axis, groups: groups, lines: lines) }
        let columns = rows.map(\.count).max() ?? 1
        var panels: [ChartPanel] = []
        for row in rows {
            panels += row
            // Pad short rows, so each metric starts a row.
            if columns > 1 {
                for _ in row.count..<columns {
                    panels.append(ChartPanel(xLabel: "", yLabel: "", series: []))
                }
            }
        }
        let (perRow, rowCount, width) = layout(panels, rows: columns == 1 ? 1 : rows.count)
        let note = barsNote(experiment, metrics: metrics)
        let overlaps = [coincidingNote(panels, axis: axis), coveredNote(panels, axis: axis)].filter { !$0.isEmpty }
            .joined(separator: " ")
        let missing = missingNote(metrics: metrics, groups: groups) + nominalLoadNote(axis: axis, groups: groups)
        return Chart(
            name: name, title: title, heading: heading,
            caption: caption + (overlaps.isEmpty ? "" : " " + overlaps) + missing + " " + note, panels: panels,
            size: (width, rowHeight(panels, columns: perRow) * rowCount), rows: rowCount)
    }

    /// The grid and pixel width of a chart's panels in `rows` rows: panels side by side, 600 pixels each and at most
    /// 2400 in all; but when a row of categorical panels would squeeze a panel's labels into each other in its
    /// share, one panel a row, as wide as the widest needs.
    static func layout(_ panels: [ChartPanel], rows: Int) -> (perRow: Int, rows: Int, width: Int) {
        let perRow = (panels.count + rows - 1) / Swift.max(1, rows)
        let needed = panels.map(categoryPanelWidth).max() ?? 0
        let width = Swift.max(960, Swift.min(600 * perRow, 2400))
        if rows == 1, perRow > 1, needed > width / perRow {
            return (1, panels.count, Swift.max(960, needed))
        }
        return (perRow, rows, width)
    }

    /// The pixel width a categorical panel needs so that its tic labels do not run into each other: its y axis' margin
    /// and, per category, its label's longest line (about 7.5 pixels a character in the PNG's font) and a gap; 0 for a
    /// numeric x axis.
    static func categoryPanelWidth(_ panel: ChartPanel) -> Int {
        guard panel.categoricalX, let tics = panel.xTics, !tics.isEmpty else { return 0 }
        let widest = tics.flatMap { GnuplotScript.ticLines($0.label) }.map(\.count).max() ?? 0
        return 130 + tics.count * (15 * widest / 2 + 10)
    }

    /// The caption's sentences on points a panel leaves out because they have no value for its metric, so that a
    /// missing point is not read as a missing run; "" when every point is drawn.
    static func missingNote(metrics: [PlotMetric], groups: [Group]) -> String {
        let points = groups.flatMap(\.points)
        var sentences: [String] = []
        for metric in metrics {
            let missing = points.filter { value($0, metric) == nil }.count
            guard missing > 0, missing < points.count else { continue }
            var sentence =
                " \(missing) of \(points.count) points \(missing == 1 ? "has" : "have") no \(metric.title) and "
                + "\(missing == 1 ? "is" : "are") not drawn in its panel"
            if metric.id == "recovery_s" {
                sentence += " (a repetition that never recovered, or had no goodput before the trigger, leaves the "
                sentence += "median undefined; the table \"Recovery after the trigger\" has every repetition)"
            }
            sentences.append(sentence + ".")
        }
        return sentences.joined()
    }

    /// The caption's sentence on points drawn at a load they did not reach (marked in the tables), when the x axis
    /// is that load (concurrency or the offered rate); "" otherwise.
    static func nominalLoadNote(axis: String?, groups: [Group]) -> String {
        guard let axis, [ParameterName.concurrency.rawValue, ParameterName.rate.rawValue].contains(axis) else {
            return ""
        }
        let points = groups.flatMap(\.points)
        let missed = points.filter(LoadCheck.missed)
        guard !missed.isEmpty else { return "" }
        let marks = Set(missed.map { $0.isOpenLoop ? LoadCheck.openMark : LoadCheck.closedMark }).sorted()
        return " \(missed.count) of \(points.count) points did not reach the \(axis) they are drawn at (marked "
            + "\(marks.joined(separator: " and ")) in the tables): the x axis is the nominal value."
    }

    /// Pixel height of a row of panels: taller when side-by-side panels have long legends (one line a series
    /// below each plot), so the plots keep their height.
    static func rowHeight(_ panels: [ChartPanel], columns: Int) -> Int {
        let most = panels.map(\.series.count).max() ?? 0
        return columns > 1 ? 560 + 22 * Swift.max(0, most - 4) : 560 + 11 * Swift.max(0, most - 6)
    }

    /// Series of a panel that lie on top of each other: the same x values and the same y at each, within rounding
    /// (three significant digits, as the tables print them), in series order; only groups of two or more.
    static func coinciding(_ panel: ChartPanel) -> [[String]] {
        guard !panel.categoricalX else { return [] }
        var order: [String] = []
        var titles: [String: [String]] = [:]
        for series in panel.series where !series.points.isEmpty {
            let key = series.points.map { "\($0.x)=\(Format.significant($0.y))" }.joined(separator: ";")
            if titles[key] == nil { order.append(key) }
            titles[key, default: []].append(series.title)
        }
        return order.compactMap { titles[$0]!.count > 1 ? titles[$0]! : nil }
    }

    /// The caption's sentences on series drawn on top of each other, naming the panel and the series, so a reader
    /// does not take a hidden line for a missing one; "" when none coincide.
    static func coincidingNote(_ panels: [ChartPanel], axis: String?) -> String {
        var sentences: [String] = []
        for panel in panels {
            let sets = coinciding(panel)
            guard !sets.isEmpty else { continue }
            let lists = sets.map { titles in
                let quoted = titles.map { "\"\($0)\"" }
                return quoted.count == 2
                    ? quoted.joined(separator: " and ")
                    : quoted.dropLast().joined(separator: ", ") + " and " + quoted.last!
            }
            let place = panel.title.isEmpty ? "" : "In the \(panel.title) panel, "
            let verb = place.isEmpty ? "These series coincide" : "these series coincide"
            sentences.append(
                "\(place)\(verb) (equal within rounding at every \(axis ?? "point")), so the line drawn last hides the "
                    + "others: " + lists.joined(separator: "; ") + ".")
        }
        return sentences.joined(separator: " ")
    }

    /// The caption's sentences on series of a single point that other series' points, within 3% of it at the same
    /// x, may cover (the sync engine, at concurrency 1 only, among the others there); "" when none.
    static func coveredNote(_ panels: [ChartPanel], axis: String?) -> String {
        var sentences: [String] = []
        for panel in panels where !panel.categoricalX {
            for (index, series) in panel.series.enumerated() where series.points.count == 1 {
                let point = series.points[0]
                let near = panel.series.enumerated().filter { other in
                    other.offset != index
                        && other.element.points.contains {
                            $0.x == point.x && abs($0.y - point.y) <= 0.03 * abs(point.y)
                        }
                }.map { "\"\($0.element.title)\"" }
                guard !near.isEmpty else { continue }
                let list = near.count == 1 ? near[0] : near.dropLast().joined(separator: ", ") + " and " + near.last!
                let place = panel.title.isEmpty || panels.count == 1 ? "" : " in the \(panel.title) panel"
                sentences.append(
                    "\"\(series.title)\" has a single point\(place), at \(axis ?? "x") \(Format.data(point.x)) "
                        + "(\(Format.significant(point.y))), where the points of \(list) lie within 3% of it and may "
                        + "cover it.")
            }
        }
        return sentences.joined(separator: " ")
    }

    /// "distribution-free intervals for the median from order statistics (coverage 93.8%)": what bars of
    /// `Statistics.medianInterval` are, with the lowest and highest coverage among `estimates`.
    static func orderStatisticBars(_ estimates: [Estimate]) -> String {
        let coverages = estimates.compactMap(\.coverage)
        var text = "distribution-free intervals for the median from order statistics"
        if let lowest = coverages.min(), let highest = coverages.max() {
            let low = Format.coverage(lowest)
            let high = Format.coverage(highest)
            text += low == high ? " (coverage \(low))" : " (coverage \(low) to \(high))"
        }
        return text
    }

    /// The caption's sentence on what the bars are, from the estimates drawn.
    static func barsNote(_ experiment: ExperimentModel, metrics: [PlotMetric]) -> String {
        let estimates = experiment.points.flatMap { point in metrics.compactMap { point.metrics[$0.id] } }
        let missing = experiment.points.contains { point in
            metrics.contains { point.metrics[$0.id] == nil && $0.fallback(point) != nil }
        }
        var sentences: [String] = []
        let runs = Set(estimates.compactMap(\.rangeOf)).sorted()
        if estimates.isEmpty {
            sentences.append(
                "Points are medians over repetitions, drawn without bars (this database has no per-run figures).")
        } else if estimates.allSatisfy({ $0.samples.count <= 1 }) {
            sentences.append("One run per point, so there are no bars: differences may be noise.")
        } else if !runs.isEmpty {
            let counts = runs.map(String.init).joined(separator: " or ")
            let all = estimates.allSatisfy { $0.rangeOf != nil }
            sentences.append(
                "Points are medians over repetitions; bars are the range of the \(counts) runs"
                    + (all
                        ? " (too few runs for an interval)"
                        : " where there were fewer than \(Estimate.minimumForInterval) (too few for an interval), "
                            + "else " + orderStatisticBars(estimates)) + ".")
        } else {
            sentences.append("Points are medians over repetitions; bars are \(orderStatisticBars(estimates)).")
        }
        if missing && !estimates.isEmpty { sentences.append("Points without per-run figures have no bars.") }
        return sentences.joined(separator: " ")
    }
}
