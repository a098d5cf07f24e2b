//! The `path_*` calls. Every path is resolved by `cap_std::fs::Dir` beneath the directory
//! descriptor it is relative to: `..` past that directory, absolute paths and symlinks
//! leading out are refused (cap-std's "a path led outside of the filesystem", `EPERM`).

use super::fd::{file_rights, filetype_of_mode};
use crate::abi::{Errno, Filestat, GuestMemory, LOOKUP_SYMLINK_FOLLOW, WasiResult, fdflags, fstflags, oflags, rights};
use crate::ctx::{Descriptor, Kind, WasiCtx};
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt, OsMetadataExt,
};
use cap_std::fs::Dir;

/// The directory `fd` refers to.
fn dir_of(cx: &WasiCtx, fd: u32) -> WasiResult<&Dir> {
    match &cx.fds.get(&fd).ok_or(Errno::Badf)?.kind {
        Kind::Dir { dir, .. } => Ok(dir),
        // POSIX says `ENOTDIR`; wasmtime, the reference, says `EBADF`.
        _ => Err(Errno::Badf),
    }
}

/// The directory `fd` and the path argument relative to it.
fn dir_and_path<'a>(
    cx: &'a WasiCtx,
    mem: &GuestMemory<'_>,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult<(&'a Dir, String)> {
    let path = mem.read_str(path, len)?;
    Ok((dir_of(cx, fd)?, path))
}

/// The `filestat` of host metadata.
fn filestat(m: &cap_std::fs::Metadata) -> Filestat {
    let ns = |s: i64, n: i64| (s as u64).wrapping_mul(1_000_000_000).wrapping_add(n as u64);
    Filestat {
        dev: m.dev(),
        ino: m.ino(),
        filetype: filetype_of_mode(m.mode()),
        nlink: m.nlink(),
        size: m.size(),
        atim: ns(m.atime(), m.atime_nsec()),
        mtim: ns(m.mtime(), m.mtime_nsec()),
        ctim: ns(m.ctime(), m.ctime_nsec()),
    }
}

fn follows(flags: u32) -> bool {
    flags & LOOKUP_SYMLINK_FOLLOW != 0
}

