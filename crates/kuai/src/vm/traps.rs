//! How traps leave compiled code: signals, the per-thread activation record, and the
//! entry/resume pair (x86_64 Linux).
//!
//! Host code enters compiled code through [`catch_traps`], which records an
//! [`Activation`] for the thread and calls `kuai_enter`: a small assembly routine that
//! saves the host's callee-saved registers on its own stack, stores the stack pointer in
//! the activation, and calls the compiled entry trampoline. Compiled code traps with an
//! instruction that faults — `ud2` for Cranelift's trap instructions (SIGILL), a guard-page
//! access (SIGSEGV), a hardware divide error (SIGFPE). The signal handler looks the faulting
//! PC up in the code registry (`vm::code`); if it is a trap site, it records the site and
//! the wasm frames' return addresses in the activation and edits the signal context so
//! that returning from the handler continues in `kuai_resume` on the saved stack pointer:
//! `kuai_resume` pops the saved registers and makes `kuai_enter` return 1. The kernel's
//! signal return restores the signal mask and leaves the alternate signal stack. A fault
//! anywhere else goes to the handler that was installed before ours.
//!
//! Host functions and libcalls called from compiled code never unwind through it: they
//! return a status, and the compiled caller executes a trap instruction whose site is
//! [`TrapSite::Host`] (the error waits in the embedder's hands).
//!
//! The handler takes no blocking lock and does not allocate, so it runs on a small
//! alternate signal stack set up for each thread on its first entry.

use crate::trap::Trap;
use std::cell::Cell;

/// What a trap site in compiled code means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrapSite {
    /// A WebAssembly trap.
    Wasm(Trap),
    /// A host function or libcall failed; the caller of [`catch_traps`] holds the reason.
    Host,
}

/// The most wasm frames a trap records for its backtrace.
pub(crate) const MAX_FRAMES: usize = 64;

/// One entry from the host into compiled code on this thread.
pub(crate) struct Activation {
    /// The stack pointer `kuai_enter` saved, where `kuai_resume` continues.
    saved_sp: usize,
    /// The enclosing activation (host → wasm → host → wasm), or null.
    prev: *const Activation,
    /// Set by the signal handler: the site and the PC that trapped.
    trap: Option<(TrapSite, usize)>,
    /// Return addresses of the wasm frames at the trap, innermost first.
    frames: [usize; MAX_FRAMES],
    nframes: usize,
}

thread_local! {
    /// The innermost activation of this thread (null outside compiled code).
    static CURRENT: Cell<*mut Activation> = const { Cell::new(std::ptr::null_mut()) };
}

/// A trap caught by [`catch_traps`].
#[derive(Debug, Clone)]
pub(crate) struct CaughtTrap {
    pub site: TrapSite,
    /// The trapping PC, then the return addresses of the wasm frames below it.
    pub frames: Vec<usize>,
}

/// The arguments of one call of a compiled entry trampoline:
/// `trampoline(callee_vmctx, caller_vmctx, code, values)`.
#[repr(C)]
pub(crate) struct EntryCall {
    pub trampoline: usize,
    pub callee_vmctx: usize,
    pub caller_vmctx: usize,
    pub code: usize,
    pub values: *mut u128,
}

/// The signature of compiled entry trampolines.
type EntryTrampoline = unsafe extern "sysv64" fn(usize, usize, usize, *mut u128);

/// Calls the compiled entry trampoline described by `call`, catching traps.
///
/// # Safety
///
/// `call.trampoline` must be a compiled entry trampoline, and `code`, the vmctx pointers
/// and `values` what it expects for its function type (the callee's code and contexts,
/// an array holding the arguments with room for the results); everything they point to
/// must stay valid, and not be accessed through Rust references, during the call.
pub(crate) unsafe fn catch_traps(call: &EntryCall) -> Result<(), CaughtTrap> {
    init_thread();
    let mut activation =
        Activation { saved_sp: 0, prev: CURRENT.get(), trap: None, frames: [0; MAX_FRAMES], nframes: 0 };
    let act: *mut Activation = &raw mut activation;
    CURRENT.set(act);
    let data = (call as *const EntryCall).cast_mut().cast();
    // SAFETY: `kuai_enter` saves the stack pointer in the live activation and calls the
    // trampoline through `enter_shim` (the caller's contract); a trap resumes in
    // `kuai_resume`, skipping only `enter_shim`'s frame (it owns nothing) and wasm frames.
    let trapped = unsafe { kuai_enter(&raw mut (*act).saved_sp, enter_shim, data) };
    CURRENT.set(activation.prev.cast_mut());
    match (trapped, activation.trap) {
        (0, _) => Ok(()),
        (_, Some((site, _))) => Err(CaughtTrap { site, frames: activation.frames[..activation.nframes].to_vec() }),
        // Resumed without a recorded trap cannot happen; report it as a host failure
        // rather than pretend success.
        (_, None) => Err(CaughtTrap { site: TrapSite::Host, frames: Vec::new() }),
    }
}

