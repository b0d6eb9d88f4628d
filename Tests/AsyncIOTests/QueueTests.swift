import Testing
@testable import AsyncIO
import TestSupport

@Suite(.suiteLimit) struct QueueTests {
    @Test func itemsComeOutInTheOrderTheyWentIn() throws {
        let (items, states) = try runLoop { _ -> ([Int], [String]) in
            let q = Queue<Int>(maxsize: 3)
            var states = ["\(q.qsize) \(q.isEmpty) \(q.isFull) \(q.maxsize)"]
            for i in 1...3 { try await q.put(i) }
            states.append("\(q.qsize) \(q.isEmpty) \(q.isFull) \(q)")
            var items: [Int] = []
            for _ in 0..<3 { items.append(try await q.get()) }
            states.append("\(q.qsize) \(q.isEmpty) \(q.isFull) \(q)")
            return (items, states)
        }
        #expect(items == [1, 2, 3])
        #expect(states == [
            "0 true false 3",
            "3 false true <Queue maxsize=3 _queue=[1, 2, 3] tasks=3>",
            "0 true false <Queue maxsize=3 tasks=3>",
        ])
    }

    @Test func nowaitVariantsThrowInsteadOfWaiting() throws {
        let errors = try runLoop { _ -> [String] in
            let q = Queue<String>(maxsize: 1)
            let empty = await errorOf { _ = try q.getNowait() }
            try q.putNowait("a")
            let full = await errorOf { try q.putNowait("b") }
            let item = try q.getNowait()
            return [empty, full, item]
        }
        #expect(errors == ["QueueEmpty()", "QueueFull()", "a"])
    }

    @Test func aQueueWithoutLimitIsNeverFull() throws {
        let full = try runLoop { _ -> [Bool] in
            let unlimited = Queue<Int>()
            let negative = Queue<Int>(maxsize: -1)
            for i in 0..<1000 {
                try unlimited.putNowait(i)
                try await negative.put(i)
            }
            return [unlimited.isFull, negative.isFull, unlimited.qsize == 1000]
        }
        #expect(full == [false, false, true])
    }

    @Test func putWaitsWhileFullAndGetWaitsWhileEmpty() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let q = Queue<Int>(maxsize: 1)
            let producer = loop.createTask {
                for i in 0..<3 {
                    try await q.put(i)
                    log("put \(i)")
                }
            }
            let consumer = loop.createTask {
                for _ in 0..<3 {
                    let item = try await q.get()
                    log("got \(item)")
                }
            }
            _ = try await gather(producer, consumer)
            return log.entries
        }
        #expect(log == ["put 0", "got 0", "put 1", "got 1", "put 2", "got 2"])
    }

    @Test func waitingGettersAndPuttersAreServedInArrivalOrder() throws {
        let (gets, puts) = try runLoop { loop -> ([String], [Int]) in
            let q = Queue<Int>(maxsize: 1)
            var gets: [String] = []
            let getters = (0..<3).map { i in
                loop.createTask { gets.append("getter \(i) got \(try await q.get())") }
            }
            try await sleep(0)
            #expect(q.description == "<Queue maxsize=1 _getters[3]>")
            for i in 0..<3 { try await q.put(i) }
            _ = try await gather(getters)

            try q.putNowait(-1)
            let putters = (0..<3).map { i in loop.createTask { try await q.put(i) } }
            try await sleep(0)
            #expect(q.description == "<Queue maxsize=1 _queue=[-1] _putters[3] tasks=4>")
            var puts: [Int] = []
            for _ in 0..<4 { puts.append(try await q.get()) }
            _ = try await gather(putters)
            return (gets, puts)
        }
        #expect(gets == ["getter 0 got 0", "getter 1 got 1", "getter 2 got 2"])
        #expect(puts == [-1, 0, 1, 2])
    }

    @Test func priorityQueueHandsOutTheSmallestFirst() throws {
        let (items, description) = try runLoop { _ -> ([Int], String) in
            let q = PriorityQueue<Int>()
            for i in [5, 1, 4, 2, 3] { try await q.put(i) }
            let description = "\(q)"
            var items: [Int] = []
            while !q.isEmpty { items.append(try await q.get()) }
            return (items, description)
        }
        #expect(items == [1, 2, 3, 4, 5])
        #expect(description.hasPrefix("<PriorityQueue maxsize=0 _queue=["))
        #expect(description.hasSuffix("] tasks=5>"))
    }

    @Test func lifoQueueHandsOutTheLatestFirst() throws {
        let (items, description, full) = try runLoop { _ -> ([String], String, Bool) in
            let q = LifoQueue<String>(maxsize: 3)
            for item in ["a", "b", "c"] { try q.putNowait(item) }
            let description = "\(q)"
            let full = await errorOf { try q.putNowait("d") }
            var items: [String] = []
            while !q.isEmpty { items.append(try q.getNowait()) }
            return (items, description, full == "QueueFull()")
        }
        #expect(items == ["c", "b", "a"])
        #expect(description == "<LifoQueue maxsize=3 _queue=['a', 'b', 'c'] tasks=3>")
        #expect(full)
    }

    @Test func priorityAndLifoQueuesWaitLikeAQueue() throws {
        let items = try runLoop { loop -> [Int] in
            let q: Queue<Int> = PriorityQueue(maxsize: 2)
            let consumer = loop.createTask { () -> [Int] in
                var items: [Int] = []
                for _ in 0..<4 { items.append(try await q.get()) }
                return items
            }
            for i in [9, 3, 7, 1] { try await q.put(i) }
            return try await consumer.value
        }
        // Priority orders only what is in the queue when the consumer runs:
        // first 9 and 3, then 7 and 1.
        #expect(items == [3, 9, 1, 7])
    }

    // MARK: task_done and join

    @Test func joinWaitsUntilEveryItemIsMarkedDone() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let q = Queue<Int>()
            try await q.join()  // nothing put: returns at once
            log("empty join returned")
            for i in 0..<3 { try q.putNowait(i) }
            let joiner = loop.createTask {
                try await q.join()
                log("join returned")
            }
            for _ in 0..<3 {
                _ = try q.getNowait()
                try await iterations(2)
                log("task done, \(q.unfinishedTasks - 1) left")
                try q.taskDone()
            }
            try await joiner.value
            return log.entries
        }
        #expect(log == ["empty join returned", "task done, 2 left", "task done, 1 left", "task done, 0 left", "join returned"])
    }

    @Test func taskDoneTooOftenThrows() throws {
        let errors = try runLoop { _ -> [String] in
            let q = Queue<Int>()
            let before = await errorOf { try q.taskDone() }
            try q.putNowait(1)
            _ = try q.getNowait()
            try q.taskDone()
            let after = await errorOf { try q.taskDone() }
            return [before, after]
        }
        #expect(errors == Array(repeating: "ValueError('task_done() called too many times')", count: 2))
    }

    @Test func putAfterJoinReturnedMakesTheNextJoinWait() throws {
        let log = try runLoop { loop -> [String] in
            let log = Log()
            let q = Queue<Int>()
            try q.putNowait(1)
            _ = try q.getNowait()
            try q.taskDone()
            try await q.join()
            try q.putNowait(2)
            let joiner = loop.createTask {
                try await q.join()
                log("second join returned")
            }
            try await iterations(2)
            log("marking done")
            _ = try q.getNowait()
            try q.taskDone()
            try await joiner.value
            return log.entries
        }
        #expect(log == ["marking done", "second join returned"])
    }

    // MARK: Cancellation

    @Test func cancelledGetterTakesNoItem() throws {
        let (got, qsize) = try runLoop { loop -> ([String], Int) in
            let q = Queue<String>()
            var got: [String] = []
            let first = loop.createTask { got.append("first: \(try await q.get())") }
            let second = loop.createTask { got.append("second: \(try await q.get())") }
            try await sleep(0)
            first.cancel()
            try await sleep(0)
            try q.putNowait("x")
            try await second.value
            return (got, q.qsize)
        }
        #expect(got == ["second: x"])
        #expect(qsize == 0)
    }

    /// A getter woken by a put and cancelled before it ran must pass the
    /// item's wake-up on, or the item sits there while others wait.
    @Test func getterCancelledAfterItsWakeUpWakesTheNextGetter() throws {
        let (got, first) = try runLoop { loop -> ([String], String) in
            let q = Queue<String>()
            var got: [String] = []
            let first = loop.createTask { got.append("first: \(try await q.get())") }
            let second = loop.createTask { got.append("second: \(try await q.get())") }
            try await sleep(0)
            try q.putNowait("x")  // wakes first...
            first.cancel()        // ...which is cancelled before it runs
            try await iterations(3)
            #expect(second.isDone)
            return (got, await errorOf { try await first.value })
        }
        #expect(got == ["second: x"])
        #expect(first == "CancelledError()")
    }

    @Test func cancelledPutPutsNothing() throws {
        let (items, qsize) = try runLoop { loop -> ([Int], Int) in
            let q = Queue<Int>(maxsize: 1)
            try q.putNowait(0)
            let putter = loop.createTask { try await q.put(1) }
            try await sleep(0)
            putter.cancel()
            _ = await errorOf { try await putter.value }
            let items = [try q.getNowait()]
            return (items, q.qsize)
        }
        #expect(items == [0])
        #expect(qsize == 0)
    }

    /// A putter woken by a get and cancelled before it ran must pass the
    /// free slot on to the next putter.
    @Test func putterCancelledAfterItsWakeUpWakesTheNextPutter() throws {
        let items = try runLoop { loop -> [Int] in
            let q = Queue<Int>(maxsize: 1)
            try q.putNowait(0)
            let first = loop.createTask { try await q.put(1) }
            let second = loop.createTask { try await q.put(2) }
            try await sleep(0)
            var items = [try q.getNowait()]  // wakes first...
            first.cancel()                   // ...which is cancelled before it runs
            try await iterations(3)
            #expect(second.isDone)
            items.append(try q.getNowait())
            #expect(q.isEmpty)
            return items
        }
        #expect(items == [0, 2])
    }

    @Test func cancelledJoinLeavesTheCountAlone() throws {
        let (outcome, unfinished) = try runLoop { loop -> (String, Int) in
            let q = Queue<Int>()
            try q.putNowait(1)
            let joiner = loop.createTask { try await q.join() }
            try await sleep(0)
            joiner.cancel()
            let outcome = await errorOf { try await joiner.value }
            return (outcome, q.unfinishedTasks)
        }
        #expect(outcome == "CancelledError()")
        #expect(unfinished == 1)
    }

    // MARK: Shutdown (Python 3.13)

    @Test func shutdownStopsPutsAndLetsGetsDrainTheRest() throws {
        let results = try runLoop { _ -> [String] in
            let q = Queue<Int>()
            for i in 0..<2 { try q.putNowait(i) }
            q.shutdown()
            var results = [
                await errorOf { try await q.put(9) },
                await errorOf { try q.putNowait(9) },
            ]
            results.append("\(try await q.get())")
            results.append("\(try q.getNowait())")
            results.append(await errorOf { _ = try await q.get() })
            results.append(await errorOf { _ = try q.getNowait() })
            results.append(q.description)
            return results
        }
        #expect(results == [
            "QueueShutDown()", "QueueShutDown()", "0", "1", "QueueShutDown()", "QueueShutDown()",
            "<Queue maxsize=0 tasks=2 shutdown>",
        ])
    }

    @Test func shutdownWakesWaitingGettersAndPutters() throws {
        let outcomes = try runLoop { loop -> [String] in
            let empty = Queue<Int>()
            let full = Queue<Int>(maxsize: 1)
            try full.putNowait(0)
            let getter = loop.createTask { _ = try await empty.get() }
            let putter = loop.createTask { try await full.put(1) }
            try await sleep(0)
            empty.shutdown()
            full.shutdown()
            return [
                await errorOf { try await getter.value },
                await errorOf { try await putter.value },
                "\(full.qsize)",
            ]
        }
        #expect(outcomes == ["QueueShutDown()", "QueueShutDown()", "1"])
    }

    @Test func immediateShutdownDropsTheItemsAndReleasesJoin() throws {
        let outcomes = try runLoop { loop -> [String] in
            let q = Queue<Int>(maxsize: 2)
            try q.putNowait(1)
            try q.putNowait(2)
            let joiner = loop.createTask { try await q.join() }
            let putter = loop.createTask { try await q.put(3) }
            try await sleep(0)
            q.shutdown(immediate: true)
            return [
                await errorOf { try await joiner.value },
                await errorOf { try await putter.value },
                await errorOf { _ = try await q.get() },
                "\(q.qsize) \(q.unfinishedTasks)",
            ]
        }
        #expect(outcomes == ["no error", "QueueShutDown()", "QueueShutDown()", "0 0"])
    }
}
