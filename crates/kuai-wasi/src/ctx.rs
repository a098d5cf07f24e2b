//! The WASI state of one guest: arguments, environment, and the descriptor table with its
//! standard streams, preopened directories and listening sockets.
//!
//! Capabilities are the only authority: a guest names files relative to a directory
//! descriptor, and every directory is a `cap_std::fs::Dir`, which resolves paths beneath
//! itself (no `..`, absolute path or symlink leads out). The host's environment variables
//! reach the guest only when the embedder passes them.

use crate::abi::{Errno, WasiResult, rights};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

/// Where a guest's standard input comes from.
pub(crate) enum Input {
    /// The host process's standard input.
    Inherit,
    /// A reader supplied by the embedder.
    Reader(Box<dyn Read + Send>),
}

/// Where a guest's standard output or error goes.
pub(crate) enum Output {
    /// The host process's stream (1 or 2).
    Inherit(u8),
    /// A writer supplied by the embedder.
    Writer(Box<dyn Write + Send>),
}

/// A cached listing of a directory for `fd_readdir`: `.`, `..`, then the entries.
pub(crate) struct Listing {
    pub entries: Vec<DirEntry>,
}

/// One entry of a [`Listing`].
pub(crate) struct DirEntry {
    pub name: Vec<u8>,
    pub ino: u64,
    pub filetype: u8,
}

/// What a descriptor refers to.
pub(crate) enum Kind {
    Stdin(Input),
    Stdout(Output),
    File { file: std::fs::File, readable: bool, writable: bool },
    Dir { dir: cap_std::fs::Dir, preopen: Option<String>, listing: Option<Listing> },
    Listener(TcpListener),
    Stream(TcpStream),
}

/// An open descriptor.
pub(crate) struct Descriptor {
    pub kind: Kind,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    /// `fdflags` Kuai tracks itself (`NONBLOCK` on sockets); a file's `APPEND` lives in the
    /// host descriptor.
    pub flags: u16,
}

impl Descriptor {
    pub(crate) fn new(kind: Kind, rights_base: u64, rights_inheriting: u64) -> Descriptor {
        Descriptor { kind, rights_base, rights_inheriting, flags: 0 }
    }
}

/// The WASI state of a guest. Build one with [`WasiCtxBuilder`], keep it in the store's
/// data, and give [`crate::add_to_linker`] a way to reach it.
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: BTreeMap<u32, Descriptor>,
    pub(crate) trace: bool,
}

impl std::fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiCtx").field("args", &self.args.len()).field("fds", &self.fds.len()).finish()
    }
}

impl WasiCtx {
    /// A builder for a context with no arguments, no environment, no preopens, and empty
    /// standard streams (use [`WasiCtxBuilder::inherit_stdio`] for the process's).
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }

    pub(crate) fn get(&mut self, fd: u32) -> WasiResult<&mut Descriptor> {
        self.fds.get_mut(&fd).ok_or(Errno::Badf)
    }

    /// Inserts a descriptor at the lowest free number.
    pub(crate) fn insert(&mut self, d: Descriptor) -> WasiResult<u32> {
        let mut fd = 0u32;
        for &used in self.fds.keys() {
            if used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(Errno::Mfile)?;
        }
        self.fds.insert(fd, d);
        Ok(fd)
    }
}

/// Configures a [`WasiCtx`].
pub struct WasiCtxBuilder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdin: Input,
    stdout: Output,
    stderr: Output,
    preopens: Vec<(cap_std::fs::Dir, String)>,
    listeners: Vec<TcpListener>,
    trace: bool,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        WasiCtxBuilder::new()
    }
}

impl WasiCtxBuilder {
    /// Nothing passed to the guest; standard streams empty (input) and discarded (output).
    pub fn new() -> Self {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            stdin: Input::Reader(Box::new(std::io::empty())),
            stdout: Output::Writer(Box::new(std::io::sink())),
            stderr: Output::Writer(Box::new(std::io::sink())),
            preopens: Vec::new(),
            listeners: Vec::new(),
            trace: false,
        }
    }

    /// Print every call, its arguments and its errno on the host's stderr (debugging).
    pub fn trace(&mut self, on: bool) -> &mut Self {
        self.trace = on;
        self
    }

    /// Appends a program argument (the first is the program's name, `argv[0]`).
    pub fn arg(&mut self, arg: impl AsRef<[u8]>) -> &mut Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// Appends program arguments.
    pub fn args<A: AsRef<[u8]>>(&mut self, args: impl IntoIterator<Item = A>) -> &mut Self {
        for a in args {
            self.arg(a);
        }
        self
    }

    /// Sets an environment variable of the guest.
    pub fn env(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let mut entry = name.as_ref().to_vec();
        entry.push(b'=');
        entry.extend_from_slice(value.as_ref());
        self.env.push(entry);
        self
    }

    /// The guest's standard streams are the host process's.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.stdin = Input::Inherit;
        self.stdout = Output::Inherit(1);
        self.stderr = Output::Inherit(2);
        self
    }

    /// The guest reads its standard input from `reader`.
    pub fn stdin(&mut self, reader: impl Read + Send + 'static) -> &mut Self {
        self.stdin = Input::Reader(Box::new(reader));
        self
    }

    /// The guest's standard output goes to `writer`.
    pub fn stdout(&mut self, writer: impl Write + Send + 'static) -> &mut Self {
        self.stdout = Output::Writer(Box::new(writer));
        self
    }

    /// The guest's standard error goes to `writer`.
    pub fn stderr(&mut self, writer: impl Write + Send + 'static) -> &mut Self {
        self.stderr = Output::Writer(Box::new(writer));
        self
    }

    /// Gives the guest `dir`, which it sees under the name `guest_path`. Preopens get
    /// descriptors 3, 4, … in the order given, before any socket.
    pub fn preopened_dir(&mut self, dir: cap_std::fs::Dir, guest_path: impl Into<String>) -> &mut Self {
        self.preopens.push((dir, guest_path.into()));
        self
    }

    /// Gives the guest a listening socket (after the directories), on which it may call
    /// `sock_accept`.
    pub fn preopened_listener(&mut self, listener: TcpListener) -> &mut Self {
        self.listeners.push(listener);
        self
    }

    /// The context; the builder is left empty.
    pub fn build(&mut self) -> WasiCtx {
        let this = std::mem::take(self);
        let mut fds = BTreeMap::new();
        fds.insert(0, Descriptor::new(Kind::Stdin(this.stdin), rights::STREAM, 0));
        fds.insert(1, Descriptor::new(Kind::Stdout(this.stdout), rights::STREAM, 0));
        fds.insert(2, Descriptor::new(Kind::Stdout(this.stderr), rights::STREAM, 0));
        let mut next = 3;
        for (dir, name) in this.preopens {
            let kind = Kind::Dir { dir, preopen: Some(name), listing: None };
            fds.insert(next, Descriptor::new(kind, rights::DIRECTORY, rights::DIRECTORY | rights::FILE));
            next += 1;
        }
        for listener in this.listeners {
            fds.insert(next, Descriptor::new(Kind::Listener(listener), rights::LISTENER, rights::SOCKET));
            next += 1;
        }
        WasiCtx { args: this.args, env: this.env, fds, trace: this.trace }
    }
}
