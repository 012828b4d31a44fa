// Plan model patterns: `*` matches any run of characters (including none and including `/`), every
// other character matches itself. Kept deliberately simple so the gateway can apply the same rule.

public enum ModelPattern {
    public static func matches(_ pattern: String, _ id: String) -> Bool {
        let p = Array(pattern.unicodeScalars), s = Array(id.unicodeScalars)
        // Iterative glob with backtracking to the last star: linear in practice, no recursion.
        var pi = 0, si = 0
        var starAt = -1, resumeAt = 0
        while si < s.count {
            if pi < p.count, p[pi] != "*", p[pi] == s[si] {
                pi += 1; si += 1
            } else if pi < p.count, p[pi] == "*" {
                starAt = pi; resumeAt = si; pi += 1
            } else if starAt >= 0 {
                pi = starAt + 1; resumeAt += 1; si = resumeAt
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
