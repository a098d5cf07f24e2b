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
    traps: Box<[(u32, TrapSite)]>,
}

impl CodeMemory {
    /// Copies `code` into a new executable mapping and registers it. `funcs` and `traps`
    /// describe the code (offsets into it); both are sorted here.
    pub(crate) fn new(
        code: &[u8],
        mut funcs: Vec<FuncRange>,
        mut traps: Vec<(u32, TrapSite)>,
    ) -> std::io::Result<Arc<CodeMemory>> {
        let mut map = memmap2::MmapMut::map_anon(code.len().max(1))?;
        map[..code.len()].copy_from_slice(code);
        let map = map.make_exec()?;
        funcs.sort_by_key(|f| f.start);
        traps.sort_by_key(|t| t.0);
        let memory = Arc::new(CodeMemory { map, funcs: funcs.into(), traps: traps.into() });
        let start = memory.map.as_ptr() as usize;
        let ptr = Arc::as_ptr(&memory);
        registry_write().insert(start, Registered { end: start + memory.map.len(), code: ptr });
        Ok(memory)
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
        let i = self.traps.binary_search_by_key(&offset, |t| t.0).ok()?;
        Some(self.traps[i].1)
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
