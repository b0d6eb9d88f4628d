/// The candidate `word` most likely misspells, for "did you mean" hints:
/// the only one it is a prefix of (`sem` → `semaphore`), else the closest by
/// edit distance, if that is at most a third of the word's length (at least
/// 1). nil when nothing is close: a far-fetched hint misleads more than none.
func nearest(to word: String, in candidates: [String]) -> String? {
    let lowered = word.lowercased()
    let extensions = candidates.filter { $0.hasPrefix(lowered) }
    if lowered.count >= 2, extensions.count == 1 { return extensions[0] }
    guard let closest = candidates.min(by: { editDistance(lowered, $0) < editDistance(lowered, $1) }) else { return nil }
    return editDistance(lowered, closest) <= max(1, lowered.count / 3) ? closest : nil
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
