//! Code memory: compiled machine code in executable mappings, and the process-wide
//! registry of where wasm code lies, which the trap handler (`vm::traps`) consults to tell
//! a trap in wasm code from a fault anywhere else, and which wasm function a return
//! address belongs to.

use super::traps::TrapSite;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// A function's place in a [`CodeMemory`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct FuncRange {
    /// Offset of its first byte.
    pub start: u32,
    /// Offset just past its last byte.
    pub end: u32,
    /// Its index in the module's function index space (for backtraces).
    pub func_index: u32,
    /// Whether it is a wasm function (else a trampoline: not a backtrace frame).
    pub wasm: bool,
}

/// Machine code in a read-execute mapping, registered with the trap handler while it
/// lives.
#[derive(Debug)]
pub(crate) struct CodeMemory {
    map: memmap2::Mmap,
    /// Functions by ascending `start`.
    funcs: Box<[FuncRange]>,
    /// Trap sites by ascending code offset.
    traps: TrapTable,
}

/// A [`CodeMemory`]'s trap sites, by ascending code offset.
pub(crate) enum TrapTable {
    /// Decoded.
    Owned(Box<[(u32, TrapSite)]>),
    /// Still in a file (an AOT artifact; a big module has a million sites, and decoding them
    /// all was a fifth of loading one): `count` records of five bytes at `at` in `map` — the
    /// offset (`u32`, little-endian) and a code that `decode` turns into the site.
    InFile { map: Arc<memmap2::Mmap>, at: usize, count: usize, decode: fn(u8) -> Option<TrapSite> },
}

impl TrapTable {
    /// The site at code `offset`, if there is one.
    fn find(&self, offset: u32) -> Option<TrapSite> {
        match self {
            TrapTable::Owned(sites) => {
                let i = sites.binary_search_by_key(&offset, |t| t.0).ok()?;
                Some(sites[i].1)
            }
            TrapTable::InFile { map, at, count, decode } => {
                let records = map.get(*at..at.checked_add(count.checked_mul(5)?)?)?;
                let offset_of = |i: usize| {
                    let r = &records[i * 5..i * 5 + 4];
                    u32::from_le_bytes([r[0], r[1], r[2], r[3]])
                };
                let (mut lo, mut hi) = (0, *count);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    match offset_of(mid).cmp(&offset) {
                        std::cmp::Ordering::Less => lo = mid + 1,
                        std::cmp::Ordering::Greater => hi = mid,
                        std::cmp::Ordering::Equal => return decode(records[mid * 5 + 4]),
                    }
                }
                None
            }
        }
    }
}

impl std::fmt::Debug for TrapTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrapTable::Owned(sites) => write!(f, "{} trap sites", sites.len()),
            TrapTable::InFile { count, .. } => write!(f, "{count} trap sites in a file"),
        }
    }
}

impl CodeMemory {
    /// Copies `code` into a new executable mapping and registers it. `funcs` and `traps`
    /// describe the code (offsets into it); both are sorted here.
    pub(crate) fn new(
        code: &[u8],
        funcs: Vec<FuncRange>,
        traps: Vec<(u32, TrapSite)>,
    ) -> std::io::Result<Arc<CodeMemory>> {
        let mut map = memmap2::MmapMut::map_anon(code.len().max(1))?;
        map[..code.len()].copy_from_slice(code);
        Ok(Self::register(map.make_exec()?, funcs, Self::sorted(traps)))
    }

    fn sorted(mut traps: Vec<(u32, TrapSite)>) -> TrapTable {
        traps.sort_by_key(|t| t.0);
        TrapTable::Owned(traps.into())
    }

    /// Maps `len` bytes of `file` from `offset` (a multiple of the page size) as executable
    /// code, in place (private, read-execute: nothing is copied; pages are read from the
    /// page cache as they run), and registers it as [`CodeMemory::new`] does, with trap
    /// sites sorted by offset.
    ///
    /// # Safety
    /// The bytes are run as they are: they must be code Kuai compiled, and `file` must not
    /// change while the mapping lives (a truncated file faults on access).
    pub(crate) unsafe fn map_file(
        file: &std::fs::File,
        offset: u64,
        len: usize,
        funcs: Vec<FuncRange>,
        traps: TrapTable,
    ) -> std::io::Result<Arc<CodeMemory>> {
        // SAFETY: a private read-execute mapping of the file's bytes; that they are code
        // fit to run, unchanged while mapped, is this function's contract.
        let map = unsafe { memmap2::MmapOptions::new().offset(offset).len(len).map_exec(file) }?;
        Ok(Self::register(map, funcs, traps))
    }

    /// Sorts the tables and registers `map` with the trap handler.
    fn register(map: memmap2::Mmap, mut funcs: Vec<FuncRange>, traps: TrapTable) -> Arc<CodeMemory> {
        funcs.sort_by_key(|f| f.start);
        let memory = Arc::new(CodeMemory { map, funcs: funcs.into(), traps });
        let start = memory.map.as_ptr() as usize;
        let ptr = Arc::as_ptr(&memory);
        registry_write().insert(start, Registered { end: start + memory.map.len(), code: ptr });
        memory
    }

    /// The address of the byte at `offset`.
    pub(crate) fn addr(&self, offset: u32) -> usize {
        self.map.as_ptr() as usize + offset as usize
    }

