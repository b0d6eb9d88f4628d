#!/usr/bin/env python3
"""Python baseline benchmarks for asyncio-demo (stock asyncio and uvloop).

Usage:
    python3 scripts/bench/py_bench.py <workload> --impl asyncio|uvloop

Prints exactly one JSON line to stdout:
    {"bench": <workload>, "impl": <impl>, "value": <number>, "unit": <str>, ...}

The Swift benchmark executable (asyncio-bench) implements the same workloads
and prints the same line with "impl": "swift"; scripts/bench/compare runs both.

Workloads (the definitions are shared with the Swift side; keep them in sync):

call_soon  Raw callback throughput of the ready queue. Inside a running loop:
           t0 = perf_counter(); loop.call_soon(cb) 1,000,000 times, where cb
           increments a counter and the N-th call sets the result of a future;
           await the future; t1. value = N / (t1 - t0), unit "callbacks/s".

call_soon_driver
           The ready queue as a real program uses it: a driver callback
           schedules 1,000 counting callbacks with call_soon, then schedules
           itself, until 1,000,000 have been scheduled; the N-th counting
           callback sets a future. t0 just before the first driver call is
           scheduled. value = N / (t1 - t0), unit "callbacks/s".

task       Task creation + scheduling + completion cost. Inside a coroutine:
           t0; `for i in range(200_000): await loop.create_task(noop())`
           with `async def noop(): return None`; t1.
           value = N / (t1 - t0), unit "tasks/s".

sleepers   Many concurrent timer-backed tasks. random.seed(42); 100,000 tasks
           each `await asyncio.sleep(random.uniform(0, 0.1))`, all created
           with create_task, then `await asyncio.gather(*tasks)`.
           value = wall seconds from just before creating the first task until
           gather is done, unit "s". The delays are drawn before the clock
           starts, so the RNG is not timed. Extra field "rss_mib" = peak RSS
           of the process (ru_maxrss / 1024), read at the end.

timers     Timer-heap precision and ordering. random.seed(42); inside a running
           loop: t0 = loop.time(); 200,000 x loop.call_later(uniform(0, 0.2),
           cb, ...). Each callback knows its own deadline (its TimerHandle's
           .when(), stored right after call_later returns); fired deadlines
           must be non-decreasing. The last callback to fire sets a future.
           The delays are drawn before t0 (as in sleepers). uvloop keeps time
           and timers in whole milliseconds. value = lateness in ms =
           (loop.time() at the last callback - (t0 + max(delays))) * 1000,
           unit "ms". Extra fields: "order_violations" (must be 0), "fired"
           (must be 200000), "schedule_ms" (time spent in the call_later loop),
           "lateness_vs_deadline_ms" (last fire time minus the largest actual
           .when(), i.e. lateness without the scheduling cost) and
           "soon_handles" (call_later calls that returned no TimerHandle:
           uvloop runs those after overdue timers, so they can count as
           order violations there; always 0 for asyncio).

queue      Queue hand-off. Inside a coroutine: q = asyncio.Queue(maxsize=100);
           a producer task does `await q.put(i)` for i in range(1,000,000),
           then `await q.join()`; a consumer task does `await q.get()` and
           `q.task_done()` 1,000,000 times. t0 just before creating the two
           tasks; `await asyncio.gather(producer, consumer)`; t1.
           value = N / (t1 - t0), unit "items/s".

lock       Lock hand-over between contending tasks. lock = asyncio.Lock();
           100 tasks each run `async with lock: counter += 1; await
           asyncio.sleep(0)` 10,000 times (1,000,000 acquisitions in all; the
           sleep(0) inside makes the others queue up, so each release hands
           the lock to the next task in line). t0 just before creating the
           tasks; gather them; t1. value = N / (t1 - t0), unit
           "acquisitions/s".

event      Waking many waiters. event = asyncio.Event(); 100,000 tasks each
           `await event.wait()`, then count themselves; the last one sets a
           future. After the tasks are created, `await asyncio.sleep(0)` lets
           every one of them reach wait(). t0; event.set(); await the future;
           t1. value = N / (t1 - t0), unit "wake-ups/s" (the time from set()
           until every waiter has returned from wait() and finished).

spawn_sequential
           500 children of /bin/true, each started with
           create_subprocess_exec and waited for before the next. value =
           N / seconds, unit "spawns/s".

spawn_concurrent
           1,000 children of /bin/true, 50 in flight: 50 coroutines gathered,
           each starting and waiting for 20 in turn. value = N / seconds.

cat_pipe   512 MiB through /bin/cat with the streams API: 1 MiB writes to
           stdin, each followed by drain(), while stdout is read with
           read(256 KiB) until EOF; t0 before the spawn, t1 after wait().
           value = MiB / (t1 - t0), unit "MiB/s".

executor_sequential
           20,000 `await loop.run_in_executor(None, square, i)` one after
           another on the default pool (one warm-up call first, so the
           pool's first thread exists). value = calls/s.

executor_gather
           100,000 run_in_executor(None, square, i) submitted at once and
           gathered (after one warm-up call). value = calls/s.

getaddrinfo
           20,000 sequential `await loop.getaddrinfo("localhost", 443)`
           (after one warm-up lookup). value = lookups/s.

process_pool
           A process pool: with concurrent.futures.ProcessPoolExecutor(
           max_workers=2) as pool, 20,000 loop.run_in_executor(pool, square,
           i) with `def square(n): return n * n`, all gathered; t0 just
           before the first submission (the workers start then), t1 when
           gather is done (the pool's shutdown is not timed). value =
           N / (t1 - t0), unit "calls/s".

udp_ping_pong
           UDP round trips on 127.0.0.1 in one loop: an echo endpoint
           (create_datagram_endpoint, local_addr=('127.0.0.1', 0)) sends each
           datagram back to its sender; a client connected to it
           (remote_addr=) sends 64 bytes and, on each echo, the next, for
           100 warm-up rounds and then N timed ones. value = N / seconds,
           unit "round trips/s".

The `startup` workload (process start-up time) is not a loop workload; it is
measured by scripts/bench/compare directly.
"""

