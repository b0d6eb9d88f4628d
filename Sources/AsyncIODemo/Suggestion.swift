/// The candidate closest to `word` by edit distance, for "did you mean" hints.
func nearest(to word: String, in candidates: [String]) -> String? {
    candidates.min { editDistance(word, $0) < editDistance(word, $1) }
}

/// Levenshtein distance between two strings.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for (i, charA) in a.enumerated() {
        var current = [i + 1]
        for (j, charB) in b.enumerated() {
            current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (charA == charB ? 0 : 1)))
        }
        previous = current
    }
    return previous[b.count]
}
