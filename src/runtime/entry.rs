//! The entry trampoline, the host-function stub and the trap exit: a small block of machine
//! code generated once per process.
