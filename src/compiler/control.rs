//! Control frames of the function being compiled.
//!
//! Convention: at every edge into a label, the values the label expects are in canonical
//! places: a single block result in the masm's `block_result_reg` of its class; several
//! results, and loop parameters, in the frame slots of their value-stack depths
//! `height + i`. Everything below `height` was spilled (or is a constant) when the frame was
//! entered, so the compile-time state below `height` is identical on every path through the
//! frame. A block whose end is only reached by falling through keeps its results wherever
//! they are.

use crate::compiler::masm::Label;
use crate::types::ValType;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// The function body: branching to it returns.
    Function,
    Block,
    Loop,
    /// `else_label` is where the false branch starts; `has_else` once `else` was seen.
    If {
        else_label: Label,
        has_else: bool,
    },
}

#[derive(Clone, Debug)]
pub struct ControlFrame {
    pub kind: FrameKind,
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    /// Value-stack height below the frame's parameters.
    pub height: usize,
    /// Branch target: the loop header for loops, the end for everything else.
    pub label: Label,
    /// Whether a branch targets the end label: the fall-through path must then also put
    /// the results into their canonical slots.
    pub end_used: bool,
    /// Whether the code right after `if` (the false branch) is reachable.
    pub reachable_at_entry: bool,
    /// Whether a branch to this frame returns from the function: the function's own frame,
    /// and a block or `if` of stack height 0 whose `end` is followed only by `end`s (its
    /// results are then the function's, by validation).
    pub returns: bool,
}

impl ControlFrame {
    /// Types a branch to this frame carries.
    pub fn branch_types(&self) -> &[ValType] {
        match self.kind {
            FrameKind::Loop => &self.params,
            _ => &self.results,
        }
    }

    /// Whether the results must be in canonical slots at `end`.
    pub fn results_canonical_at_end(&self) -> bool {
        self.end_used || matches!(self.kind, FrameKind::If { .. })
    }
}
