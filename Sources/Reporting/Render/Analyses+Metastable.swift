import LabStore

/// `metastable-recovery`: per treatment (the client's resilience patterns) and engine, whether goodput came back
/// after the server's trigger phase or stayed collapsed once the trigger was gone (a metastable failure, in the
/// terms of Bronson et al., HotOS 2021: a trigger, and a sustaining effect that outlives it).
extension Analyses {
    /// The parameters that name a treatment, in label order, with the value that means "off".
    static let patternParameters: [(name: ParameterName, off: String)] = [
        (.backoff, "off"), (.budget, "none"), (.breaker, "off"), (.throttle, "off"), (.limiter, "off"),
    ]

    /// A treatment named by its resilience settings: "no retries", "retries", "retries + budget token:10",
    /// "retries + breaker", "retries + throttle k:2". The backoff strategy is named only when the experiment has
    /// more than one ("retries (full)").
    static func patternLabel(_ params: CellParameters, in experiment: ExperimentModel) -> String {
        func value(_ name: ParameterName) -> String {
            params[name]?.description ?? name.defaultValue.description
        }
        let strategies = Set(
            experiment.points.map { $0.params[.backoff]?.description ?? "off" }.filter { $0 != "off" })
        var parts: [String] = []
        for (name, off) in patternParameters {
            let setting = value(name)
            switch name {
            case .backoff:
                parts.append(setting == off ? "no retries" : strategies.count > 1 ? "retries (\(setting))" : "retries")
            case .breaker where setting != off:
                parts.append(setting == "on" ? "breaker" : "breaker \(setting)")
            default:
                if setting != off { parts.append("\(name.rawValue) \(setting)") }
            }
        }
        return parts.joined(separator: " + ")
    }

    /// The order of the treatments: fewest patterns on first, then by which are on, in `patternParameters` order
    /// (retries, then with a budget, a breaker, a throttle, a limiter).
    static func patternOrder(_ params: CellParameters) -> [Int] {
        let on = patternParameters.indices.filter { index in
            let (name, off) = patternParameters[index]
            return (params[name]?.description ?? off) != off
        }
        return [on.count] + on
    }

    /// The other axes that vary (a rate, say), as "rate 560"; empty when only the patterns and engines vary.
    static func otherSettings(_ point: PointSummary, in experiment: ExperimentModel) -> String {
        let patterns = Set(patternParameters.map(\.name.rawValue))
        return experiment.varyingAxes.filter { axis in
            !patterns.contains(axis) && ChartPlanner.isVarying(axis, in: experiment)
        }.map { "\($0) \(point.value($0)?.display ?? "")" }.joined(separator: ", ")
    }

    /// What one engine's repetitions of a treatment did.
    enum RecoveryOutcome: Equatable {
        case recovered
        case collapsed
        case neither
        case noLevel
        case unmeasured

        var words: String {
            switch self {
            case .recovered: "recovered"
            case .collapsed: "stayed collapsed"
            case .neither: "neither recovered nor stayed collapsed"
            case .noLevel: "had no goodput before the trigger"
            case .unmeasured: "had no trigger phase"
            }
        }
    }

    /// One row of the recovery table: one treatment on one engine.
    struct RecoveryRow {
        var treatment: String
        var order: [Int]
        /// The point's index in `ExperimentModel.points` (and `cells`).
        var index: Int
        var point: PointSummary
        var repetitions: Int
        /// The repetitions that have a recovery, in cell order.
        var measured: [Repetition]
        var wasted: [Double]

        /// A repetition with a recovery: its cell, what its goodput did, and the machine's CPU steal over it (a share
        /// of its CPU time; nil when not measured).
        struct Repetition {
            var cell: CellStatistics
            var recovery: CellStatistics.Recovery
            var steal: Double?
        }

        var recoveries: [CellStatistics.Recovery] { measured.map(\.recovery) }

        /// The repetitions that say what the trigger did: all but the `earlyCollapses`.
        var counted: [CellStatistics.Recovery] {
            let early = Set(earlyCollapses)
            return recoveries.indices.filter { !early.contains($0) }.map { recoveries[$0] }
        }
        var recoveredCount: Int { counted.filter(\.recovered).count }
        var collapsedCount: Int { counted.filter(\.collapsed).count }
        var recoverySeconds: [Double] { counted.map(\.seconds).filter(\.isFinite) }

