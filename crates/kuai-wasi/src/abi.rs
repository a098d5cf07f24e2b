//! The `wasi_snapshot_preview1` ABI: errno values, flag bits, and checked access to the
//! guest memory where the calls' structures live (little-endian, at the offsets the
//! witx definitions give).

use std::io;

macro_rules! errnos {
    ($($name:ident = $value:literal, $text:literal;)*) => {
        /// A WASI error number, with the values of the preview1 specification.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u16)]
        pub enum Errno {
            $(
                #[doc = $text]
                $name = $value,
            )*
        }

        impl Errno {
            /// The specification's name, e.g. `ENOENT`'s `noent`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Errno::$name => stringify!($name),)*
                }
            }
        }
    };
}

errnos! {
    Success = 0, "No error occurred.";
    TooBig = 1, "Argument list too long.";
    Acces = 2, "Permission denied.";
    AddrInUse = 3, "Address in use.";
    AddrNotAvail = 4, "Address not available.";
    AfNoSupport = 5, "Address family not supported.";
    Again = 6, "Resource unavailable, or operation would block.";
    Already = 7, "Connection already in progress.";
    Badf = 8, "Bad file descriptor.";
    BadMsg = 9, "Bad message.";
    Busy = 10, "Device or resource busy.";
    Canceled = 11, "Operation canceled.";
    Child = 12, "No child processes.";
    ConnAborted = 13, "Connection aborted.";
    ConnRefused = 14, "Connection refused.";
    ConnReset = 15, "Connection reset.";
    Deadlk = 16, "Resource deadlock would occur.";
    DestAddrReq = 17, "Destination address required.";
    Dom = 18, "Mathematics argument out of domain of function.";
    Dquot = 19, "Reserved.";
    Exist = 20, "File exists.";
    Fault = 21, "Bad address.";
    Fbig = 22, "File too large.";
    HostUnreach = 23, "Host is unreachable.";
    Idrm = 24, "Identifier removed.";
    Ilseq = 25, "Illegal byte sequence.";
    InProgress = 26, "Operation in progress.";
    Intr = 27, "Interrupted function.";
    Inval = 28, "Invalid argument.";
    Io = 29, "I/O error.";
    IsConn = 30, "Socket is connected.";
    IsDir = 31, "Is a directory.";
    Loop = 32, "Too many levels of symbolic links.";
    Mfile = 33, "File descriptor value too large.";
    Mlink = 34, "Too many links.";
    MsgSize = 35, "Message too large.";
    Multihop = 36, "Reserved.";
    NameTooLong = 37, "Filename too long.";
    NetDown = 38, "Network is down.";
    NetReset = 39, "Connection aborted by network.";
    NetUnreach = 40, "Network unreachable.";
    Nfile = 41, "Too many files open in system.";
    NoBufs = 42, "No buffer space available.";
    NoDev = 43, "No such device.";
    NoEnt = 44, "No such file or directory.";
    NoExec = 45, "Executable file format error.";
    NoLck = 46, "No locks available.";
    NoLink = 47, "Reserved.";
    NoMem = 48, "Not enough space.";
    NoMsg = 49, "No message of the desired type.";
    NoProtoOpt = 50, "Protocol not available.";
    NoSpc = 51, "No space left on device.";
    NoSys = 52, "Function not supported.";
    NotConn = 53, "The socket is not connected.";
    NotDir = 54, "Not a directory or a symbolic link to a directory.";
    NotEmpty = 55, "Directory not empty.";
    NotRecoverable = 56, "State not recoverable.";
    NotSock = 57, "Not a socket.";
    NotSup = 58, "Not supported, or operation not supported on socket.";
    NoTty = 59, "Inappropriate I/O control operation.";
    Nxio = 60, "No such device or address.";
    Overflow = 61, "Value too large to be stored in data type.";
    OwnerDead = 62, "Previous owner died.";
    Perm = 63, "Operation not permitted.";
    Pipe = 64, "Broken pipe.";
    Proto = 65, "Protocol error.";
    ProtoNoSupport = 66, "Protocol not supported.";
    ProtoType = 67, "Protocol wrong type for socket.";
    Range = 68, "Result too large.";
    Rofs = 69, "Read-only file system.";
    Spipe = 70, "Invalid seek.";
    Srch = 71, "No such process.";
    Stale = 72, "Reserved.";
    TimedOut = 73, "Connection timed out.";
    TxtBsy = 74, "Text file busy.";
    Xdev = 75, "Cross-device link.";
    NotCapable = 76, "Extension: Capabilities insufficient.";
}