pub(crate) fn path_create_directory(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult {
    let (dir, path) = dir_and_path(cx, mem, fd, path, len)?;
    Ok(dir.create_dir(path)?)
}

pub(crate) fn path_remove_directory(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult {
    let (dir, path) = dir_and_path(cx, mem, fd, path, len)?;
    Ok(dir.remove_dir(path)?)
}

pub(crate) fn path_unlink_file(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    len: u32,
) -> WasiResult {
    let (dir, path) = dir_and_path(cx, mem, fd, path, len)?;
    // POSIX `unlink` on a directory is `EISDIR` on Linux but `EPERM` elsewhere; WASI wants
    // `EISDIR`, so check first when the host says "not permitted".
    match dir.remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if Errno::from(&e) == Errno::Perm && dir.symlink_metadata(&path).is_ok_and(|m| m.is_dir()) => {
            Err(Errno::IsDir)
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn path_filestat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    path: u32,
    len: u32,
    ptr: u32,
) -> WasiResult {
    let (dir, path) = dir_and_path(cx, mem, fd, path, len)?;
    let meta = if follows(flags) { dir.metadata(path)? } else { dir.symlink_metadata(path)? };
    filestat(&meta).write(mem, ptr)
}

/// A time argument of `path_filestat_set_times` as cap-std wants it.
fn time_spec(ns: u64, set: bool, now: bool) -> WasiResult<Option<cap_fs_ext::SystemTimeSpec>> {
    use cap_fs_ext::SystemTimeSpec;
    Ok(match (set, now) {
        (true, true) => return Err(Errno::Inval),
        (true, false) => {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns);
            Some(SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(t)))
        }
        (false, true) => Some(SystemTimeSpec::SymbolicNow),
        (false, false) => None,
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn path_filestat_set_times(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    path: u32,
    len: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> WasiResult {
    let path = mem.read_str(path, len)?;
    let fst = fstflags::check(fst)?;
    let atime = time_spec(atim, fst & fstflags::ATIM != 0, fst & fstflags::ATIM_NOW != 0)?;
    let mtime = time_spec(mtim, fst & fstflags::MTIM != 0, fst & fstflags::MTIM_NOW != 0)?;
    let dir = dir_of(cx, fd)?;
    if follows(flags) {
        dir.set_times(path, atime, mtime)?;
    } else {
        dir.set_symlink_times(path, atime, mtime)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn path_link(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    old_fd: u32,
    old_flags: u32,
    old_path: u32,
    old_len: u32,
    new_fd: u32,
    new_path: u32,
    new_len: u32,
) -> WasiResult {
    let old_path = mem.read_str(old_path, old_len)?;
    let new_path = mem.read_str(new_path, new_len)?;
    // Linking the target of a symlink (`linkat` with `AT_SYMLINK_FOLLOW`) is not offered.
    if follows(old_flags) {
        return Err(Errno::Inval);
    }
    let (old_dir, new_dir) = (dir_of(cx, old_fd)?, dir_of(cx, new_fd)?);
    Ok(old_dir.hard_link(old_path, new_dir, new_path)?)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn path_rename(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    old_path: u32,
    old_len: u32,
    new_fd: u32,
    new_path: u32,
    new_len: u32,
) -> WasiResult {
    let old_path = mem.read_str(old_path, old_len)?;
    let new_path = mem.read_str(new_path, new_len)?;
    let (old_dir, new_dir) = (dir_of(cx, fd)?, dir_of(cx, new_fd)?);
    Ok(old_dir.rename(old_path, new_dir, new_path)?)
}

pub(crate) fn path_symlink(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    old_path: u32,
    old_len: u32,
    fd: u32,
    new_path: u32,
    new_len: u32,
) -> WasiResult {
    let target = mem.read_str(old_path, old_len)?;
    let link = mem.read_str(new_path, new_len)?;
    // cap-std refuses absolute targets; relative ones that lead out are refused when used.
    Ok(dir_of(cx, fd)?.symlink(target, link)?)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn path_readlink(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    len: u32,
    buf: u32,
    buf_len: u32,
    bufused: u32,
) -> WasiResult {
    let (dir, path) = dir_and_path(cx, mem, fd, path, len)?;
    // cap-std refuses to reveal an absolute target (`EPERM`): it names a host path.
    let target = dir.read_link(path)?;
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str());
    let n = bytes.len().min(buf_len as usize);
    mem.write(buf, &bytes[..n])?;
    mem.write_u32(bufused, n as u32)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn path_open(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    dirflags: u32,
    path: u32,
    len: u32,
    oflags: u32,
    rights_base: u64,
    rights_inheriting: u64,
    fdflags: u32,
    opened: u32,
) -> WasiResult {
    let path = mem.read_str(path, len)?;
    let (oflags, fdflags) = (oflags as u16, fdflags as u16);
    let parent = cx.fds.get(&fd).ok_or(Errno::Badf)?;
    let Kind::Dir { dir, .. } = &parent.kind else {
        return Err(Errno::Badf);
    };
    let allowed = parent.rights_inheriting;
    let follow = if follows(dirflags) { FollowSymlinks::Yes } else { FollowSymlinks::No };

    let descriptor = if oflags & oflags::DIRECTORY != 0 {
        if oflags & (oflags::CREAT | oflags::TRUNC) != 0 {
            return Err(Errno::Inval);
        }
        let sub = if follow == FollowSymlinks::Yes { dir.open_dir(&path)? } else { dir.open_dir_nofollow(&path)? };
        directory(sub, rights_base, rights_inheriting, allowed)
    } else {
        let read = rights_base & (rights::FD_READ | rights::FD_READDIR) != 0;
        let write = rights_base & rights::FD_WRITE != 0;
        // As POSIX: `O_APPEND` on a descriptor that cannot write changes nothing.
        let append = write && fdflags & fdflags::APPEND != 0;
        let mut opts = cap_std::fs::OpenOptions::new();
        // Creating or truncating needs a writable host descriptor; the guest still gets
        // only the access it asked for.
        let host_write = write || oflags & (oflags::CREAT | oflags::TRUNC) != 0;
        opts.read(read || !write).write(host_write && !append).append(append);
        if oflags & oflags::CREAT != 0 {
            if oflags & oflags::EXCL != 0 {
                opts.create_new(true);
            } else {
                opts.create(true);
            }
        }
        opts.truncate(oflags & oflags::TRUNC != 0);
        opts.follow(follow).maybe_dir(true);
        opts.dsync(fdflags & fdflags::DSYNC != 0)
            .rsync(fdflags & fdflags::RSYNC != 0)
            .sync(fdflags & fdflags::SYNC != 0);
        let file = dir.open_with(&path, &opts)?;
        if file.metadata()?.is_dir() {
            if write {
                return Err(Errno::IsDir);
            }
            directory(Dir::from_std_file(file.into_std()), rights_base, rights_inheriting, allowed)
        } else {
            let readable = read || !write;
            let file = file.into_std();
            let base = rights_base & allowed & file_rights(readable, write);
            Descriptor::new(Kind::File { file, readable, writable: write }, base, rights_inheriting & allowed)
        }
    };
    let new = cx.insert(descriptor)?;
    mem.write_u32(opened, new)
}

fn directory(dir: Dir, base: u64, inheriting: u64, allowed: u64) -> Descriptor {
    let kind = Kind::Dir { dir, preopen: None, listing: None };
    Descriptor::new(kind, base & allowed & rights::DIRECTORY, inheriting & allowed)
}
