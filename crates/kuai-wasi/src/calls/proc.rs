//! Arguments, environment, clocks, randomness and the process calls: `args_*`,
//! `environ_*`, `clock_*`, `random_get`, `sched_yield`, `proc_raise` (`proc_exit` is in
//! the linker glue: it ends the call instead of returning an errno).

use crate::abi::{Errno, GuestMemory, WasiResult, clockid};
use crate::ctx::WasiCtx;

/// Writes NUL-terminated `items` to `buf` and their addresses to `ptrs`.
fn write_strings(mem: &mut GuestMemory<'_>, items: &[Vec<u8>], ptrs: u32, buf: u32) -> WasiResult {
    let mut at = buf;
    for (i, item) in items.iter().enumerate() {
        mem.write_u32(ptrs.checked_add(4 * i as u32).ok_or(Errno::Fault)?, at)?;
        mem.write(at, item)?;
        let end = at.checked_add(item.len() as u32).ok_or(Errno::Fault)?;
        mem.write_u8(end, 0)?;
        at = end + 1;
    }
    Ok(())
}

/// Writes the count of `items` and the buffer size they need (NUL-terminated).
fn write_sizes(mem: &mut GuestMemory<'_>, items: &[Vec<u8>], count_ptr: u32, size_ptr: u32) -> WasiResult {
    let size: usize = items.iter().map(|a| a.len() + 1).sum();
    mem.write_u32(count_ptr, items.len() as u32)?;
    mem.write_u32(size_ptr, u32::try_from(size).map_err(|_| Errno::Overflow)?)
}

pub(crate) fn args_get(cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, argv: u32, buf: u32) -> WasiResult {
    write_strings(mem, &cx.args, argv, buf)
}

pub(crate) fn args_sizes_get(cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, count: u32, size: u32) -> WasiResult {
    write_sizes(mem, &cx.args, count, size)
}

pub(crate) fn environ_get(cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, environ: u32, buf: u32) -> WasiResult {
    write_strings(mem, &cx.env, environ, buf)
}

pub(crate) fn environ_sizes_get(cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, count: u32, size: u32) -> WasiResult {
    write_sizes(mem, &cx.env, count, size)
}

/// The host clock behind a WASI clock id.
pub(crate) fn host_clock(id: u32) -> WasiResult<rustix::time::ClockId> {
    use rustix::time::ClockId;
    Ok(match id {
        clockid::REALTIME => ClockId::Realtime,
        clockid::MONOTONIC => ClockId::Monotonic,
        clockid::PROCESS_CPUTIME_ID => ClockId::ProcessCPUTime,
        clockid::THREAD_CPUTIME_ID => ClockId::ThreadCPUTime,
        _ => return Err(Errno::Inval),
    })
}

fn nanos(t: rustix::time::Timespec) -> u64 {
    (t.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(t.tv_nsec as u64)
}

/// The current time of clock `id`, in nanoseconds.
pub(crate) fn now(id: u32) -> WasiResult<u64> {
    Ok(nanos(rustix::time::clock_gettime(host_clock(id)?)))
}

pub(crate) fn clock_res_get(_cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, id: u32, res: u32) -> WasiResult {
    let r = nanos(rustix::time::clock_getres(host_clock(id)?));
    mem.write_u64(res, r.max(1))
}

pub(crate) fn clock_time_get(
    _cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    id: u32,
    _precision: u64,
    time: u32,
) -> WasiResult {
    mem.write_u64(time, now(id)?)
}

pub(crate) fn random_get(_cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> WasiResult {
    let mut out = mem.slice_mut(buf, len)?;
    while !out.is_empty() {
        match rustix::rand::getrandom(&mut *out, rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => out = &mut out[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub(crate) fn sched_yield(_cx: &mut WasiCtx, _mem: &mut GuestMemory<'_>) -> WasiResult {
    std::thread::yield_now();
    Ok(())
}

/// Signals after which a process keeps running, in WASI's numbering: 0 (`none`), those
/// ignored by default (`SIGCHLD` 16, `SIGCONT` 17, `SIGURG` 22, `SIGWINCH` 27), and the
/// stop signals (`SIGSTOP`, `SIGTSTP`, `SIGTTIN`, `SIGTTOU`, 18–21: a guest has no job
/// control, so nothing stops it).
const IGNORED_BY_DEFAULT: [u32; 9] = [0, 16, 17, 18, 19, 20, 21, 22, 27];
/// The highest WASI signal number (`SIGSYS`).
const MAX_SIGNAL: u32 = 30;

/// What `proc_raise` decided: a signal whose default action ends the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Raise {
    /// Nothing happens (the default action is to ignore it).
    Ignored,
    /// The guest ends as if killed by this (WASI-numbered) signal.
    Terminate(u32),
}

/// `proc_raise`: the guest is the whole process as far as it can see, so a signal with a
/// terminating default action ends it; the ones that are ignored by default do nothing.
pub(crate) fn proc_raise(sig: u32) -> WasiResult<Raise> {
    if sig > MAX_SIGNAL {
        return Err(Errno::Inval);
    }
    Ok(if IGNORED_BY_DEFAULT.contains(&sig) { Raise::Ignored } else { Raise::Terminate(sig) })
}