/// Calls the trampoline `data` (an [`EntryCall`]) describes. Owns nothing, so that a trap
/// may skip its frame.
unsafe extern "sysv64" fn enter_shim(data: *mut u8) {
    // SAFETY: `catch_traps` passes a pointer to a live `EntryCall`.
    let call = unsafe { &*(data as *const EntryCall) };
    // SAFETY: `call.trampoline` is a compiled entry trampoline (the contract of
    // `catch_traps`), which has exactly this signature.
    let trampoline: EntryTrampoline = unsafe { std::mem::transmute::<usize, EntryTrampoline>(call.trampoline) };
    // SAFETY: the arguments are what the trampoline expects (`catch_traps`' contract).
    unsafe { trampoline(call.callee_vmctx, call.caller_vmctx, call.code, call.values) };
}

/// The current stack pointer, approximately (the address of a local): what the stack
/// limit of compiled code is measured from.
#[inline(never)]
pub(crate) fn stack_pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

// ---- entry and resume --------------------------------------------------------------------

// kuai_enter(saved_sp: *mut usize, f: extern fn(*mut u8), data: *mut u8) -> u32
//
// Saves rbp, rbx, r12–r15 (the SysV callee-saved registers) on the stack, pads to keep the
// stack 16-byte aligned at the call, stores rsp in *saved_sp and calls f(data); returns 0.
// kuai_resume is entered (from the signal handler) with rsp = *saved_sp: it undoes the same
// frame (kuai_enter's epilogue, label 2) and returns 1 from kuai_enter.
unsafe extern "sysv64" {
    #[link_name = "kuai_enter"]
    fn kuai_enter(saved_sp: *mut usize, f: unsafe extern "sysv64" fn(*mut u8), data: *mut u8) -> u32;
    #[link_name = "kuai_resume"]
    fn kuai_resume();
}

std::arch::global_asm!(
    ".pushsection .text.kuai_enter,\"ax\",@progbits",
    ".globl kuai_enter",
    ".hidden kuai_enter",
    ".type kuai_enter,@function",
    ".p2align 4",
    "kuai_enter:",
    "push rbp",
    "mov rbp, rsp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov [rdi], rsp",
    "mov rdi, rdx",
    "call rsi",
    "xor eax, eax",
    "2:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size kuai_enter, .-kuai_enter",
    ".globl kuai_resume",
    ".hidden kuai_resume",
    ".type kuai_resume,@function",
    ".p2align 4",
    "kuai_resume:",
    "mov eax, 1",
    "jmp 2b",
    ".size kuai_resume, .-kuai_resume",
    ".popsection",
);

// ---- the signal handler -------------------------------------------------------------------

/// The signals compiled code traps with.
const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGILL, libc::SIGFPE, libc::SIGBUS];

/// The handlers that were installed before ours, by `SIGNALS` index (written once, before
/// ours is installed; read-only afterwards).
static PREVIOUS: std::sync::OnceLock<[libc::sigaction; 4]> = std::sync::OnceLock::new();

/// Installs the trap handler for the process (once).
pub(crate) fn init() {
    PREVIOUS.get_or_init(|| {
        // SAFETY: `sigaction` structs are plain data; all-zero is a valid (empty) value.
        let mut previous: [libc::sigaction; 4] = unsafe { std::mem::zeroed() };
        for (i, &signal) in SIGNALS.iter().enumerate() {
            // SAFETY: as above.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            // SAFETY: `sa_mask` is a valid `sigset_t` to initialise; `action` is a fully
            // initialised handler description whose function has the SA_SIGINFO
            // signature, and `previous[i]` is writable.
            unsafe {
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(signal, &action, &mut previous[i]) != 0 {
                    panic!("cannot install the trap handler: {}", std::io::Error::last_os_error());
                }
            }
        }
        previous
    });
}