impl From<io::Error> for Errno {
    fn from(e: io::Error) -> Errno {
        Errno::from(&e)
    }
}

impl From<&io::Error> for Errno {
    /// The host's error number translated, or for errors without one (cap-std's refusal
    /// of a path that leads out of its directory is one), the closest kind.
    fn from(e: &io::Error) -> Errno {
        if let Some(code) = e.raw_os_error() {
            return from_host_errno(rustix::io::Errno::from_raw_os_error(code));
        }
        match e.kind() {
            io::ErrorKind::NotFound => Errno::NoEnt,
            // cap-std's "a path led outside of the filesystem".
            io::ErrorKind::PermissionDenied => Errno::Perm,
            io::ErrorKind::AlreadyExists => Errno::Exist,
            io::ErrorKind::WouldBlock => Errno::Again,
            io::ErrorKind::InvalidInput => Errno::Inval,
            io::ErrorKind::InvalidData => Errno::Ilseq,
            io::ErrorKind::Interrupted => Errno::Intr,
            io::ErrorKind::BrokenPipe => Errno::Pipe,
            io::ErrorKind::Unsupported => Errno::NotSup,
            io::ErrorKind::OutOfMemory => Errno::NoMem,
            io::ErrorKind::NotADirectory => Errno::NotDir,
            io::ErrorKind::IsADirectory => Errno::IsDir,
            io::ErrorKind::DirectoryNotEmpty => Errno::NotEmpty,
            _ => Errno::Io,
        }
    }
}

impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Errno {
        from_host_errno(e)
    }
}

/// The WASI number of a host (POSIX) error number.
fn from_host_errno(e: rustix::io::Errno) -> Errno {
    use rustix::io::Errno as H;
    const TABLE: &[(H, Errno)] = &[
        (H::TOOBIG, Errno::TooBig),
        (H::ACCESS, Errno::Acces),
        (H::ADDRINUSE, Errno::AddrInUse),
        (H::ADDRNOTAVAIL, Errno::AddrNotAvail),
        (H::AFNOSUPPORT, Errno::AfNoSupport),
        (H::AGAIN, Errno::Again),
        (H::ALREADY, Errno::Already),
        (H::BADF, Errno::Badf),
        (H::BADMSG, Errno::BadMsg),
        (H::BUSY, Errno::Busy),
        (H::CANCELED, Errno::Canceled),
        (H::CHILD, Errno::Child),
        (H::CONNABORTED, Errno::ConnAborted),
        (H::CONNREFUSED, Errno::ConnRefused),
        (H::CONNRESET, Errno::ConnReset),
        (H::DEADLK, Errno::Deadlk),
        (H::DESTADDRREQ, Errno::DestAddrReq),
        (H::DOM, Errno::Dom),
        (H::DQUOT, Errno::Dquot),
        (H::EXIST, Errno::Exist),
        (H::FAULT, Errno::Fault),
        (H::FBIG, Errno::Fbig),
        (H::HOSTUNREACH, Errno::HostUnreach),
        (H::IDRM, Errno::Idrm),
        (H::ILSEQ, Errno::Ilseq),
        (H::INPROGRESS, Errno::InProgress),
        (H::INTR, Errno::Intr),
        (H::INVAL, Errno::Inval),
        (H::IO, Errno::Io),
        (H::ISCONN, Errno::IsConn),
        (H::ISDIR, Errno::IsDir),
        (H::LOOP, Errno::Loop),
        (H::MFILE, Errno::Mfile),
        (H::MLINK, Errno::Mlink),
        (H::MSGSIZE, Errno::MsgSize),
        (H::MULTIHOP, Errno::Multihop),
        (H::NAMETOOLONG, Errno::NameTooLong),
        (H::NETDOWN, Errno::NetDown),
        (H::NETRESET, Errno::NetReset),
        (H::NETUNREACH, Errno::NetUnreach),
        (H::NFILE, Errno::Nfile),
        (H::NOBUFS, Errno::NoBufs),
        (H::NODEV, Errno::NoDev),
        (H::NOENT, Errno::NoEnt),
        (H::NOEXEC, Errno::NoExec),
        (H::NOLCK, Errno::NoLck),
        (H::NOLINK, Errno::NoLink),
        (H::NOMEM, Errno::NoMem),
        (H::NOMSG, Errno::NoMsg),
        (H::NOPROTOOPT, Errno::NoProtoOpt),
        (H::NOSPC, Errno::NoSpc),
        (H::NOSYS, Errno::NoSys),
        (H::NOTCONN, Errno::NotConn),
        (H::NOTDIR, Errno::NotDir),
        (H::NOTEMPTY, Errno::NotEmpty),
        (H::NOTRECOVERABLE, Errno::NotRecoverable),
        (H::NOTSOCK, Errno::NotSock),
        (H::NOTSUP, Errno::NotSup),
        (H::OPNOTSUPP, Errno::NotSup),
        (H::NOTTY, Errno::NoTty),
        (H::NXIO, Errno::Nxio),
        (H::OVERFLOW, Errno::Overflow),
        (H::OWNERDEAD, Errno::OwnerDead),
        (H::PERM, Errno::Perm),
        (H::PIPE, Errno::Pipe),
        (H::PROTO, Errno::Proto),
        (H::PROTONOSUPPORT, Errno::ProtoNoSupport),
        (H::PROTOTYPE, Errno::ProtoType),
        (H::RANGE, Errno::Range),
        (H::ROFS, Errno::Rofs),
        (H::SPIPE, Errno::Spipe),
        (H::SRCH, Errno::Srch),
        (H::STALE, Errno::Stale),
        (H::TIMEDOUT, Errno::TimedOut),
        (H::TXTBSY, Errno::TxtBsy),
        (H::XDEV, Errno::Xdev),
    ];
    TABLE.iter().find(|(host, _)| *host == e).map_or(Errno::Io, |&(_, wasi)| wasi)
}