import argparse
import asyncio
import concurrent.futures
import json
import random
import resource
import sys
import time

WORKLOADS = ("call_soon", "call_soon_driver", "task", "sleepers", "timers", "queue", "lock", "event",
             "spawn_sequential", "spawn_concurrent", "cat_pipe",
             "executor_sequential", "executor_gather", "getaddrinfo", "process_pool", "udp_ping_pong")
IMPLS = ("asyncio", "uvloop")

DEFAULT_N = {
    "call_soon": 1_000_000,
    "call_soon_driver": 1_000_000,
    "task": 200_000,
    "sleepers": 100_000,
    "timers": 200_000,
    "queue": 1_000_000,
    "lock": 1_000_000,
    "event": 100_000,
    "spawn_sequential": 500,
    "spawn_concurrent": 1000,
    "cat_pipe": 512,
    "executor_sequential": 20_000,
    "executor_gather": 100_000,
    "getaddrinfo": 20_000,
    "process_pool": 20_000,
    "udp_ping_pong": 100_000,
}

LOCK_TASKS = 100


# --------------------------------------------------------------------------
# Event-loop plumbing
# --------------------------------------------------------------------------

def new_loop(impl):
    """Return a fresh event loop of the requested implementation."""
    if impl == "uvloop":
        import uvloop  # only needed (and only installed) for this impl
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def fail_fast(loop, context):
    """Exception handler: report an error in a callback and stop the loop.

    Without it a failing benchmark callback would be logged and the awaited
    future never resolved, hanging the run.
    """
    loop.default_exception_handler(context)
    loop.stop()


def run(main, impl):
    """Run coroutine function `main` to completion on a fresh loop (like asyncio.run)."""
    loop = new_loop(impl)
    loop.set_exception_handler(fail_fast)
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()


def peak_rss_mib():
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------
# Workloads: each returns a dict with at least "value" and "unit"
# --------------------------------------------------------------------------

def make_counting_callback(n, fut):
    """Callback that counts its calls and resolves `fut` on the n-th call."""
    count = 0

    def cb():
        nonlocal count
        count += 1
        if count == n:
            fut.set_result(count)

    return cb


async def bench_call_soon(n):
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    cb = make_counting_callback(n, fut)
    t0 = time.perf_counter()
    for _ in range(n):
        loop.call_soon(cb)
    await fut
    t1 = time.perf_counter()
    return {"value": n / (t1 - t0), "unit": "callbacks/s", "n": n}


async def bench_call_soon_driver(n, batch=1000):
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    cb = make_counting_callback(n, fut)
    remaining = n

    def drive():
        nonlocal remaining
        now = min(batch, remaining)
        remaining -= now
        for _ in range(now):
            loop.call_soon(cb)
        if remaining > 0:
            loop.call_soon(drive)

    t0 = time.perf_counter()
    loop.call_soon(drive)
    await fut
    t1 = time.perf_counter()
    return {"value": n / (t1 - t0), "unit": "callbacks/s", "n": n}


async def noop():
    return None


async def bench_task(n):
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    for _ in range(n):
        await loop.create_task(noop())
    t1 = time.perf_counter()
    return {"value": n / (t1 - t0), "unit": "tasks/s", "n": n}


async def bench_sleepers(n):
    loop = asyncio.get_running_loop()
    random.seed(42)
    delays = [random.uniform(0, 0.1) for _ in range(n)]
    t0 = time.perf_counter()
    tasks = [loop.create_task(asyncio.sleep(d)) for d in delays]
    await asyncio.gather(*tasks)
    t1 = time.perf_counter()
    return {"value": t1 - t0, "unit": "s", "n": n}