/// The trap handler (see the module docs).
extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let act = CURRENT.get();
    if !act.is_null() && try_resume(act, context.cast()) {
        return;
    }
    forward(signal, info, context);
}

/// If the fault in `context` is at a trap site in wasm code, records it in `act` and
/// redirects `context` to `kuai_resume`.
fn try_resume(act: *mut Activation, context: *mut libc::ucontext_t) -> bool {
    // SAFETY: the kernel passes the interrupted thread's context, valid during the
    // handler; `act` is this thread's innermost activation, a live local of `catch_traps`
    // suspended in compiled code (nothing else accesses it until the handler returns).
    unsafe {
        let gregs = &mut (*context).uc_mcontext.gregs;
        let (pc, fp) = (gregs[libc::REG_RIP as usize] as usize, gregs[libc::REG_RBP as usize] as usize);
        let Some((site, n)) = super::code::lookup_trap(pc, fp, &mut (*act).frames) else { return false };
        (*act).trap = Some((site, pc));
        (*act).nframes = n;
        gregs[libc::REG_RIP as usize] = kuai_resume as *const () as usize as i64;
        gregs[libc::REG_RSP as usize] = (*act).saved_sp as i64;
    }
    true
}

/// Hands a fault that is not ours to the handler installed before ours: its SA_SIGINFO
/// function, its plain function, or — for the default or ignore dispositions — reinstalls
/// that disposition, so that the faulting instruction runs again and has its usual effect.
fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let Some(previous) = PREVIOUS.get() else { return };
    let Some(i) = SIGNALS.iter().position(|&s| s == signal) else { return };
    let prev = &previous[i];
    // SAFETY: `prev` is what `sigaction` reported for this signal: a disposition
    // constant, or a handler of the signature its flags say; calling it with the
    // arguments we received is what the kernel would have done.
    unsafe {
        if prev.sa_sigaction == libc::SIG_DFL || prev.sa_sigaction == libc::SIG_IGN {
            libc::sigaction(signal, prev, std::ptr::null_mut());
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(prev.sa_sigaction);
            f(signal, info, context);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev.sa_sigaction);
            f(signal);
        }
    }
}

// ---- the alternate signal stack -----------------------------------------------------------

/// Size of the alternate signal stacks Kuai sets up (plus a guard page below).
const ALT_STACK_SIZE: usize = 64 * 1024;

/// This thread's alternate signal stack, if Kuai made it; disabled and unmapped when the
/// thread exits.
struct AltStack {
    base: *mut libc::c_void,
    len: usize,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: disabling the alternate stack of this (exiting) thread, which is not on
        // it, then unmapping the mapping `init_thread` made for it.
        unsafe {
            let disable = libc::stack_t { ss_sp: std::ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
            libc::sigaltstack(&disable, std::ptr::null_mut());
            libc::munmap(self.base, self.len);
        }
    }
}

thread_local! {
    static ALT_STACK: std::cell::RefCell<Option<AltStack>> = const { std::cell::RefCell::new(None) };
}

/// Makes sure this thread has an alternate signal stack big enough for the handler.
fn init_thread() {
    ALT_STACK.with_borrow_mut(|alt| {
        if alt.is_some() {
            return;
        }
        // SAFETY: querying the current alternate stack into a local.
        let mut current: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::sigaltstack(std::ptr::null(), &mut current) } == 0
            && current.ss_flags & libc::SS_DISABLE == 0
            && current.ss_size >= ALT_STACK_SIZE
        {
            return;
        }
        let page = super::memory::host_page_size();
        let len = ALT_STACK_SIZE + page;
        // SAFETY: a fresh private anonymous mapping (no aliasing); its lowest page stays
        // inaccessible as a guard, the rest becomes the alternate stack of this thread,
        // used only by the kernel for signal delivery.
        unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if base == libc::MAP_FAILED {
                return;
            }
            libc::mprotect(base, page, libc::PROT_NONE);
            let stack =
                libc::stack_t { ss_sp: base.cast::<u8>().add(page).cast(), ss_flags: 0, ss_size: ALT_STACK_SIZE };
            if libc::sigaltstack(&stack, std::ptr::null_mut()) != 0 {
                libc::munmap(base, len);
                return;
            }
            *alt = Some(AltStack { base, len });
        }
    });
}
