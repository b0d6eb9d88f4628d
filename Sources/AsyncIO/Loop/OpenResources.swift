/// Something open on a loop that the loop must end if it closes first: a
/// transport whose connection is still up, a server still listening.
@LoopActor
protocol LoopResource: AnyObject {
    /// Ends it at once; its own callbacks (such as `connectionLost`) are
    /// scheduled on the loop as usual.
    func endAtLoopClose()
    /// What asyncio's `ResourceWarning` calls it when a program leaves it
    /// open (`transport <…>`, `server <…>`); nil for the loop's own helpers.
    var unclosedName: String? { get }
}

extension LoopResource {
    var unclosedName: String? { nil }
}

/// The resources open on a loop. Swift frees no reference cycles, and a
/// transport and its protocol usually form one until `connectionLost`
/// breaks it; a loop that closed with the connection still up would leave
/// both, and the loop, allocated for good. A server nobody closed would
/// keep its listening sockets open.
@LoopActor
struct OpenResources {
    private var items: [ObjectIdentifier: any LoopResource] = [:]

    nonisolated init() {}

    var isEmpty: Bool { items.isEmpty }

    mutating func insert(_ resource: any LoopResource) {
        items[ObjectIdentifier(resource)] = resource
    }

    mutating func remove(_ resource: any LoopResource) {
        items[ObjectIdentifier(resource)] = nil
    }

    /// Ends every resource still open; with `warn`, logs each as asyncio's
    /// debug mode reports an unclosed one.
    func endAll(warn: Bool) {
        for resource in items.values {
            if warn, let name = resource.unclosedName {
                asyncioLogger.warning("ResourceWarning: unclosed \(name)")
            }
            resource.endAtLoopClose()
        }
    }
}