        /// Repetitions whose goodput from 1 s to the trigger's start stayed below half the median of the others'
        /// (those with any): they collapsed before the trigger (or never started), so what they did after it says
        /// nothing about the trigger, and they count as neither recovered nor collapsed.
        var earlyCollapses: [Int] {
            let levels = recoveries.map(\.before).filter { $0 > 0 }
            let typical = levels.isEmpty ? 0 : Statistics.median(levels)
            return recoveries.indices.filter {
                !recoveries[$0].hasLevel || recoveries[$0].before < CellStatistics.collapsedShare * typical
            }
        }

        /// The repetition that best shows what the treatment did: of those with a level before the trigger that did
        /// what most did, the one with the median recovery time (recovered) or the median goodput over the last 2 s
        /// (otherwise); nil without one.
        var typical: CellStatistics? {
            let outcome = outcome
            let early = Set(earlyCollapses)
            let candidates = recoveries.indices.filter { index in
                let recovery = recoveries[index]
                guard recovery.hasLevel, !early.contains(index) else { return false }
                switch outcome {
                case .recovered: return recovery.recovered
                case .collapsed: return recovery.collapsed
                default: return true
                }
            }
            let ranked = candidates.sorted { left, right in
                outcome == .recovered
                    ? recoveries[left].seconds < recoveries[right].seconds
                    : recoveries[left].tail < recoveries[right].tail
            }
            return ranked.isEmpty ? nil : measured[ranked[(ranked.count - 1) / 2]].cell
        }

        /// Stayed collapsed in most repetitions; else recovered in most; else neither.
        var outcome: RecoveryOutcome {
            if recoveries.isEmpty { return .unmeasured }
            if 2 * recoveries.filter(\.hasLevel).count <= repetitions { return .noLevel }
            if 2 * collapsedCount > repetitions { return .collapsed }
            if 2 * recoveredCount > repetitions { return .recovered }
            return .neither
        }
    }

    /// The rows of the recovery table, treatments in `patternOrder`, then in point order; engines in page order.
    static func recoveryRows(_ experiment: ExperimentModel) -> [RecoveryRow] {
        var rows: [RecoveryRow] = []
        for (index, point) in experiment.points.enumerated() {
            let cells = experiment.cells[index]
            var treatment = patternLabel(point.params, in: experiment)
            let others = otherSettings(point, in: experiment)
            if !others.isEmpty { treatment += ", " + others }
            let measured = cells.compactMap { cell in
                cell.recovery(events: experiment.events[cell.cell.id] ?? []).map {
                    RecoveryRow.Repetition(
                        cell: cell, recovery: $0, steal: Methods.load(cell, run: experiment.run).steal)
                }
            }
            rows.append(
                RecoveryRow(
                    treatment: treatment, order: patternOrder(point.params), index: index, point: point,
                    repetitions: cells.count, measured: measured, wasted: cells.compactMap(\.wastedShare)))
        }
        var firstSeen: [String: Int] = [:]
        for (index, row) in rows.enumerated() where firstSeen[row.treatment] == nil { firstSeen[row.treatment] = index }
        let engineRank = Dictionary(uniqueKeysWithValues: experiment.engines.enumerated().map { ($1, $0) })
        return rows.sorted { lhs, rhs in
            if lhs.order != rhs.order { return lhs.order.lexicographicallyPrecedes(rhs.order) }
            if lhs.treatment != rhs.treatment { return firstSeen[lhs.treatment]! < firstSeen[rhs.treatment]! }
            return (engineRank[lhs.point.engine] ?? 0) < (engineRank[rhs.point.engine] ?? 0)
        }
    }

    /// "async (live)" or "sim (simulated)".
    static func engineWords(_ engine: String) -> String {
        engine == EngineName.sim.rawValue ? "\(engine) (simulated)" : "\(engine) (live)"
    }

    /// "12.3 (10.1–14.2)": the median with the range of the repetitions; the value alone for one; "—" for none.
    static func medianAndRange(_ values: [Double], _ format: (Double) -> String) -> String {
        let values = values.filter(\.isFinite)
        guard let low = values.min(), let high = values.max() else { return "—" }
        let median = format(Statistics.median(values))
        return values.count == 1 || format(low) == format(high) ? median : "\(median) (\(format(low))–\(format(high)))"
    }

