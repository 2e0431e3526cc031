/// Findings that answer an experiment's question with the metrics its spec names: per metric and context, the
/// treatments ranked at the headline `by` value with their intervals, the best against the baseline (or the
/// worst) and against the runner-up, with rank tests; and how often the best stays best along `by`.
enum AnswerFindings {
    static func sentences(_ view: AnswerView) -> [String] {
        var out: [String] = []
        for metricID in view.answer.metrics {
            guard let metric = Metric.named(metricID) else { continue }
            for context in view.contexts {
                if let sentence = rankingSentence(view, metric: metric, context: context) { out.append(sentence) }
            }
        }
        return out
    }

    /// The ranking of one metric in one context, told at the headline `by` value.
    static func rankingSentence(_ view: AnswerView, metric: Metric, context: String) -> String? {
        let by = view.headlineBy(context: context)
        let ranked = view.ranked(view.points(context: context, by: by), by: metric)
        guard ranked.count >= 2 else { return nil }
        let where_ = [view.byText(by), context.isEmpty ? "" : "(\(context))"].filter { !$0.isEmpty }
            .joined(separator: " ")
        var sentence = "**\(metric.label.capitalizedFirst)**" + (where_.isEmpty ? "" : " \(Markdown.escape(where_))")
        sentence += ", \(metric.better == .lower ? "lowest" : "highest") first: "
        sentence += ranked.map { point in
            "\(Markdown.escape(view.treatment(point))) \(Format.estimate(point.metrics[metric.id]!, metric.format))"
        }.joined(separator: ", ")
        sentence += "."
        let best = ranked[0]
        // Against the baseline; when the baseline is itself the best, against the worst.
        let baseline = view.answer.baseline.flatMap { name in ranked.first { view.treatment($0) == name } }
            .flatMap { $0.cellKeys == best.cellKeys ? nil : $0 }
        let reference = baseline ?? ranked[ranked.count - 1]
        // A ratio to or from zero says nothing more than the values themselves.
        let zero = best.metrics[metric.id]!.median == 0 || reference.metrics[metric.id]!.median == 0
        if !zero, reference.cellKeys != best.cellKeys, let comparison = view.compare(best, reference, metric) {
            sentence +=
                " \(Markdown.escape(view.treatment(best))) against \(Markdown.escape(view.treatment(reference)))"
            sentence += baseline == nil ? " (the worst)" : " (the baseline)"
            sentence += ": \(AnswerView.comparisonText(comparison))"
            if ranked.count >= 3, ranked[1].cellKeys != reference.cellKeys,
                ranked[1].metrics[metric.id]!.median != 0, let second = view.compare(best, ranked[1], metric)
            {
                sentence += "; against the runner-up \(Markdown.escape(view.treatment(ranked[1]))): "
                sentence += AnswerView.comparisonText(second)
            }
            sentence += "."
        }
        if let stability = stabilitySentence(view, metric: metric, context: context, best: view.treatment(best)) {
            sentence += " " + stability
        }
        return sentence
    }

    /// At how many `by` values the headline's best treatment leads significantly (against the runner-up there),
    /// which treatment leads significantly elsewhere, and where no treatment does: a lead within the noise is no
    /// lead.
    static func stabilitySentence(_ view: AnswerView, metric: Metric, context: String, best: String) -> String? {
        guard let axis = view.answer.by else { return nil }
        var wins: [String] = []
        var others: [String] = []
        var unclear: [String] = []
        var compared = 0
        for by in view.byValues {
            let ranked = view.ranked(view.points(context: context, by: by), by: metric)
            guard ranked.count >= 2, let by else { continue }
            compared += 1
            let leads =
                ranked[0].metrics[metric.id]!.median != ranked[1].metrics[metric.id]!.median
                && view.compare(ranked[0], ranked[1], metric)?.significant == true
            guard leads else {
                unclear.append(by.display)
                continue
            }
            let winner = view.treatment(ranked[0])
            if winner == best { wins.append(by.display) } else { others.append("\(by.display): \(winner)") }
        }
        guard compared >= 2 else { return nil }
        if wins.count == compared {
            return Markdown.escape("\(best) leads the runner-up significantly at every \(axis) measured") + "."
        }
        if unclear.count == compared {
            return Markdown.escape("No treatment leads the runner-up significantly at any \(axis) measured") + "."
        }
        var parts: [String] = []
        if !wins.isEmpty {
            parts.append(
                "\(best) leads the runner-up significantly at \(wins.count) of \(compared) values of \(axis) "
                    + "(\(wins.joined(separator: ", ")))")
        }
        if !others.isEmpty {
            parts.append((wins.isEmpty ? "Significant leaders: " : "elsewhere ") + others.joined(separator: "; "))
        }
        if !unclear.isEmpty {
            parts.append((parts.isEmpty ? "No" : "no") + " significant leader at " + unclear.joined(separator: ", "))
        }
        return Markdown.escape(parts.joined(separator: "; ")) + "."
    }

