import CLinux

/// A drained write backlog at least this large hands its memory back to
/// the system.
let releaseThreshold = 1 << 20

/// Returns the free pages of the heap to the system. A backlog of many
/// buffers, once freed, stays in glibc's free lists as scattered chunks the
/// heap cannot shrink past, so without this a server keeps the memory of
/// its worst client for good. Called only when a large backlog drains,
/// which took far longer than the trim does.
func releaseFreedMemory() {
    _ = clinux_release_free_memory()
}
