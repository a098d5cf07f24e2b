//! The background compiler threads of tiered execution: one pool for the whole process,
//! its threads started on first use (as many as the largest
//! [`Config::tiering_threads`](crate::Config::tiering_threads) asked for) and parked while
//! the queue is empty. Jobs run in the order they were queued.

use super::lock;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, OnceLock};

/// A compilation to run.
pub(super) type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    queue: Mutex<VecDeque<Job>>,
    /// Signalled when a job is queued.
    queued: Condvar,
    /// Threads started so far.
    threads: Mutex<usize>,
}

static POOL: OnceLock<Pool> = OnceLock::new();

/// Queues `job` for the pool, starting threads until there are `threads`. If no thread
/// can be started at all, runs `job` here.
pub(super) fn submit(threads: usize, job: Job) {
    let pool = POOL.get_or_init(|| Pool { queue: Mutex::default(), queued: Condvar::new(), threads: Mutex::new(0) });
    let mut started = lock(&pool.threads);
    while *started < threads {
        let spawned = std::thread::Builder::new().name("kuai-compiler".into()).spawn(move || work(pool));
        if spawned.is_err() {
            break;
        }
        *started += 1;
    }
    if *started == 0 {
        drop(started);
        job();
        return;
    }
    drop(started);
    lock(&pool.queue).push_back(job);
    pool.queued.notify_one();
}

/// A pool thread: runs queued jobs forever (a panicking job is the job's failure to
/// record, not the thread's end: jobs catch their own panics).
fn work(pool: &'static Pool) {
    loop {
        let job = {
            let mut queue = lock(&pool.queue);
            loop {
                if let Some(job) = queue.pop_front() {
                    break job;
                }
                queue = pool.queued.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
        };
        job();
    }
}
