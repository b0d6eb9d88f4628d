import Testing

extension Trait where Self == TimeLimitTrait {
    /// Every suite's time limit: it catches a test that never ends, and is
    /// generous on purpose. A test's clock starts when the test is
    /// scheduled, and a test that runs a loop holds one of the cooperative
    /// threads (two on this machine) until it ends; under the sanitizers
    /// two long load tests can hold both for minutes while the tests
    /// queued behind them count time they have not run.
    public static var suiteLimit: Self { .timeLimit(.minutes(10)) }
}
