/// Topics and examples with their descriptions, as JSON: what
/// `scripts/gen-examples` and the golden tests read. Each topic's
/// `"normalize"` lists the rules the golden tests apply to its output.
func catalogueJSON() -> String {
    let topics = allTopics.map { topic in
        let examples = topic.examples.map { example in
            #"{"name": \#(jsonString(example.name)), "summary": \#(jsonString(example.summary)), "#
                + #""mirrors": \#(jsonString(example.mirrors))}"#
        }
        // In the enum's order, so the JSON does not depend on how a topic lists them.
        let rules = Normalization.allCases.filter(topic.normalize.contains).map { jsonString($0.rawValue) }
        return #"{"name": \#(jsonString(topic.name)), "section": \#(jsonString(topic.section)), "#
            + #""abstract": \#(jsonString(topic.abstract)), "normalize": [\#(rules.joined(separator: ", "))], "#
            + #""examples": [\#(examples.joined(separator: ", "))]}"#
    }
    return "[" + topics.joined(separator: ",\n") + "]"
}

private func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case _ where scalar.value < 0x20:
            out += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