    fn start(&self) -> usize {
        self.map.as_ptr() as usize
    }

    /// The trap site at `pc`, if `pc` is one in this code.
    fn trap_at(&self, pc: usize) -> Option<TrapSite> {
        let offset = u32::try_from(pc.checked_sub(self.start())?).ok()?;
        self.traps.find(offset)
    }

    /// The wasm function containing `pc`, if any.
    fn wasm_func_at(&self, pc: usize) -> Option<u32> {
        let offset = u32::try_from(pc.checked_sub(self.start())?).ok()?;
        let i = self.funcs.partition_point(|f| f.start <= offset).checked_sub(1)?;
        let f = self.funcs[i];
        (offset < f.end && f.wasm).then_some(f.func_index)
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // Unregistered before the mapping goes: the handler never sees a dangling entry.
        registry_write().remove(&self.start());
    }
}

/// A registry entry: the code's end and the `CodeMemory` describing it.
struct Registered {
    end: usize,
    /// Valid while registered: `CodeMemory::drop` removes the entry (under the write
    /// lock) before the `CodeMemory` is freed.
    code: *const CodeMemory,
}

// SAFETY: `code` points to a `CodeMemory` (which is `Sync`: immutable after creation) that
// outlives the entry, as documented on the field; the registry only reads through it.
unsafe impl Send for Registered {}
// SAFETY: as above.
unsafe impl Sync for Registered {}

static REGISTRY: RwLock<BTreeMap<usize, Registered>> = RwLock::new(BTreeMap::new());

thread_local! {
    /// Whether this thread holds the registry's write lock (then a fault on it is not a
    /// wasm trap, and the handler must not wait for the lock).
    static WRITING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The registry, for one insertion or removal.
fn registry_write() -> impl std::ops::DerefMut<Target = BTreeMap<usize, Registered>> {
    struct Writing(std::sync::RwLockWriteGuard<'static, BTreeMap<usize, Registered>>);
    impl std::ops::Deref for Writing {
        type Target = BTreeMap<usize, Registered>;
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }
    impl std::ops::DerefMut for Writing {
        fn deref_mut(&mut self) -> &mut Self::Target {
            &mut self.0
        }
    }
    impl Drop for Writing {
        fn drop(&mut self) {
            WRITING.set(false);
        }
    }
    WRITING.set(true);
    // A panic while holding the lock cannot leave the map half-updated (`insert` and
    // `remove` are the only writes), so a poisoned lock is still usable.
    Writing(REGISTRY.write().unwrap_or_else(|e| e.into_inner()))
}

/// What the trap handler learns about a fault at `pc` with frame pointer `fp`: the trap
/// site, and the return addresses of the wasm frames below it (written to `frames`,
/// innermost first, starting with the faulting function; the count is returned).
/// `None` if `pc` is not a trap site in wasm code.
///
/// Called from the signal handler: it does not allocate, and takes the registry's read
/// lock — waiting, if another thread is registering code, which takes microseconds — unless
/// this thread holds the write lock (then the fault is a host fault, not a wasm trap).
pub(crate) fn lookup_trap(pc: usize, fp: usize, frames: &mut [usize]) -> Option<(TrapSite, usize)> {
    if WRITING.get() {
        return None;
    }
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let code_at = |pc: usize| {
        let (_, entry) = registry.range(..=pc).next_back()?;
        // SAFETY: registered entries point to live `CodeMemory`s (see `Registered::code`),
        // and the read guard keeps the entry registered.
        (pc < entry.end).then(|| unsafe { &*entry.code })
    };
    let site = code_at(pc)?.trap_at(pc)?;
    let mut n = 0;
    if let Some(slot) = frames.first_mut() {
        *slot = pc;
        n = 1;
    }
    // Walk the frame-pointer chain (compiled code keeps frame pointers): each frame's
    // return address is one word above its saved frame pointer. Trampolines and lazy
    // stubs are walked through but not recorded; stop at the first return address outside
    // compiled code (the entry trampoline's caller).
    let mut fp = fp;
    while n < frames.len() && fp != 0 && fp.is_multiple_of(8) {
        // SAFETY: `fp` is the frame pointer of a frame of registered compiled code (wasm,
        // stub or trampoline: all keep frame pointers), live on this thread's stack while
        // the handler runs; both words of a frame record are readable.
        let (next_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        let Some(code) = code_at(ret) else { break };
        if code.wasm_func_at(ret).is_some() {
            frames[n] = ret;
            n += 1;
        }
        if next_fp <= fp {
            break;
        }
        fp = next_fp;
    }
    Some((site, n))
}

/// The code memory (by its start address) and wasm function (module function index)
/// containing `pc`, after the fact (not async-signal-safe: for turning recorded return
/// addresses into a backtrace).
pub(crate) fn wasm_func_at(pc: usize) -> Option<(usize, u32)> {
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (&start, entry) = registry.range(..=pc).next_back()?;
    // SAFETY: as in `lookup_trap`.
    let code = (pc < entry.end).then(|| unsafe { &*entry.code })?;
    Some((start, code.wasm_func_at(pc)?))
}

impl CodeMemory {
    /// The address of the first byte (what [`wasm_func_at`] names the code by).
    pub(crate) fn base(&self) -> usize {
        self.start()
    }
}