class TimerChecker:
    """Callback state for the timers workload.

    Each call receives a one-element list holding its own deadline (filled in
    right after call_later returns, before the loop can run it) and checks
    that deadlines arrive in non-decreasing order.
    """

    def __init__(self, loop, n, fut):
        self.loop = loop
        self.n = n
        self.fut = fut
        self.fired = 0
        self.order_violations = 0
        self.last_deadline = float("-inf")
        self.max_deadline = float("-inf")
        self.last_fire_time = None

    def __call__(self, deadline_box):
        deadline = deadline_box[0]
        if deadline < self.last_deadline:
            self.order_violations += 1
        self.last_deadline = deadline
        self.max_deadline = max(self.max_deadline, deadline)
        self.fired += 1
        if self.fired == self.n:
            self.last_fire_time = self.loop.time()
            self.fut.set_result(None)


def deadline_of(handle, loop):
    """The loop's own deadline for a call_later handle: TimerHandle.when().

    uvloop rounds delays to whole milliseconds and turns one that rounds to
    0 into call_soon, returning a plain Handle without .when(); the loop
    then treats its deadline as "now". Returns (deadline, is_timer_handle).
    """
    when = getattr(handle, "when", None)
    if when is None:
        return loop.time(), False
    return when(), True


async def bench_timers(n):
    loop = asyncio.get_running_loop()
    random.seed(42)
    fut = loop.create_future()
    checker = TimerChecker(loop, n, fut)
    delays = [random.uniform(0, 0.2) for _ in range(n)]
    max_delay = max(delays)
    soon_handles = 0
    t0 = loop.time()
    for delay in delays:
        box = [None]
        box[0], is_timer = deadline_of(loop.call_later(delay, checker, box), loop)
        soon_handles += not is_timer
    schedule_ms = (loop.time() - t0) * 1000
    await fut
    lateness_ms = (checker.last_fire_time - (t0 + max_delay)) * 1000
    return {
        "value": lateness_ms,
        "unit": "ms",
        "n": n,
        "order_violations": checker.order_violations,
        "fired": checker.fired,
        "schedule_ms": schedule_ms,
        "soon_handles": soon_handles,
        "lateness_vs_deadline_ms": (checker.last_fire_time - checker.max_deadline) * 1000,
    }


async def bench_queue(n):
    loop = asyncio.get_running_loop()
    q = asyncio.Queue(maxsize=100)

    async def producer():
        for i in range(n):
            await q.put(i)
        await q.join()

    async def consumer():
        for _ in range(n):
            await q.get()
            q.task_done()

    t0 = time.perf_counter()
    await asyncio.gather(loop.create_task(producer()), loop.create_task(consumer()))
    t1 = time.perf_counter()
    return {"value": n / (t1 - t0), "unit": "items/s", "n": n}


