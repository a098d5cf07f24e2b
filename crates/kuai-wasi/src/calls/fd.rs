//! The `fd_*` calls: reading, writing, seeking, descriptor state and metadata, directory
//! listing, preopen names, renumbering and closing.

use crate::abi::{Errno, Filestat, GuestMemory, WasiResult, fdflags, filetype, fstflags, rights};
use crate::ctx::{DirEntry, Input, Kind, Listing, Output, WasiCtx};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, BorrowedFd};

/// The WASI file type of a host `st_mode`.
pub(crate) fn filetype_of_mode(mode: u32) -> u8 {
    use rustix::fs::FileType as F;
    match F::from_raw_mode(mode) {
        F::RegularFile => filetype::REGULAR_FILE,
        F::Directory => filetype::DIRECTORY,
        F::Symlink => filetype::SYMBOLIC_LINK,
        F::CharacterDevice => filetype::CHARACTER_DEVICE,
        F::BlockDevice => filetype::BLOCK_DEVICE,
        F::Socket => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

fn time_nanos(sec: i64, nsec: i64) -> u64 {
    (sec as u64).wrapping_mul(1_000_000_000).wrapping_add(nsec as u64)
}

/// The `filestat` of an open host descriptor.
pub(crate) fn fd_stat(fd: BorrowedFd<'_>) -> WasiResult<Filestat> {
    let st = rustix::fs::fstat(fd)?;
    Ok(Filestat {
        dev: st.st_dev,
        ino: st.st_ino,
        filetype: filetype_of_mode(st.st_mode),
        nlink: st.st_nlink,
        size: st.st_size as u64,
        atim: time_nanos(st.st_atime, st.st_atime_nsec as i64),
        mtim: time_nanos(st.st_mtime, st.st_mtime_nsec as i64),
        ctim: time_nanos(st.st_ctime, st.st_ctime_nsec as i64),
    })
}

/// The host descriptor of a standard stream the guest inherited.
pub(crate) fn inherited(stream: u8) -> BorrowedFd<'static> {
    match stream {
        0 => rustix::stdio::stdin(),
        1 => rustix::stdio::stdout(),
        _ => rustix::stdio::stderr(),
    }
}

/// A timestamp argument of the `*_set_times` calls.
pub(crate) fn timestamp(ns: u64, set: bool, now: bool) -> WasiResult<rustix::fs::Timespec> {
    let nanos =
        |ns: u64| rustix::fs::Timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as _ };
    match (set, now) {
        (true, true) => Err(Errno::Inval),
        (true, false) => Ok(nanos(ns)),
        (false, true) => Ok(rustix::fs::Timespec { tv_sec: 0, tv_nsec: rustix::fs::UTIME_NOW }),
        (false, false) => Ok(rustix::fs::Timespec { tv_sec: 0, tv_nsec: rustix::fs::UTIME_OMIT }),
    }
}

/// The access and modification times requested by `fst_flags`.
pub(crate) fn timestamps(atim: u64, mtim: u64, flags: u32) -> WasiResult<rustix::fs::Timestamps> {
    let flags = fstflags::check(flags)?;
    Ok(rustix::fs::Timestamps {
        last_access: timestamp(atim, flags & fstflags::ATIM != 0, flags & fstflags::ATIM_NOW != 0)?,
        last_modification: timestamp(mtim, flags & fstflags::MTIM != 0, flags & fstflags::MTIM_NOW != 0)?,
    })
}

/// Reads into the first non-empty buffer only: a stream read must not block again once
/// some data has arrived.
fn read_once(
    mem: &mut GuestMemory<'_>,
    iovs: &[(u32, u32)],
    read: impl FnOnce(&mut [u8]) -> WasiResult<usize>,
) -> WasiResult<usize> {
    match iovs.iter().find(|(_, len)| *len > 0) {
        Some(&(buf, len)) => read(mem.slice_mut(buf, len)?),
        None => Ok(0),
    }
}

