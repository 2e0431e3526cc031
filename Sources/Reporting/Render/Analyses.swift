import AsyncPatterns
import LabStore

/// The named analyses a spec's `answer.analyses` asks for: findings sentences plus a page section each. Published
/// results are set against ours claim by claim, each with the figures and a verdict computed from the data.
enum Analyses {
    /// What an analysis adds to a page.
    struct Output {
        var findings: [String] = []
        /// A Markdown section (with its `##` heading), or empty.
        var section = ""
    }

    static func output(_ name: String, _ view: AnswerView) -> Output {
        switch name {
        case "aws-backoff-jitter-2015": return awsBackoffJitter(view)
        case "sre-client-throttling": return sreClientThrottling(view)
        case "retry-budget-defaults": return retryBudgetDefaults(view)
        case "breaker-trade": return breakerTrade(view)
        case "load-knee": return loadKnee(view)
        case "memory-slope": return memorySlope(view)
        case "metastable-recovery": return metastableRecovery(view)
        default: return Output()
        }
    }

    /// How a claim fared.
    enum Verdict: String {
        case agrees = "agrees"
        case disagrees = "disagrees"
        case inconclusive = "inconclusive (the interval or range includes no difference, or one run a side)"
        case untestable = "not testable here"
    }

    /// Whether `comparison`'s ratio is above 1 (`above` true) or below, beyond its interval.
    static func direction(_ comparison: Comparison?, above: Bool) -> Verdict {
        guard let comparison, comparison.ratio.median.isFinite else { return .untestable }
        // One run a side shows no spread, so it cannot put a difference beyond noise.
        guard comparison.counts.min() ?? 0 >= 2 else { return .inconclusive }
        let ratio = comparison.ratio
        if above ? ratio.low > 1 : ratio.high < 1 { return .agrees }
        if above ? ratio.high < 1 : ratio.low > 1 { return .disagrees }
        return .inconclusive
    }

    /// All must agree; any disagreeing disagrees.
    static func all(_ verdicts: [Verdict]) -> Verdict {
        if verdicts.contains(.untestable) { return .untestable }
        if verdicts.allSatisfy({ $0 == .agrees }) { return .agrees }
        if verdicts.contains(.disagrees) { return .disagrees }
        return .inconclusive
    }

    // MARK: AWS, "Exponential Backoff And Jitter" (2015)