/// The result of a WASI call: its outputs are written to guest memory, the return value
/// is an errno.
pub type WasiResult<T = ()> = Result<T, Errno>;

/// `filetype`.
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// `fdflags`.
pub mod fdflags {
    pub const APPEND: u16 = 1;
    pub const DSYNC: u16 = 2;
    pub const NONBLOCK: u16 = 4;
    pub const RSYNC: u16 = 8;
    pub const SYNC: u16 = 16;
}

/// `oflags`.
pub mod oflags {
    pub const CREAT: u16 = 1;
    pub const DIRECTORY: u16 = 2;
    pub const EXCL: u16 = 4;
    pub const TRUNC: u16 = 8;
}

/// `lookupflags`.
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// `fstflags`.
pub mod fstflags {
    pub const ATIM: u16 = 1;
    pub const ATIM_NOW: u16 = 2;
    pub const MTIM: u16 = 4;
    pub const MTIM_NOW: u16 = 8;

    /// The flags of a `*_set_times` call, checked: no unknown bits.
    pub fn check(flags: u32) -> super::WasiResult<u16> {
        match u16::try_from(flags) {
            Ok(f) if f & !(ATIM | ATIM_NOW | MTIM | MTIM_NOW) == 0 => Ok(f),
            _ => Err(super::Errno::Inval),
        }
    }
}

/// `rights`.
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// Rights that make sense on a regular file.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// Rights that make sense on a directory.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_DATASYNC
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;
    /// Rights of the standard streams and connected sockets.
    pub const STREAM: u64 = FD_READ | FD_WRITE | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
    /// Rights of a listening socket.
    pub const LISTENER: u64 = SOCK_ACCEPT | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
    /// Rights of a connected socket.
    pub const SOCKET: u64 = STREAM | SOCK_SHUTDOWN;
}

