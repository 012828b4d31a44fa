// "did you mean 'base_url'?" for misspelt keys and names.

enum KeySuggestion {
    /// The closest candidate, if close enough to be a plausible typo.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = lowered == candidate.lowercased() ? 0 : editDistance(Array(lowered), Array(candidate.lowercased()))
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        guard let best else { return nil }
        // About one edit per three characters: "modles" → "models", but not "url" → "base_url".
        let allowed = max(1, min(word.count, best.candidate.count) / 3)
        if best.distance <= allowed { return best.candidate }
        // A dash/underscore/case mix-up ("base-url", "baseURL") is always worth suggesting.
        if let same = candidates.first(where: { squashed($0) == squashed(word) }) { return same }
        // A clipped name ("anthropic" for "anthropic-messages") when it fits exactly one candidate.
        let extended = candidates.filter { $0.lowercased().hasPrefix(lowered) }
        if lowered.count >= 3, extended.count == 1 { return extended[0] }
        return nil
    }

    /// `; did you mean 'x'?` or the empty string.
    static func hint(for word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    private static func squashed(_ s: String) -> String {
        String(s.lowercased().filter { $0 != "_" && $0 != "-" })
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
    /// transpositions each cost one, so "modles" is one edit from "models".
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
