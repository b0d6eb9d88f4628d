/// Lines of help and listings, laid out for an 80-column terminal by the
/// demo itself: the argument parser re-wraps a line that is too long, and
/// its continuation loses the indentation that makes a table readable.
enum TextLayout {
    /// One column short of 80: the argument parser wraps a line that fills
    /// the terminal's last column.
    static let width = 79
    /// Where an example's summary starts in `list` and in a topic's help.
    static let summaryColumn = 24

    /// `prefix` then `text`, words wrapped at `width`, later lines indented
    /// to `indent` columns.
    static func hanging(_ prefix: String, _ text: String, indent: Int) -> String {
        var lines: [String] = []
        var line = prefix
        // Whether the next word goes right after what the line holds.
        var joins = line.last.map { !$0.isWhitespace } ?? false
        for word in text.split(separator: " ") {
            let separator = joins ? " " : ""
            if line.count > indent, line.count + separator.count + word.count >= width {
                lines.append(line)
                line = String(repeating: " ", count: indent) + word
            } else {
                line += separator + word
            }
            joins = true
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    /// One example's row: its name, then its summary from `summaryColumn`.
    static func exampleRow(_ example: Example) -> String {
        hanging("  " + example.name.padding(to: summaryColumn - 2), example.summary, indent: summaryColumn)
    }
}
