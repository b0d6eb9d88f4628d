#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The path of the executable `name` in the build folder that also holds
/// the running test binary (the test bundle may sit in a folder below it),
/// or the bare name if there is none.
public func builtExecutable(named name: String) -> String {
    guard let resolved = realpath(CommandLine.arguments[0], nil) else { return name }
    var folder = String(cString: resolved)
    free(resolved)
    while let slash = folder.lastIndex(of: "/") {
        folder = String(folder[..<slash])
        let candidate = folder + "/" + name
        if access(candidate, X_OK) == 0 { return candidate }
    }
    return name
}