async def bench_lock(n):
    loop = asyncio.get_running_loop()
    lock = asyncio.Lock()
    counter = 0

    async def worker(rounds):
        nonlocal counter
        for _ in range(rounds):
            async with lock:
                counter += 1
                await asyncio.sleep(0)

    t0 = time.perf_counter()
    tasks = [loop.create_task(worker(n // LOCK_TASKS)) for _ in range(LOCK_TASKS)]
    await asyncio.gather(*tasks)
    t1 = time.perf_counter()
    assert counter == n, "lost acquisitions"
    return {"value": n / (t1 - t0), "unit": "acquisitions/s", "n": n}


async def bench_event(n):
    loop = asyncio.get_running_loop()
    event = asyncio.Event()
    done = loop.create_future()
    woken = 0

    async def waiter():
        nonlocal woken
        await event.wait()
        woken += 1
        if woken == n:
            done.set_result(None)

    tasks = [loop.create_task(waiter()) for _ in range(n)]
    await asyncio.sleep(0)  # every waiter runs up to its wait()
    t0 = time.perf_counter()
    event.set()
    await done
    t1 = time.perf_counter()
    await asyncio.gather(*tasks)
    return {"value": n / (t1 - t0), "unit": "wake-ups/s", "n": n}


async def bench_spawn_sequential(n):
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    for _ in range(n):
        proc = await asyncio.create_subprocess_exec("/bin/true")
        await proc.wait()
    t1 = time.perf_counter()
    return {"value": n / (t1 - t0), "unit": "spawns/s", "n": n}


async def bench_spawn_concurrent(n, in_flight=50):
    async def worker():
        for _ in range(n // in_flight):
            proc = await asyncio.create_subprocess_exec("/bin/true")
            await proc.wait()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    t1 = time.perf_counter()
    return {"value": n / (t1 - t0), "unit": "spawns/s", "n": n}


async def bench_cat_pipe(mebibytes):
    chunk = b"a" * (1 << 20)
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "/bin/cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)

    async def writer():
        for _ in range(mebibytes):
            proc.stdin.write(chunk)
            await proc.stdin.drain()
        proc.stdin.close()

    writing = asyncio.ensure_future(writer())
    received = 0
    while True:
        data = await proc.stdout.read(256 * 1024)
        if not data:
            break
        received += len(data)
    await writing
    await proc.wait()
    t1 = time.perf_counter()
    if received != mebibytes << 20:
        raise RuntimeError(f"received {received} bytes")
    return {"value": mebibytes / (t1 - t0), "unit": "MiB/s", "n": mebibytes}


def square(n):
    return n * n


async def bench_executor_sequential(n):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, square, 0)  # start the pool's first thread
    t0 = time.perf_counter()
    for i in range(n):
        await loop.run_in_executor(None, square, i)
    t1 = time.perf_counter()
    return {"value": n / (t1 - t0), "unit": "calls/s", "n": n}


async def bench_executor_gather(n):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, square, 0)
    t0 = time.perf_counter()
    await asyncio.gather(*[loop.run_in_executor(None, square, i) for i in range(n)])
    t1 = time.perf_counter()
    return {"value": n / (t1 - t0), "unit": "calls/s", "n": n}


async def bench_getaddrinfo(n):
    loop = asyncio.get_running_loop()
    await loop.getaddrinfo("localhost", 443)
    t0 = time.perf_counter()
    for _ in range(n):
        await loop.getaddrinfo("localhost", 443)
    t1 = time.perf_counter()
    return {"value": n / (t1 - t0), "unit": "lookups/s", "n": n}


async def bench_process_pool(n, workers=2):
    loop = asyncio.get_running_loop()
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        t0 = time.perf_counter()
        results = await asyncio.gather(*(loop.run_in_executor(pool, square, i) for i in range(n)))
        t1 = time.perf_counter()
    if results != [i * i for i in range(n)]:
        raise RuntimeError("wrong results")
    return {"value": n / (t1 - t0), "unit": "calls/s", "n": n}


class _UDPEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


class _UDPPinger(asyncio.DatagramProtocol):
    def __init__(self, rounds, timed_from, done):
        self.rounds = rounds
        self.timed_from = timed_from
        self.done = done
        self.payload = b"x" * 64
        self.completed = 0
        self.start = 0.0

    def connection_made(self, transport):
        self.transport = transport
        transport.sendto(self.payload)

    def datagram_received(self, data, addr):
        self.completed += 1
        if self.completed == self.timed_from:
            self.start = time.perf_counter()
        if self.completed == self.rounds:
            self.done.set_result(time.perf_counter() - self.start)
        else:
            self.transport.sendto(self.payload)

    def error_received(self, exc):
        if not self.done.done():
            self.done.set_exception(exc)


async def bench_udp_ping_pong(n, warm_up=100):
    loop = asyncio.get_running_loop()
    server, _ = await loop.create_datagram_endpoint(_UDPEcho, local_addr=("127.0.0.1", 0))
    port = server.get_extra_info("sockname")[1]
    done = loop.create_future()
    client, _ = await loop.create_datagram_endpoint(
        lambda: _UDPPinger(warm_up + n, warm_up, done), remote_addr=("127.0.0.1", port))
    seconds = await done
    client.close()
    server.close()
    return {"value": n / seconds, "unit": "round trips/s", "n": n}


BENCHES = {
    "call_soon": bench_call_soon,
    "call_soon_driver": bench_call_soon_driver,
    "task": bench_task,
    "sleepers": bench_sleepers,
    "timers": bench_timers,
    "queue": bench_queue,
    "lock": bench_lock,
    "event": bench_event,
    "spawn_sequential": bench_spawn_sequential,
    "spawn_concurrent": bench_spawn_concurrent,
    "cat_pipe": bench_cat_pipe,
    "executor_sequential": bench_executor_sequential,
    "executor_gather": bench_executor_gather,
    "getaddrinfo": bench_getaddrinfo,
    "process_pool": bench_process_pool,
    "udp_ping_pong": bench_udp_ping_pong,
}


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description="Python asyncio/uvloop baseline benchmarks.")
    parser.add_argument("workload", choices=WORKLOADS)
    parser.add_argument("--impl", choices=IMPLS, default="asyncio")
    parser.add_argument("--n", type=int, default=None,
                        help="override the workload size (smoke tests only; "
                             "results are not comparable with the defaults)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    n = args.n if args.n is not None else DEFAULT_N[args.workload]
    bench = BENCHES[args.workload]
    result = run(lambda: bench(n), args.impl)
    if args.workload == "sleepers":
        result["rss_mib"] = peak_rss_mib()
    line = {"bench": args.workload, "impl": args.impl, **result}
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
