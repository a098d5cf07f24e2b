//! The socket calls on listeners the host preopened: `sock_accept`, `sock_recv`,
//! `sock_send`, `sock_shutdown`.

use crate::abi::{Errno, GuestMemory, WasiResult, fdflags, rights};
use crate::ctx::{Descriptor, Kind, WasiCtx};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};

const RECV_PEEK: u32 = 1;
const RECV_WAITALL: u32 = 2;
const SHUT_RD: u32 = 1;
const SHUT_WR: u32 = 2;

fn stream_of(cx: &mut WasiCtx, fd: u32) -> WasiResult<&mut TcpStream> {
    match &mut cx.get(fd)?.kind {
        Kind::Stream(s) => Ok(s),
        // POSIX says `ENOTSOCK`; wasmtime, the reference, says `EBADF`.
        _ => Err(Errno::Badf),
    }
}

pub(crate) fn sock_accept(cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, fd: u32, flags: u32, opened: u32) -> WasiResult {
    if flags & !u32::from(fdflags::NONBLOCK) != 0 {
        return Err(Errno::Inval);
    }
    let Kind::Listener(listener) = &cx.get(fd)?.kind else {
        return Err(Errno::Badf);
    };
    let (stream, _) = listener.accept()?;
    // A listener in non-blocking mode hands out non-blocking sockets on some hosts;
    // the new socket's mode is what the guest asked for.
    stream.set_nonblocking(flags != 0)?;
    let mut d = Descriptor::new(Kind::Stream(stream), rights::SOCKET, 0);
    d.flags = flags as u16;
    let new = cx.insert(d)?;
    mem.write_u32(opened, new)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn sock_recv(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    ri_flags: u32,
    ro_datalen: u32,
    ro_flags: u32,
) -> WasiResult {
    if ri_flags & !(RECV_PEEK | RECV_WAITALL) != 0 {
        return Err(Errno::Inval);
    }
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let stream = stream_of(cx, fd)?;
    let mut total = 0usize;
    for &(buf, len) in &iovs {
        let b = mem.slice_mut(buf, len)?;
        let mut filled = 0;
        while filled < b.len() {
            let r =
                if ri_flags & RECV_PEEK != 0 { stream.peek(&mut b[filled..]) } else { stream.read(&mut b[filled..]) };
            match r {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock && total + filled > 0 => break,
                Err(e) => return Err(e.into()),
            }
            // Without WAITALL, return as soon as some data arrived.
            if ri_flags & RECV_WAITALL == 0 || ri_flags & RECV_PEEK != 0 {
                break;
            }
        }
        total += filled;
        if filled < b.len() || ri_flags & RECV_WAITALL == 0 {
            break;
        }
    }
    mem.write_u32(ro_datalen, total as u32)?;
    mem.write_u16(ro_flags, 0)
}

pub(crate) fn sock_send(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    _si_flags: u32,
    so_datalen: u32,
) -> WasiResult {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let stream = stream_of(cx, fd)?;
    let mut total = 0usize;
    'outer: for &(buf, len) in &iovs {
        let mut data = mem.slice(buf, len)?;
        while !data.is_empty() {
            match stream.write(data) {
                Ok(n) => {
                    total += n;
                    data = &data[n..];
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock && total > 0 => break 'outer,
                Err(e) => return Err(e.into()),
            }
        }
    }
    mem.write_u32(so_datalen, total as u32)
}

pub(crate) fn sock_shutdown(cx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32, how: u32) -> WasiResult {
    let how = match how {
        SHUT_RD => Shutdown::Read,
        SHUT_WR => Shutdown::Write,
        x if x == SHUT_RD | SHUT_WR => Shutdown::Both,
        _ => return Err(Errno::Inval),
    };
    Ok(stream_of(cx, fd)?.shutdown(how)?)
}
