//! End-to-end tests of the compiler: modules written in WAT are compiled and run through the
//! entry trampoline inside a minimal, hand-built instance (no store/runtime involved).

// Boxes keep the addresses generated code holds stable; tables of reference closures read best inline.
#![allow(clippy::vec_box, clippy::type_complexity)]

#[path = "compiler/harness.rs"]
mod harness;

#[path = "compiler/calls.rs"]
mod calls;
#[path = "compiler/far_branches.rs"]
mod far_branches;
#[path = "compiler/control.rs"]
mod control;
#[path = "compiler/misc.rs"]
mod misc;
#[path = "compiler/numeric.rs"]
mod numeric;
#[path = "compiler/random.rs"]
mod random;
#[path = "compiler/record.rs"]
mod record;
#[path = "compiler/simd.rs"]
mod simd;
#[path = "compiler/spec.rs"]
mod spec;