    static func awsBackoffJitter(_ view: AnswerView) -> Output {
        guard let calls = Metric.named("server_calls"), let time = Metric.named("completion_s") else { return Output() }
        var output = Output()
        var section = "## Against the AWS study\n\n"
        section += "Marc Brooker, \"Exponential Backoff And Jitter\", AWS Architecture Blog, 2015, simulated clients "
        section += "contending for one optimistically locked item and compared backoff strategies by the calls they "
        section += "make (work) and the time until every client succeeds. Its conclusions (no jitter is the clear "
        section += "loser; of the jittered strategies, equal jitter does slightly more work than full jitter and "
        section += "takes much longer; full jitter does less work than decorrelated jitter but takes slightly "
        section += "longer), one claim per row, "
        section += "against ours at the largest client count measured; ratios are of medians over repetitions, with "
        section += "a 95% percentile-bootstrap interval (a range with fewer than \(Estimate.minimumForInterval) "
        section += "repetitions). A claim agrees when the whole interval lies on its side of 1.\n\n"
        for context in view.contexts {
            let by = view.headlineBy(context: context)
            let points = view.points(context: context, by: by)
            func point(_ name: String) -> PointSummary? { points.first { view.treatment($0) == name } }
            func ratio(_ a: String, _ b: String, _ metric: Metric) -> Comparison? {
                guard let pa = point(a), let pb = point(b) else { return nil }
                return view.compare(pa, pb, metric)
            }
            func show(_ a: String, _ b: String, _ metric: Metric) -> String {
                guard let comparison = ratio(a, b, metric) else { return "\(a)/\(b) \(metric.label): not measured" }
                return "\(a)/\(b) \(metric.label) " + Format.estimate(comparison.ratio, Format.times)
            }
            let jittered = ["full", "equal", "decorrelated"]
            var rows: [[String]] = []
            rows.append([
                "Exponential backoff without jitter makes more calls than every jittered strategy",
                jittered.map { show("exponential", $0, calls) }.joined(separator: "; "),
                all(jittered.map { direction(ratio("exponential", $0, calls), above: true) }).rawValue,
            ])
            rows.append([
                "... and takes longer to finish than every jittered strategy",
                jittered.map { show("exponential", $0, time) }.joined(separator: "; "),
                all(jittered.map { direction(ratio("exponential", $0, time), above: true) }).rawValue,
            ])
            rows.append([
                "Equal jitter makes slightly more calls than full jitter and takes much longer",
                show("equal", "full", calls) + "; " + show("equal", "full", time),
                all([
                    direction(ratio("equal", "full", calls), above: true),
                    direction(ratio("equal", "full", time), above: true),
                ]).rawValue,
            ])
            rows.append([
                "Full jitter makes fewer calls than decorrelated jitter but takes slightly longer",
                show("full", "decorrelated", calls) + "; " + show("full", "decorrelated", time),
                all([
                    direction(ratio("full", "decorrelated", calls), above: false),
                    direction(ratio("full", "decorrelated", time), above: true),
                ]).rawValue,
            ])
            let heading = [view.byText(by), context].filter { !$0.isEmpty }.joined(separator: ", ")
            section += "**\(Markdown.escape(heading.capitalizedFirst))**\n\n"
            section += Markdown.table(
                header: ["AWS claim (2015)", "ours", "verdict"], alignRight: [false, false, false],
                rows: rows.map { $0.map(Markdown.escape) })
            section += "\n"
            let agreed = rows.filter { $0[2] == Verdict.agrees.rawValue }.count
            let testable = rows.filter { $0[2] != Verdict.untestable.rawValue }.count
            var finding = "Against the AWS study \(Markdown.escape(view.byText(by)))"
            finding += context.isEmpty ? "" : " (\(Markdown.escape(context)))"
            finding +=
                testable == 0
                ? ", none of its claims can be tested with the strategies and runs measured here"
                : ", \(agreed) of the \(testable) claims these strategies can test agree"
            if let comparison = ratio("full", "exponential", calls), let full = point("full"),
                let exponential = point("exponential")
            {
                finding += "; full jitter made \(Format.estimate(full.metrics[calls.id]!, calls.format)) server calls "
                finding +=
                    "against plain exponential's \(Format.estimate(exponential.metrics[calls.id]!, calls.format))"
                finding += ", a ratio of \(AnswerView.comparisonText(comparison))"
            }
            let times = view.ranked(points, by: time).map { point in
                "\(Markdown.escape(view.treatment(point))) \(Format.estimate(point.metrics[time.id]!, time.format)) s"
            }
            if !times.isEmpty { finding += "; completion time per strategy: " + times.joined(separator: ", ") }
            output.findings.append(finding + ".")
            if let none = point("none") {
                section += "The study's claims compare the strategies with a wait; without one (its simulator's no "
                section += "backoff, our `none`), clients made "
                section += "\(Format.estimate(none.metrics[calls.id] ?? .exact(.nan), calls.format)) server calls here"
                if let finished = none.metrics[time.id] {
                    section += " and finished in \(Format.estimate(finished, time.format)) s.\n\n"
                } else {
                    section += ", and some of their requests gave up at the attempt limit, so their work never "
                    section += "finished (no completion time).\n\n"
                }
            }
        }
        if view.experiment.points.contains(where: \.isSimulated) {
            section += "Differences from the study's setup: the live engines make real HTTP calls over loopback to a "
            section += "mock server whose write holds the item for its service time; engine `sim` is a discrete-event "
            section += "simulation of the same clients and server (same server seed), as the study's was, in virtual "
            section += "time. Clients start together; the retry limit, base and cap are in the setup table.\n"
        } else {
            section += "Differences from the study's setup: ours are real HTTP calls over loopback to a mock server "
            section += "whose write holds the item for its service time, not a simulation; clients start together; the "
            section += "retry limit, base and cap are in the setup table.\n"
        }
        output.section = section
        return output
    }

    // MARK: SRE book, client-side throttling

