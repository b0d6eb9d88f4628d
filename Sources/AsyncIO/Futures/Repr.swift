/// Python's `repr()` of a string: single quotes unless the text contains a
/// single quote and no double quote, with backslash escapes.
public func pythonRepr(_ text: String) -> String {
    let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where Character(scalar) == quote: out += "\\\(quote)"
        case _ where scalar.value < 0x20 || scalar.value == 0x7f:
            out += "\\x" + hex2(scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    out.append(quote)
    return out
}

/// Python's `repr()` of a value as asyncio prints results: strings quoted,
/// `nil` and `()` as `None`, everything else as Swift describes it.
public func pythonRepr(any value: Any) -> String {
    switch value {
    case let text as String: return pythonRepr(text)
    case is Void: return "None"
    case let optional as OptionalProtocol: return optional.pythonRepr
    case let bool as Bool: return bool ? "True" : "False"
    case let array as [Any]: return "[" + array.map { pythonRepr(any: $0) }.joined(separator: ", ") + "]"
    default: return String(describing: value)
    }
}

private protocol OptionalProtocol { var pythonRepr: String { get } }

extension Optional: OptionalProtocol {
    fileprivate var pythonRepr: String {
        switch self {
        case .none: "None"
        case .some(let wrapped): AsyncIO.pythonRepr(any: wrapped)
        }
    }
}

private func hex2(_ value: UInt32) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(value >> 4) & 0xf], digits[Int(value) & 0xf]])
}

/// Python's `repr()` of bytes: `b'text'`, printable ASCII as is, the rest
/// escaped (`\n`, `\x00`).
public func pythonRepr(bytes: [UInt8]) -> String {
    let quote: UInt8 = bytes.contains(UInt8(ascii: "'")) && !bytes.contains(UInt8(ascii: "\"")) ? UInt8(ascii: "\"") : UInt8(ascii: "'")
    var out = "b" + String(UnicodeScalar(quote))
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\\"): out += "\\\\"
        case UInt8(ascii: "\n"): out += "\\n"
        case UInt8(ascii: "\r"): out += "\\r"
        case UInt8(ascii: "\t"): out += "\\t"
        case quote: out += "\\" + String(UnicodeScalar(quote))
        case 0x20..<0x7f: out.unicodeScalars.append(UnicodeScalar(byte))
        default: out += "\\x" + hex2(UInt32(byte))
        }
    }
    return out + String(UnicodeScalar(quote))
}