/// Reads into each buffer in turn until one is not filled (files: no blocking).
fn read_all(
    mem: &mut GuestMemory<'_>,
    iovs: &[(u32, u32)],
    mut read: impl FnMut(&mut [u8], u64) -> std::io::Result<usize>,
) -> WasiResult<usize> {
    let mut total = 0usize;
    for &(buf, len) in iovs {
        let n = read(mem.slice_mut(buf, len)?, total as u64)?;
        total += n;
        if n < len as usize {
            break;
        }
    }
    Ok(total)
}

fn write_fd(fd: BorrowedFd<'_>, mut data: &[u8]) -> WasiResult {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub(crate) fn fd_read(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nread: u32,
) -> WasiResult {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let d = cx.get(fd)?;
    let n = match &mut d.kind {
        Kind::Stdin(Input::Inherit) => read_once(mem, &iovs, |b| {
            loop {
                match rustix::io::read(inherited(0), &mut *b) {
                    Err(rustix::io::Errno::INTR) => continue,
                    r => return r.map_err(Errno::from),
                }
            }
        })?,
        Kind::Stdin(Input::Reader(r)) => read_once(mem, &iovs, |b| Ok(r.read(b)?))?,
        Kind::File { file, readable: true, .. } => read_all(mem, &iovs, |b, _| file.read(b))?,
        Kind::Stream(s) => read_once(mem, &iovs, |b| Ok(s.read(b)?))?,
        // Directories are read with `fd_readdir`; like wasmtime, `fd_read` says `EBADF`.
        _ => return Err(Errno::Badf),
    };
    mem.write_u32(nread, n as u32)
}

pub(crate) fn fd_pread(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nread: u32,
) -> WasiResult {
    use std::os::unix::fs::FileExt;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let n = match &cx.get(fd)?.kind {
        Kind::File { file, readable: true, .. } => read_all(mem, &iovs, |b, done| file.read_at(b, offset + done))?,
        Kind::File { .. } => return Err(Errno::Badf),
        Kind::Dir { .. } => return Err(Errno::IsDir),
        _ => return Err(Errno::Spipe),
    };
    mem.write_u32(nread, n as u32)
}

pub(crate) fn fd_write(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nwritten: u32,
) -> WasiResult {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let d = cx.get(fd)?;
    let mut total = 0usize;
    for &(buf, len) in &iovs {
        let data = mem.slice(buf, len)?;
        match &mut d.kind {
            Kind::Stdout(Output::Inherit(stream)) => write_fd(inherited(*stream), data)?,
            Kind::Stdout(Output::Writer(w)) => {
                w.write_all(data)?;
                w.flush()?;
            }
            Kind::File { file, writable: true, .. } => file.write_all(data)?,
            Kind::Stream(s) => s.write_all(data)?,
            _ => return Err(Errno::Badf),
        }
        total += data.len();
    }
    mem.write_u32(nwritten, total as u32)
}

pub(crate) fn fd_pwrite(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nwritten: u32,
) -> WasiResult {
    use std::os::unix::fs::FileExt;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let file = match &cx.get(fd)?.kind {
        Kind::File { file, writable: true, .. } => file,
        Kind::File { .. } => return Err(Errno::Badf),
        Kind::Dir { .. } => return Err(Errno::IsDir),
        _ => return Err(Errno::Spipe),
    };
    let mut total = 0u64;
    for &(buf, len) in &iovs {
        let data = mem.slice(buf, len)?;
        file.write_all_at(data, offset.checked_add(total).ok_or(Errno::Fbig)?)?;
        total += data.len() as u64;
    }
    mem.write_u32(nwritten, total as u32)
}

/// The open file `fd`, for the calls only a regular file supports.
fn file_of(cx: &mut WasiCtx, fd: u32) -> WasiResult<&mut std::fs::File> {
    match &mut cx.get(fd)?.kind {
        Kind::File { file, .. } => Ok(file),
        Kind::Dir { .. } => Err(Errno::IsDir),
        Kind::Stdin(_) | Kind::Stdout(_) | Kind::Stream(_) | Kind::Listener(_) => Err(Errno::Spipe),
    }
}