    static func sreClientThrottling(_ view: AnswerView) -> Output {
        var output = Output()
        var section = "## Against the SRE book\n\n"
        section += "Beyer et al., *Site Reliability Engineering* (O'Reilly, 2016), chapter 21 \"Handling Overload\": "
        section += "each client rejects a request locally with probability max(0, (requests − K × accepts) / "
        section += "(requests + 1)), so under overload the backend receives about K times the requests it accepts, "
        section += "that is K − 1 rejected per accepted; the book recommends K = 2. Below, `requests` are every "
        section +=
            "logical request, warm-up included, `accepts` the backend's 2xx answers, per cell; the formula column applies the "
        section += "book's formula to each cell's own totals. A claim agrees when the measured backend ratio's "
        section += "interval lies within 20% of K − 1; below that, the throttle rejected more than the book's "
        section += "bound requires; above it, the backend received more than the book says.\n\n"
        var rows: [[String]] = []
        for (index, point) in view.experiment.points.enumerated() {
            let treatment = view.treatment(point)
            let k = treatment.hasPrefix("k:") ? Double(treatment.dropFirst(2)) : nil
            let ratio = point.metrics["backend_rejected_per_accepted"]
            let share = point.metrics["client_reject_share"]
            var predicted = "—"
            var claim = "none (no throttle)"
            var verdict = "—"
            if let k {
                let shares = view.experiment.cells[index].compactMap { cell -> Double? in
                    guard let accepted = cell.serverCounters?.accepted else { return nil }
                    // The server's counters include the warm-up, so the requests do too.
                    let requests = Double(cell.finals + cell.warmupFinals)
                    return max(0, (requests - k * accepted) / (requests + 1))
                }
                if !shares.isEmpty { predicted = Format.percent(Statistics.median(shares)) }
                claim = Format.significant(k - 1)
                if let ratio { verdict = throttleVerdict(ratio, claim: k - 1) }
            }
            let where_ = [view.byText(view.byValue(point)), view.context(point)].filter { !$0.isEmpty }
            rows.append([
                Markdown.escape(treatment), Markdown.escape(where_.joined(separator: ", ")),
                share.map { Format.estimate($0, Format.percent) } ?? "n/a", predicted,
                ratio.map { Format.estimate($0, Format.significant) } ?? "n/a", claim, verdict,
            ])
            if k == 2, let ratio, let share {
                let at = where_.isEmpty ? "" : " (\(Markdown.escape(where_.joined(separator: ", "))))"
                output.findings.append(
                    "With K = 2\(at) the clients rejected "
                        + "\(Format.estimate(share, Format.percent)) of requests themselves (the book's formula on "
                        + "the same totals: \(predicted)) and the backend rejected "
                        + "\(Format.estimate(ratio, Format.significant)) per accepted request, against the book's "
                        + "claim of about 1: \(verdict).")
            }
        }
        // The "at" column only when some point has a context or a `by` value.
        let showAt = rows.contains { !$0[1].isEmpty }
        section += Markdown.table(
            header: [
                "throttle", "at", "client rejections [CI / range]", "book's formula",
                "backend rejected per accepted",
                "book: K − 1", "verdict",
            ].enumerated().filter { showAt || $0.offset != 1 }.map(\.element),
            alignRight: [false, false, true, true, true, true, false].enumerated().filter { showAt || $0.offset != 1 }
                .map(\.element),
            rows: rows.map { row in row.enumerated().filter { showAt || $0.offset != 1 }.map(\.element) })
        output.section = section
        return output
    }

    /// The SRE claim for one K: the backend's rejected-per-accepted ratio near K − 1.
    static func throttleVerdict(_ ratio: Estimate, claim: Double) -> String {
        guard ratio.samples.count >= 2 else { return Verdict.inconclusive.rawValue }
        if ratio.low >= claim * 0.8 && ratio.high <= claim * 1.2 { return Verdict.agrees.rawValue }
        if ratio.high < claim * 0.8 { return "below the claim: the throttle rejected more than K requires" }
        if ratio.low > claim * 1.2 { return "disagrees: the backend received more than K × accepts" }
        return "inconclusive: the interval reaches outside the band of 20% around K − 1"
    }

    // MARK: Finagle and Envoy retry budgets

