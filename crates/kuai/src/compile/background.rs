//! The background compiler threads of tiered execution: one pool for the whole process,
//! its threads started on first use (as many as the largest
//! [`Config::tiering_threads`](crate::Config::tiering_threads) asked for) and parked while
//! there is no work. The most urgent job runs first: each job has a priority, which the
//! runtime raises every time it finds the job's function still running interpreted
//! (`CompiledModule::tier`), so that the code that keeps the program busy is compiled
//! before code that was hot once.

use super::lock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// A compilation to run, and its priority.
pub(super) struct Job {
    pub run: Box<dyn FnOnce() + Send>,
    pub priority: Arc<AtomicU32>,
}

struct Pool {
    queue: Mutex<Vec<Job>>,
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
        (job.run)();
        return;
    }
    drop(started);
    lock(&pool.queue).push(job);
    pool.queued.notify_one();
}

/// A pool thread: runs queued jobs, most urgent first, forever (jobs catch their own
/// panics).
fn work(pool: &'static Pool) {
    loop {
        let job = {
            let mut queue = lock(&pool.queue);
            loop {
                // The highest priority; among equals, the oldest.
                let best = queue
                    .iter()
                    .enumerate()
                    .max_by_key(|(i, job)| (job.priority.load(Ordering::Relaxed), std::cmp::Reverse(*i)))
                    .map(|(i, _)| i);
                if let Some(i) = best {
                    break queue.remove(i);
                }
                queue = pool.queued.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
        };
        (job.run)();
    }
}