    /// The section "Recovery after the trigger" (its definitions and a table of `recoveryRows`) and one finding per
    /// treatment.
    static func metastableRecovery(_ view: AnswerView) -> Output {
        let experiment = view.experiment
        let rows = recoveryRows(experiment)
        var output = Output()
        let triggers = rows.flatMap { $0.recoveries.map { (start: $0.triggerStartNs, end: $0.triggerEndNs) } }
        var section = "## Recovery after the trigger\n\n"
        section += "A metastable failure (Bronson et al., HotOS 2021; Huang et al., OSDI 2022) has a *trigger* that "
        section += "pushes the system into overload and a *sustaining effect* that keeps it there once the trigger "
        section += "is gone; here the sustaining effect would be retries and wasted work (requests the server serves "
        section += "after their client has given up). "
        if triggers.isEmpty {
            section += "No cell's server schedule has a phase named \"trigger\" followed by another, so there is "
            section += "nothing to recover from.\n"
            output.section = section
            return output
        }
        let starts = triggers.map { Double($0.start) / 1e9 }
        let ends = triggers.map { Double($0.end) / 1e9 }
        section += "The trigger is the server's schedule phase named \"trigger\", from "
        section += "\(medianAndRange(starts, Format.significant)) s to \(medianAndRange(ends, Format.significant)) s "
        section += "after the cell started. Goodput is successful requests per second, counted in 100 ms buckets of "
        section += "their end time. Its level before the trigger is its mean from 1 s to the trigger's start. A cell "
        section += "*recovered* when a 1 s window (sliding in 100 ms steps from the trigger's end) came back to 90% "
        section += "of that level before the cell's last sample ended; the recovery time runs from the trigger's end "
        section += "to the end of that window (to within 50 ms). A cell *stayed collapsed* when its goodput over the "
        section += "last 2 s of the offered load (up to the last first attempt's send) was below half its level "
        section += "before the trigger. A cell *collapsed before the trigger* when its goodput from 1 s to the "
        section += "trigger's start was below half the median of its treatment's repetitions: it counts as neither. "
        section += "A treatment recovered or stayed collapsed on an engine when most of its repetitions did. Wasted "
        section += "work is the server's requests served after their client had given up, "
        section += "as a share of all it served. Medians over repetitions, with their range; the simulation's "
        section += "times are virtual.\n\n"
        var table: [[String]] = []
        for row in rows {
            let seconds = row.recoverySeconds
            table.append([
                Markdown.escape(row.treatment), Markdown.escape(engineWords(row.point.engine)), "\(row.repetitions)",
                "\(row.recoveredCount)", medianAndRange(seconds, Format.significant),
                medianAndRange(row.recoveries.map(\.before), Format.rate),
                medianAndRange(row.recoveries.map(\.tail), Format.rate), "\(row.collapsedCount)",
                "\(row.earlyCollapses.count)", medianAndRange(row.wasted, Format.percent),
            ])
        }
        section += Markdown.table(
            header: [
                "treatment", "engine", "repetitions", "recovered", "recovery time (s)",
                "goodput before the trigger (req/s)", "goodput, last 2 s (req/s)", "stayed collapsed",
                "collapsed before the trigger", "wasted work",
            ], alignRight: [false, false, true, true, true, true, true, true, true, true], rows: table)
        section += "\n"
        var treatments: [String] = []
        for row in rows where !treatments.contains(row.treatment) { treatments.append(row.treatment) }
        for treatment in treatments {
            let engines = rows.filter { $0.treatment == treatment }
            output.findings.append(recoveryFinding(treatment, engines))
        }
        output.section = section
        return output
    }

