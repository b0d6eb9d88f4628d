/// Suspends the running task until the continuation handed to `register`
/// is resumed: every AsyncIO suspension point goes through here.
///
/// Swift's `withUnsafeContinuation` switches to the caller's actor around
/// the suspension. Here that is always a switch from the loop to the loop,
/// as the loop runs every job isolated to `LoopActor`, yet each switch
/// takes a lock on the task's status (tasks prefer the loop as their
/// executor). The continuation is therefore taken without leaving the
/// caller's executor, which saves one switch per suspension.
@inlinable @inline(__always)
func suspendOnLoop(_ register: (UnsafeContinuation<Void, Never>) -> Void) async {
    await _unsafeInheritExecutor_withUnsafeContinuation(register)
}
