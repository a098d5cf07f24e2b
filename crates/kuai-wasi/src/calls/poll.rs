//! `poll_oneoff`: waits for clock deadlines and for descriptors to become readable or
//! writable. Regular files are always ready; standard streams and sockets are polled on
//! their host descriptors with the earliest deadline as the timeout.

use super::fd::inherited;
use super::proc::now;
use crate::abi::{Errno, GuestMemory, WasiResult, clockid};
use crate::ctx::{Input, Kind, Output, WasiCtx};
use std::io::Seek;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

const SUBSCRIPTION_SIZE: u32 = 48;
const EVENT_SIZE: u32 = 32;
const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;
const EVENTRWFLAGS_HANGUP: u16 = 1;

/// One event to report.
struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

impl Event {
    fn write(&self, mem: &mut GuestMemory<'_>, ptr: u32) -> WasiResult {
        let mut b = [0u8; EVENT_SIZE as usize];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&(self.error as u16).to_le_bytes());
        b[10] = self.kind;
        b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&self.flags.to_le_bytes());
        mem.write(ptr, &b)
    }

    fn ready(userdata: u64, kind: u8, nbytes: u64) -> Event {
        Event { userdata, error: Errno::Success, kind, nbytes, flags: 0 }
    }

    fn failed(userdata: u64, kind: u8, error: Errno) -> Event {
        Event { userdata, error, kind, nbytes: 0, flags: 0 }
    }
}

/// The host descriptor to wait on for a subscription, or the event it yields at once.
enum Readiness<'a> {
    Now(Event),
    Wait(BorrowedFd<'a>),
    /// No such descriptor: the whole call fails with `EBADF`, as in wasmtime.
    Closed,
}

fn readiness<'a>(cx: &'a WasiCtx, userdata: u64, kind: u8, fd: u32) -> Readiness<'a> {
    let Some(d) = cx.fds.get(&fd) else {
        return Readiness::Closed;
    };
    match &d.kind {
        Kind::File { file, .. } => {
            // A regular file is always ready; for reading, report the bytes left.
            let mut nbytes = 0;
            if kind == EVENTTYPE_FD_READ {
                let mut f = file;
                let (Ok(len), Ok(pos)) = (file.metadata().map(|m| m.len()), f.stream_position()) else {
                    return Readiness::Now(Event::failed(userdata, kind, Errno::Io));
                };
                nbytes = len.saturating_sub(pos);
            }
            Readiness::Now(Event::ready(userdata, kind, nbytes))
        }
        Kind::Stdin(Input::Inherit) => Readiness::Wait(inherited(0)),
        Kind::Stdout(Output::Inherit(n)) => Readiness::Wait(inherited(*n)),
        Kind::Stdin(Input::Reader(_)) | Kind::Stdout(Output::Writer(_)) => {
            Readiness::Now(Event::ready(userdata, kind, 0))
        }
        Kind::Stream(s) => Readiness::Wait(s.as_fd()),
        Kind::Listener(l) => Readiness::Wait(l.as_fd()),
        Kind::Dir { .. } => Readiness::Now(Event::failed(userdata, kind, Errno::Badf)),
    }
}

pub(crate) fn poll_oneoff(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    subs: u32,
    events: u32,
    nsubs: u32,
    nevents: u32,
) -> WasiResult {
    use rustix::event::{PollFd, PollFlags};
    if nsubs == 0 {
        return Err(Errno::Inval);
    }
    let start = Instant::now();
    let mut out: Vec<Event> = Vec::new();
    let mut clocks: Vec<(u64, Instant)> = Vec::new();
    let mut waits: Vec<(u64, u8, BorrowedFd<'_>)> = Vec::new();
    for i in 0..nsubs {
        let at = i.checked_mul(SUBSCRIPTION_SIZE).and_then(|o| subs.checked_add(o)).ok_or(Errno::Fault)?;
        let userdata = mem.read_u64(at)?;
        match mem.read_u8(at + 8)? {
            EVENTTYPE_CLOCK => {
                let id = mem.read_u32(at + 16)?;
                let timeout = mem.read_u64(at + 24)?;
                let flags = mem.read_u16(at + 40)?;
                if id != clockid::REALTIME && id != clockid::MONOTONIC {
                    out.push(Event::failed(userdata, EVENTTYPE_CLOCK, Errno::Inval));
                    continue;
                }
                let wait = if flags & SUBCLOCKFLAGS_ABSTIME != 0 { timeout.saturating_sub(now(id)?) } else { timeout };
                clocks.push((userdata, start + Duration::from_nanos(wait)));
            }
            kind @ (EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE) => {
                let fd = mem.read_u32(at + 16)?;
                match readiness(cx, userdata, kind, fd) {
                    Readiness::Now(e) => out.push(e),
                    Readiness::Wait(host) => waits.push((userdata, kind, host)),
                    Readiness::Closed => return Err(Errno::Badf),
                }
            }
            _ => return Err(Errno::Inval),
        }
    }

    let deadline = clocks.iter().map(|&(_, d)| d).min();
    let mut polled: Vec<PollFd<'_>> = waits
        .iter()
        .map(|(_, kind, fd)| {
            PollFd::from_borrowed_fd(*fd, if *kind == EVENTTYPE_FD_READ { PollFlags::IN } else { PollFlags::OUT })
        })
        .collect();
    loop {
        let timeout = if !out.is_empty() {
            Some(Duration::ZERO)
        } else {
            deadline.map(|d| d.saturating_duration_since(Instant::now()))
        };
        let spec =
            timeout.map(|t| rustix::event::Timespec { tv_sec: t.as_secs() as i64, tv_nsec: t.subsec_nanos() as _ });
        match rustix::event::poll(&mut polled, spec.as_ref()) {
            Ok(_) => break,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    for ((userdata, kind, fd), p) in waits.iter().zip(&polled) {
        let revents = p.revents();
        if revents.is_empty() {
            continue;
        }
        let mut event = Event::ready(*userdata, *kind, 0);
        if revents.contains(PollFlags::NVAL) {
            event.error = Errno::Badf;
        } else if revents.contains(PollFlags::ERR) {
            event.error = Errno::Io;
        }
        if revents.contains(PollFlags::HUP) {
            event.flags |= EVENTRWFLAGS_HANGUP;
        }
        if *kind == EVENTTYPE_FD_READ {
            event.nbytes = rustix::io::ioctl_fionread(fd).unwrap_or(0);
        }
        out.push(event);
    }
    if out.is_empty()
        && let Some(d) = deadline
    {
        // Woken before the deadline with nothing ready (timer granularity): finish the wait.
        std::thread::sleep(d.saturating_duration_since(Instant::now()));
    }
    let now = Instant::now();
    for &(userdata, d) in &clocks {
        if d <= now {
            out.push(Event::ready(userdata, EVENTTYPE_CLOCK, 0));
        }
    }
    for (i, e) in out.iter().enumerate() {
        e.write(mem, events.checked_add(i as u32 * EVENT_SIZE).ok_or(Errno::Fault)?)?;
    }
    mem.write_u32(nevents, out.len() as u32)
}