/// `clockid`.
pub mod clockid {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// Guest linear memory, with every access bounds-checked (`EFAULT` outside it).
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    /// Wraps the bytes of a linear memory.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        GuestMemory { bytes }
    }

    fn range(&self, ptr: u32, len: u32) -> WasiResult<std::ops::Range<usize>> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
        if end > self.bytes.len() {
            return Err(Errno::Fault);
        }
        Ok(start..end)
    }

    /// `len` bytes at `ptr`.
    pub fn slice(&self, ptr: u32, len: u32) -> WasiResult<&[u8]> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    /// `len` bytes at `ptr`, writable.
    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> WasiResult<&mut [u8]> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    fn array<const N: usize>(&self, ptr: u32) -> WasiResult<[u8; N]> {
        let mut out = [0; N];
        out.copy_from_slice(self.slice(ptr, N as u32)?);
        Ok(out)
    }

    pub fn read_u8(&self, ptr: u32) -> WasiResult<u8> {
        Ok(self.array::<1>(ptr)?[0])
    }
    pub fn read_u16(&self, ptr: u32) -> WasiResult<u16> {
        Ok(u16::from_le_bytes(self.array(ptr)?))
    }
    pub fn read_u32(&self, ptr: u32) -> WasiResult<u32> {
        Ok(u32::from_le_bytes(self.array(ptr)?))
    }
    pub fn read_u64(&self, ptr: u32) -> WasiResult<u64> {
        Ok(u64::from_le_bytes(self.array(ptr)?))
    }

    /// Copies `data` to `ptr`.
    pub fn write(&mut self, ptr: u32, data: &[u8]) -> WasiResult {
        let len = u32::try_from(data.len()).map_err(|_| Errno::Fault)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }
    pub fn write_u8(&mut self, ptr: u32, v: u8) -> WasiResult {
        self.write(ptr, &[v])
    }
    pub fn write_u16(&mut self, ptr: u32, v: u16) -> WasiResult {
        self.write(ptr, &v.to_le_bytes())
    }
    pub fn write_u32(&mut self, ptr: u32, v: u32) -> WasiResult {
        self.write(ptr, &v.to_le_bytes())
    }
    pub fn write_u64(&mut self, ptr: u32, v: u64) -> WasiResult {
        self.write(ptr, &v.to_le_bytes())
    }

    /// A path or other string argument: UTF-8 (`EILSEQ` otherwise), no NUL (`EINVAL`).
    pub fn read_str(&self, ptr: u32, len: u32) -> WasiResult<String> {
        let bytes = self.slice(ptr, len)?;
        let s = std::str::from_utf8(bytes).map_err(|_| Errno::Ilseq)?;
        if s.contains('\0') {
            return Err(Errno::Inval);
        }
        Ok(s.to_string())
    }

    /// The `(buf, buf_len)` pairs of an `iovec`/`ciovec` array, each checked to lie in memory.
    pub fn iovecs(&self, ptr: u32, count: u32) -> WasiResult<Vec<(u32, u32)>> {
        let mut out = Vec::with_capacity(count.min(1024) as usize);
        for i in 0..count {
            let at = i.checked_mul(8).and_then(|o| ptr.checked_add(o)).ok_or(Errno::Fault)?;
            let (buf, len) = (self.read_u32(at)?, self.read_u32(at + 4)?);
            self.range(buf, len)?;
            out.push((buf, len));
        }
        Ok(out)
    }
}

/// A `filestat` (64 bytes).
#[derive(Debug, Default, Clone, Copy)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl Filestat {
    /// Writes the preview1 layout at `ptr`.
    pub fn write(&self, mem: &mut GuestMemory<'_>, ptr: u32) -> WasiResult {
        let mut b = [0u8; 64];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        mem.write(ptr, &b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_values_are_the_specifications() {
        assert_eq!(Errno::Success as u16, 0);
        assert_eq!(Errno::Badf as u16, 8);
        assert_eq!(Errno::Inval as u16, 28);
        assert_eq!(Errno::NoEnt as u16, 44);
        assert_eq!(Errno::NotCapable as u16, 76);
        assert_eq!(Errno::NoEnt.name(), "NoEnt");
    }

    #[test]
    fn host_errors_translate() {
        assert_eq!(Errno::from(io::Error::from_raw_os_error(2)), Errno::NoEnt);
        assert_eq!(Errno::from(io::Error::from_raw_os_error(17)), Errno::Exist);
        assert_eq!(Errno::from(io::Error::new(io::ErrorKind::PermissionDenied, "escape")), Errno::Perm);
    }

    #[test]
    fn memory_access_is_bounds_checked() {
        let mut bytes = vec![0u8; 16];
        let mut mem = GuestMemory::new(&mut bytes);
        mem.write_u32(12, 0xdead_beef).unwrap();
        assert_eq!(mem.read_u32(12).unwrap(), 0xdead_beef);
        assert_eq!(mem.read_u32(13), Err(Errno::Fault));
        assert_eq!(mem.slice(u32::MAX, 2).map(|_| ()), Err(Errno::Fault));
        assert_eq!(mem.iovecs(8, 2), Err(Errno::Fault));
    }
}