pub(crate) fn fd_seek(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: i64,
    whence: u32,
    newoffset: u32,
) -> WasiResult {
    let pos = match whence {
        0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
        1 => SeekFrom::Current(offset),
        2 => SeekFrom::End(offset),
        _ => return Err(Errno::Inval),
    };
    let at = file_of(cx, fd)?.seek(pos)?;
    mem.write_u64(newoffset, at)
}

pub(crate) fn fd_tell(cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, fd: u32, offset: u32) -> WasiResult {
    let at = file_of(cx, fd)?.stream_position()?;
    mem.write_u64(offset, at)
}

pub(crate) fn fd_advise(
    cx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: u64,
    len: u64,
    advice: u32,
) -> WasiResult {
    use rustix::fs::Advice;
    let advice = match advice {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(Errno::Inval),
    };
    let file = file_of(cx, fd).map_err(|e| if e == Errno::Spipe { Errno::Spipe } else { Errno::Badf })?;
    rustix::fs::fadvise(&*file, offset, std::num::NonZeroU64::new(len), advice)?;
    Ok(())
}

pub(crate) fn fd_allocate(cx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32, offset: u64, len: u64) -> WasiResult {
    let file = file_of(cx, fd)?;
    if len == 0 {
        return Err(Errno::Inval);
    }
    let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
    match rustix::fs::fallocate(&*file, rustix::fs::FallocateFlags::empty(), offset, len) {
        Ok(()) => Ok(()),
        // Filesystems without preallocation: extend the file as `posix_fallocate` does.
        Err(rustix::io::Errno::OPNOTSUPP) => {
            if file.metadata()?.len() < end {
                file.set_len(end)?;
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn sync(cx: &mut WasiCtx, fd: u32, data_only: bool) -> WasiResult {
    match &cx.get(fd)?.kind {
        Kind::File { file, .. } if data_only => file.sync_data()?,
        Kind::File { file, .. } => file.sync_all()?,
        Kind::Dir { dir, .. } => rustix::fs::fsync(dir)?,
        _ => return Err(Errno::Inval),
    }
    Ok(())
}

pub(crate) fn fd_datasync(cx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32) -> WasiResult {
    sync(cx, fd, true)
}

pub(crate) fn fd_sync(cx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32) -> WasiResult {
    sync(cx, fd, false)
}

pub(crate) fn fd_close(cx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32) -> WasiResult {
    cx.fds.remove(&fd).map(drop).ok_or(Errno::Badf)
}

pub(crate) fn fd_renumber(cx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, from: u32, to: u32) -> WasiResult {
    if !cx.fds.contains_key(&to) {
        return Err(Errno::Badf);
    }
    let d = cx.fds.remove(&from).ok_or(Errno::Badf)?;
    cx.fds.insert(to, d);
    Ok(())
}

/// The file type and `fdflags` of a descriptor.
fn type_and_flags(kind: &Kind, flags: u16) -> WasiResult<(u8, u16)> {
    Ok(match kind {
        Kind::Stdin(Input::Inherit) => (fd_stat(inherited(0)).map_or(filetype::UNKNOWN, |s| s.filetype), flags),
        Kind::Stdout(Output::Inherit(n)) => (fd_stat(inherited(*n)).map_or(filetype::UNKNOWN, |s| s.filetype), flags),
        Kind::Stdin(_) | Kind::Stdout(_) => (filetype::UNKNOWN, flags),
        Kind::File { file, .. } => {
            let host = rustix::fs::fcntl_getfl(file)?;
            let mut f = 0;
            if host.contains(rustix::fs::OFlags::APPEND) {
                f |= fdflags::APPEND;
            }
            if host.contains(rustix::fs::OFlags::DSYNC) {
                f |= fdflags::DSYNC;
            }
            if host.contains(rustix::fs::OFlags::SYNC) {
                f |= fdflags::SYNC | fdflags::RSYNC;
            }
            (fd_stat(file.as_fd())?.filetype, f)
        }
        Kind::Dir { .. } => (filetype::DIRECTORY, flags),
        Kind::Listener(_) | Kind::Stream(_) => (filetype::SOCKET_STREAM, flags),
    })
}

pub(crate) fn fd_fdstat_get(cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, fd: u32, ptr: u32) -> WasiResult {
    let d = cx.get(fd)?;
    let (ty, flags) = type_and_flags(&d.kind, d.flags)?;
    let mut b = [0u8; 24];
    b[0] = ty;
    b[2..4].copy_from_slice(&flags.to_le_bytes());
    b[8..16].copy_from_slice(&d.rights_base.to_le_bytes());
    b[16..24].copy_from_slice(&d.rights_inheriting.to_le_bytes());
    mem.write(ptr, &b)
}

pub(crate) fn fd_fdstat_set_flags(cx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32, flags: u32) -> WasiResult {
    let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
    let d = cx.get(fd)?;
    match &d.kind {
        Kind::File { file, .. } => {
            // Linux cannot change the synchronization flags of an open file (`EINVAL`, as
            // wasmtime answers too).
            if flags & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
                return Err(Errno::Inval);
            }
            let mut host = rustix::fs::fcntl_getfl(file)?;
            host.set(rustix::fs::OFlags::APPEND, flags & fdflags::APPEND != 0);
            host.set(rustix::fs::OFlags::NONBLOCK, flags & fdflags::NONBLOCK != 0);
            rustix::fs::fcntl_setfl(file, host)?;
        }
        Kind::Listener(l) if flags & !fdflags::NONBLOCK == 0 => l.set_nonblocking(flags != 0)?,
        Kind::Stream(s) if flags & !fdflags::NONBLOCK == 0 => s.set_nonblocking(flags != 0)?,
        // Directories have no flags to change; the standard streams are shared with the
        // host process, whose blocking mode the guest must not change.
        Kind::Dir { .. } if flags == 0 => {}
        Kind::Stdin(_) | Kind::Stdout(_) if flags == 0 => {}
        _ => return Err(Errno::NotSup),
    }
    d.flags = flags & fdflags::NONBLOCK;
    Ok(())
}

pub(crate) fn fd_fdstat_set_rights(
    cx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    base: u64,
    inheriting: u64,
) -> WasiResult {
    let d = cx.get(fd)?;
    if base & !d.rights_base != 0 || inheriting & !d.rights_inheriting != 0 {
        return Err(Errno::NotCapable);
    }
    d.rights_base = base;
    d.rights_inheriting = inheriting;
    Ok(())
}

pub(crate) fn fd_filestat_get(cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, fd: u32, ptr: u32) -> WasiResult {
    let stat = match &cx.get(fd)?.kind {
        Kind::File { file, .. } => fd_stat(file.as_fd())?,
        Kind::Dir { dir, .. } => fd_stat(dir.as_fd())?,
        // Streams shared with the host and sockets: the type only.
        kind => Filestat { filetype: type_and_flags(kind, 0)?.0, ..Filestat::default() },
    };
    stat.write(mem, ptr)
}

pub(crate) fn fd_filestat_set_size(cx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32, size: u64) -> WasiResult {
    match &cx.get(fd)?.kind {
        // The host decides about read-only descriptors (Linux: `EINVAL`).
        Kind::File { file, .. } => Ok(file.set_len(size)?),
        Kind::Dir { .. } => Err(Errno::IsDir),
        _ => Err(Errno::Inval),
    }
}

pub(crate) fn fd_filestat_set_times(
    cx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    atim: u64,
    mtim: u64,
    flags: u32,
) -> WasiResult {
    let times = timestamps(atim, mtim, flags)?;
    match &cx.get(fd)?.kind {
        Kind::File { file, .. } => rustix::fs::futimens(file, &times)?,
        Kind::Dir { dir, .. } => rustix::fs::futimens(dir, &times)?,
        _ => return Err(Errno::Badf),
    }
    Ok(())
}

pub(crate) fn fd_prestat_get(cx: &mut WasiCtx, mem: &mut GuestMemory<'_>, fd: u32, ptr: u32) -> WasiResult {
    let Kind::Dir { preopen: Some(name), .. } = &cx.get(fd)?.kind else {
        return Err(Errno::Badf);
    };
    let mut b = [0u8; 8];
    b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
    mem.write(ptr, &b)
}

pub(crate) fn fd_prestat_dir_name(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> WasiResult {
    let Kind::Dir { preopen: Some(name), .. } = &cx.get(fd)?.kind else {
        return Err(Errno::Badf);
    };
    if (path_len as usize) < name.len() {
        return Err(Errno::NameTooLong);
    }
    mem.write(path, name.as_bytes())
}

/// `.`, `..` and the entries of `dir`, in the host's order.
fn list(dir: &cap_std::fs::Dir) -> WasiResult<Listing> {
    use cap_fs_ext::FileTypeExt;
    use cap_std::fs::FileType;
    let kind = |t: FileType| {
        if t.is_dir() {
            filetype::DIRECTORY
        } else if t.is_file() {
            filetype::REGULAR_FILE
        } else if t.is_symlink() {
            filetype::SYMBOLIC_LINK
        } else if t.is_char_device() {
            filetype::CHARACTER_DEVICE
        } else if t.is_block_device() {
            filetype::BLOCK_DEVICE
        } else if t.is_socket() {
            filetype::SOCKET_STREAM
        } else {
            filetype::UNKNOWN
        }
    };
    let this = fd_stat(dir.as_fd())?.ino;
    let mut entries = vec![
        DirEntry { name: b".".to_vec(), ino: this, filetype: filetype::DIRECTORY },
        DirEntry { name: b"..".to_vec(), ino: 0, filetype: filetype::DIRECTORY },
    ];
    for entry in dir.entries()? {
        let entry = entry?;
        let ino = std::os::unix::fs::DirEntryExt::ino(&entry);
        let name = std::os::unix::ffi::OsStrExt::as_bytes(entry.file_name().as_os_str()).to_vec();
        entries.push(DirEntry { name, ino, filetype: kind(entry.file_type()?) });
    }
    Ok(Listing { entries })
}

/// Size of a `dirent` header.
const DIRENT_SIZE: usize = 24;

pub(crate) fn fd_readdir(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    bufused: u32,
) -> WasiResult {
    let Kind::Dir { dir, listing, .. } = &mut cx.get(fd)?.kind else {
        return Err(Errno::NotDir);
    };
    // A listing is taken when a reader starts over (cookie 0) and reused as it goes on.
    if cookie == 0 || listing.is_none() {
        *listing = Some(list(dir)?);
    }
    let entries = listing.as_ref().map_or(&[][..], |l| &l.entries[..]);
    let mut out = Vec::with_capacity(buf_len as usize);
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, e) in entries.iter().enumerate().skip(start) {
        if out.len() >= buf_len as usize {
            break;
        }
        let mut header = [0u8; DIRENT_SIZE];
        header[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        header[8..16].copy_from_slice(&e.ino.to_le_bytes());
        header[16..20].copy_from_slice(&(e.name.len() as u32).to_le_bytes());
        header[20] = e.filetype;
        out.extend_from_slice(&header);
        out.extend_from_slice(&e.name);
    }
    // A full buffer (the last entry cut short) tells the guest to call again.
    out.truncate(buf_len as usize);
    mem.write(buf, &out)?;
    mem.write_u32(bufused, out.len() as u32)
}

/// Rights a file opened for reading and/or writing can have.
pub(crate) fn file_rights(readable: bool, writable: bool) -> u64 {
    let mut r = rights::FILE;
    if !readable {
        r &= !rights::FD_READ;
    }
    if !writable {
        r &= !(rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE);
    }
    r
}