    /// One sentence for one treatment: per engine, whether it recovered (and in how long) or stayed collapsed (and
    /// what sustained it), and whether the live engines and the simulation agree.
    static func recoveryFinding(_ treatment: String, _ rows: [RecoveryRow]) -> String {
        var parts: [String] = []
        for row in rows {
            let engine = Markdown.escape(engineWords(row.point.engine))
            switch row.outcome {
            case .recovered:
                let seconds = medianAndRange(row.recoverySeconds, Format.significant)
                parts.append(
                    "\(engine) recovered in \(row.recoveredCount) of \(row.repetitions) repetitions, \(seconds) s "
                        + "after the trigger ended (to the end of the first 1 s window back at 90% of its level)")
            case .collapsed:
                var text = "\(engine) stayed collapsed in \(row.collapsedCount) of \(row.repetitions) repetitions "
                text += "(goodput over the last 2 s \(medianAndRange(row.recoveries.map(\.tail), Format.rate)) req/s "
                text += "against \(medianAndRange(row.recoveries.map(\.before), Format.rate)) before the trigger, "
                let left = row.recoveries.map { Double($0.loadEndNs - $0.triggerEndNs) / 1e9 }
                text += "the offered load ending \(medianAndRange(left, Format.significant)) s after the trigger did"
                var sustaining: [String] = []
                if row.point.attemptsPerRequest.isFinite, row.point.attemptsPerRequest > 1.005 {
                    sustaining.append(
                        "retries (\(Format.significant(row.point.attemptsPerRequest)) attempts sent per request)")
                }
                if !row.wasted.isEmpty, Statistics.median(row.wasted) > 0 {
                    sustaining.append(
                        "wasted work (\(Format.percent(Statistics.median(row.wasted))) of the server's requests "
                            + "served after their client had given up)")
                }
                if !sustaining.isEmpty {
                    text += "; sustaining effect: " + sustaining.joined(separator: " and ")
                }
                parts.append(text + ")")
            case .neither:
                parts.append(
                    "\(engine) neither recovered nor stayed collapsed in most repetitions (recovered in "
                        + "\(row.recoveredCount), collapsed in \(row.collapsedCount) of \(row.repetitions); goodput "
                        + "over the last 2 s \(medianAndRange(row.recoveries.map(\.tail), Format.rate)) req/s against "
                        + "\(medianAndRange(row.recoveries.map(\.before), Format.rate)) before the trigger: degraded, "
                        + "above half of that level, but no 1 s window came back to 90% of it)")
            case .noLevel:
                parts.append(
                    "\(engine) had no goodput before the trigger in most repetitions, so nothing to recover to "
                        + "(goodput over the whole cell \(Format.estimate(row.point.goodput, Format.rate)) req/s)")
            case .unmeasured:
                parts.append("\(engine) had no trigger phase to recover from")
            }
        }
        for row in rows where row.outcome != .noLevel && !row.earlyCollapses.isEmpty {
            parts.append(earlyCollapseNote(row))
        }
        var sentence = "**\(Markdown.escape(treatment))**: " + parts.joined(separator: "; ")
        let measured = rows.filter { $0.outcome != .unmeasured && $0.outcome != .noLevel }
        let live = measured.filter { !$0.point.isSimulated }
        let simulated = measured.filter(\.point.isSimulated)
        if !live.isEmpty, !simulated.isEmpty {
            let outcomes = Set((live + simulated).map(\.outcome.words))
            if outcomes.count == 1 {
                sentence += "; live and sim agree (\(outcomes.first!))"
            } else {
                sentence +=
                    "; live and sim disagree ("
                    + (live + simulated).map { "\($0.point.engine) \($0.outcome.words)" }.joined(separator: ", ") + ")"
            }
        }
        return sentence + "."
    }

    /// The clause on repetitions that collapsed before the trigger: how many, and the CPU steal they met against
    /// the other repetitions' (a host that takes the client's CPU away is a trigger too).
    static func earlyCollapseNote(_ row: RecoveryRow) -> String {
        let early = row.earlyCollapses
        let engine = Markdown.escape(engineWords(row.point.engine))
        var text = "\(early.count) of \(row.repetitions) \(engine) repetitions collapsed before the trigger "
        text += "(goodput from 1 s to the trigger's start below half the others'), so they count as neither "
        text += "recovered nor collapsed"
        let earlySteal = early.compactMap { row.measured[$0].steal }
        let otherSteal = row.measured.indices.filter { !early.contains($0) }.compactMap { row.measured[$0].steal }
        if !earlySteal.isEmpty, !otherSteal.isEmpty {
            text += "; the machine's CPU steal over those cells was \(medianAndRange(earlySteal, Format.percent)), "
            text += "against \(medianAndRange(otherSteal, Format.percent)) over the others"
            // Every early one above the others' median: the host taking CPU away is the likely trigger.
            if earlySteal.min()! > Statistics.median(otherSteal) {
                text += ": the host taking the client's CPU away likely acted as a trigger of its own"
            }
        }
        return text
    }
}
