import Glibc

/// A thread that calls `tick` every `intervalMillis` until `stop()` — the group commit and the
/// reservation sweep. Plain pthreads (the module avoids Foundation); a condition variable on
/// CLOCK_MONOTONIC makes `stop()` prompt and the period immune to wall-clock steps.
///
/// `@unchecked Sendable`: `stopping` is only touched with `mutex` held; the pthread objects are
/// allocated in `init`, freed in `deinit` after the thread has been joined.
final class PeriodicWorker: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stopping = false
    private var thread: pthread_t?
    private let intervalMillis: Int
    private let tick: @Sendable () -> Void

    init(intervalMillis: Int, tick: @escaping @Sendable () -> Void) {
        precondition(intervalMillis > 0)
        self.intervalMillis = intervalMillis
        self.tick = tick
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)

        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { context in
            let worker = Unmanaged<PeriodicWorker>.fromOpaque(context!).takeRetainedValue()
            worker.run()
            return nil
        }, context)
        if rc == 0 {
            thread = handle
        } else {
            Unmanaged<PeriodicWorker>.fromOpaque(context).release()
        }
    }

    deinit {
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        cond.deallocate(); mutex.deallocate()
    }

    private func run() {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        pthread_mutex_lock(mutex)
        while !stopping {
            let nanos = Int(deadline.tv_nsec) + (intervalMillis % 1000) * 1_000_000
            deadline.tv_sec += intervalMillis / 1000 + nanos / 1_000_000_000
            deadline.tv_nsec = nanos % 1_000_000_000
            while !stopping, pthread_cond_timedwait(cond, mutex, &deadline) != ETIMEDOUT {}
            if stopping { break }
            pthread_mutex_unlock(mutex)
            tick()
            pthread_mutex_lock(mutex)
            // After a slow tick (a long fsync), wait a full interval instead of catching up.
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            if now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec > deadline.tv_nsec) {
                deadline = now
            }
        }
        pthread_mutex_unlock(mutex)
    }

    /// Stops the thread and waits for a tick in progress. Idempotent.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(cond)
        let joinable = thread
        thread = nil
        pthread_mutex_unlock(mutex)
        if let joinable { pthread_join(joinable, nil) }
    }
}