    /// Each treatment's best value along `by`, per context: "async 12038 at concurrency 256".
    static func peakSentence(_ view: AnswerView, metric: Metric) -> [String] {
        // Each engine's peak is news for what should be high (throughput) when engines are compared; a count that
        // grows with load peaks trivially at the smallest load.
        guard view.answer.compare == "engine", let axis = view.answer.by, view.byValues.count > 1,
            metric.better == .higher
        else { return [] }
        var out: [String] = []
        for context in view.contexts {
            let points = view.experiment.points.filter { view.context($0) == context }
            var treatments: [String] = []
            for point in points where !treatments.contains(view.treatment(point)) {
                treatments.append(view.treatment(point))
            }
            let parts = treatments.compactMap { treatment -> String? in
                guard let peak = view.ranked(points.filter { view.treatment($0) == treatment }, by: metric).first,
                    let value = peak.metrics[metric.id]
                else { return nil }
                return "\(Markdown.escape(treatment)) \(Format.estimate(value, metric.format)) at "
                    + "\(Markdown.escape(view.byValue(peak)?.display ?? ""))"
            }
            guard !parts.isEmpty else { continue }
            let heading = context.isEmpty ? "" : " (\(Markdown.escape(context)))"
            out.append(
                "Best \(metric.label) over \(Markdown.escape(axis))\(heading): " + parts.joined(separator: "; ") + ".")
        }
        return out
    }

    /// The answer table: one row per point, with every answer metric's median and interval.
    static func table(_ view: AnswerView) -> String {
        let metrics = view.answer.metrics.compactMap(Metric.named)
        var header: [String] = []
        if let by = view.answer.by { header.append(by) }
        if !view.contexts.allSatisfy(\.isEmpty) { header.append("context") }
        header.append(view.answer.compare)
        header.append("reps")
        header += metrics.map { $0.header + " [CI / range]" }
        var rows: [[String]] = []
        for context in view.contexts {
            for by in view.byValues {
                for point in view.points(context: context, by: by) {
                    var row: [String] = []
                    if view.answer.by != nil { row.append(by?.display ?? "") }
                    if header.contains("context") { row.append(context) }
                    row.append(view.treatment(point))
                    row.append("\(point.repetitions)")
                    row = row.map(Markdown.escape)
                    // A point not measured at the load it names (see `LoadCheck`): marked beside its treatment.
                    row[row.count - 2] += LoadCheck.mark(point)
                    row += metrics.map { metric in
                        point.metrics[metric.id].map { Format.estimate($0, metric.format) } ?? "n/a"
                    }
                    rows.append(row)
                }
            }
        }
        let alignRight = header.map { $0 == "reps" || $0.hasSuffix(" [CI / range]") || $0 == view.answer.by }
        var out = Markdown.table(header: header.map(Markdown.escape), alignRight: alignRight, rows: rows)
        let footnote = LoadCheck.footnote(view.experiment.points)
        if !footnote.isEmpty { out += "\n" + footnote + "\n" }
        return out
    }
}

extension String {
    /// The string with its first character upper-cased.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

extension AnswerFindings {
    /// The index headline rows of an experiment, by its first answer metric: per context, the best treatment at
    /// the headline `by` value against the baseline (or the worst).
    /// A memory experiment's headline is its answer, the slope of memory against concurrency.
    static func headlineRows(_ view: AnswerView, link: String) -> [[String]] {
        if view.answer.analyses.contains("memory-slope"), let row = Analyses.memorySlopeHeadline(view, link: link) {
            return [row]
        }
        guard let metric = view.answer.metrics.first.flatMap(Metric.named) else { return [] }
        var rows: [[String]] = []
        for context in view.contexts {
            let by = view.headlineBy(context: context)
            let ranked = view.ranked(view.points(context: context, by: by), by: metric)
            guard let best = ranked.first, ranked.count >= 2 else { continue }
            let reference =
                view.answer.baseline.flatMap { name in ranked.first { view.treatment($0) == name } }
                .flatMap { $0.cellKeys == best.cellKeys ? nil : $0 } ?? ranked[ranked.count - 1]
            let byWords = view.answer.by.flatMap { axis in by.map { "\(axis) \($0.display)" } } ?? ""
            let at = [byWords, context].filter { !$0.isEmpty }.joined(separator: ", ")
            let comparison = reference.cellKeys == best.cellKeys ? nil : view.compare(best, reference, metric)
            rows.append([
                link, Markdown.escape(metric.header), Markdown.escape(at),
                Markdown.escape(view.treatment(best)) + " " + Format.estimate(best.metrics[metric.id]!, metric.format),
                Markdown.escape(view.treatment(reference)) + " "
                    + Format.estimate(reference.metrics[metric.id]!, metric.format),
                comparison.map { AnswerView.comparisonText($0) } ?? "—",
            ])
        }
        return rows
    }
}