    static func retryBudgetDefaults(_ view: AnswerView) -> Output {
        var output = Output()
        let floor = view.experiment.spec.resilience?["budget"]?["minRetriesPerSecond"]?.numberValue ?? 10
        var section = "## Against Finagle's and Envoy's retry budgets\n\n"
        section += "Finagle's default `RetryBudget` lets retries reach 20% of requests over a 10 s window, plus a "
        section += "reserve of 10 retries per second: under a steady load that bounds load amplification (server "
        section += "calls per logical request) at about 1.2 plus the reserve. Envoy's `retry_budget` also defaults "
        section += "to 20%, but of active requests: it caps retries in flight at once (at least 3), not retries per "
        section += "request, so where failures come back at once it need not hold amplification near 1.2, and it is "
        section += "not what is tested here. A ratio budget `ratio:R` here has Finagle's form with a 1 s window "
        section += "instead of 10 s: it should keep amplification at or below 1 + R + its floor of "
        section += "\(Format.significant(floor)) retries/s divided by the offered rate. The verdict checks that "
        section += "bound (the implementation against its definition, as Finagle states it): it agrees when the "
        section += "whole interval is at or below it.\n\n"
        var rows: [[String]] = []
        for point in view.experiment.points {
            let treatment = view.treatment(point)
            let amplification = point.metrics["amplification"]
            var bound = "—"
            var verdict = "—"
            if treatment.hasPrefix("ratio:"), let r = Double(treatment.dropFirst(6)) {
                let rate = point.params[.rate]?.number ?? 0
                let limit = 1 + r + (rate > 0 ? floor / rate : 0)
                bound = "≤ " + Format.fixed(limit, 3)
                if let amplification, amplification.samples.count < 2 {
                    verdict = Verdict.inconclusive.rawValue
                } else if let amplification {
                    verdict =
                        (amplification.high <= limit
                        ? Verdict.agrees
                        : amplification.low > limit ? .disagrees : .inconclusive).rawValue
                }
                if abs(r - 0.2) < 1e-9, let amplification, let success = point.metrics["success_rate"] {
                    let context = view.context(point)
                    output.findings.append(
                        "With the published default of 20% (ratio:0.2\(context.isEmpty ? "" : ", \(Markdown.escape(context))")) "
                            + "amplification was \(Format.estimate(amplification, { Format.fixed($0, 3) })) against "
                            + "the bound \(Format.fixed(limit, 3)) (\(verdict)), with "
                            + "\(Format.estimate(success, Format.percent)) of requests succeeding.")
                }
            }
            rows.append([
                Markdown.escape(treatment), Markdown.escape(view.context(point)),
                amplification.map { Format.estimate($0, { Format.fixed($0, 3) }) } ?? "n/a",
                point.metrics["success_rate"].map { Format.estimate($0, Format.percent) } ?? "n/a",
                point.metrics["goodput"].map { Format.estimate($0, Format.rate) } ?? "n/a", bound, verdict,
            ])
        }
        section += Markdown.table(
            header: ["budget", "context", "amplification", "success rate", "goodput (req/s)", "20% bound", "verdict"],
            alignRight: [false, false, true, true, true, true, false], rows: rows)
        output.section = section
        return output
    }

    // MARK: Circuit breaker trade-off

    static func breakerTrade(_ view: AnswerView) -> Output {
        var output = Output()
        guard let calls = Metric.named("server_calls") else { return output }
        for context in view.contexts {
            let points = view.experiment.points.filter { view.context($0) == context }
            guard let on = points.first(where: { view.treatment($0) == "on" }) else { continue }
            let off = points.first { view.treatment($0) == "off" }
            var parts: [String] = []
            let opened = on.metrics["time_to_open_s"]
            let closed = on.metrics["time_to_close_s"]
            parts.append(
                opened.map { "the breaker opened \(Format.estimate($0, Format.significant)) s after the failure began" }
                    ?? "the breaker did not open in every repetition")
            parts.append(
                closed.map { "closed \(Format.estimate($0, Format.significant)) s after the server recovered" }
                    ?? "did not close after recovery in every repetition")
            if let off, let comparison = view.compare(on, off, calls) {
                let ratio = comparison.ratio
                let shed = Estimate(
                    median: 1 - ratio.median, low: 1 - ratio.high, high: 1 - ratio.low, samples: [],
                    rangeOf: ratio.rangeOf)
                parts.append("it shed \(Format.estimate(shed, Format.percent)) of server calls")
                if let rejected = on.metrics["rejected_locally"], let failedOff = off.metrics["failed_requests"],
                    let failedOn = on.metrics["failed_requests"]
                {
                    let avoided = failedOff.median - failedOn.median
                    parts.append(
                        "rejecting \(Format.count(rejected.median)) requests to avoid \(Format.count(avoided)) failures "
                            + "(\(Format.count(failedOff.median)) failed without the breaker, "
                            + "\(Format.count(failedOn.median)) with it)")
                }
                parts.append(
                    "the error rate (failures and rejections) went from \(Format.percent(off.errorRate)) without the "
                        + "breaker to \(Format.percent(on.errorRate)) with it")
            }
            let lead = context.isEmpty ? "" : "\(Markdown.escape(context)): "
            output.findings.append(lead + parts.joined(separator: "; ") + ". Medians over repetitions.")
        }
        return output
    }
}
