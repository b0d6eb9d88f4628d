// A future that failed and is freed without anyone asking for its error
// (`result()`, `exception()`, `await`) hid a failure; asyncio logs it
// ("Task exception was never retrieved") and so does this package. The loop
// keeps the set of failed futures whose error nobody has read, rather than a
// flag in every future: only failures pay for it.

extension FutureCore {
    /// The error was read: the failure is not hidden.
    func errorRetrieved() {
        loop.unretrievedErrors.remove(ObjectIdentifier(self))
    }

    /// Called from `deinit` of a failed future. Only on the loop's own
    /// thread: anywhere else the loop's state is not ours to touch, and the
    /// report is skipped. The exception handler runs later, as a callback:
    /// a `deinit` can run in the middle of a change to the loop's state,
    /// which a handler must not see.
    nonisolated func reportErrorNeverRetrieved() {
        guard ThreadLoop.current === loop else { return }
        LoopActor.assumeIsolated {
            guard loop.unretrievedErrors.remove(ObjectIdentifier(self)) != nil, let error else { return }
            let kind = self is any AnyLoopTask ? "Task" : "Future"
            let context = ExceptionContext(message: "\(kind) exception was never retrieved", error: error,
                                           futureRepr: repr)
            if loop.isClosed {
                loop.defaultExceptionHandler(context)
            } else {
                loop.ready.append(.handle(Handle.make(label: "report of a lost error") { [loop] in
                    loop.callExceptionHandler(context)
                }))
            }
        }
    }
}
