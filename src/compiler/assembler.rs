//! The assembler both backends emit into: dynasm's label and relocation registries over a
//! [`CodeWriter`], so that code is written straight into the pages it will run from (no
//! `Vec` to grow and copy; see [`crate::runtime::code`]).
//!
//! Labels are dynasm's dynamic labels (plus its local and global ones, which the `dynasm!`
//! macro may use); branches to labels not yet bound are patched at the end of each function
//! ([`Assembler::resolve_labels`]).

use dynasmrt::components::{LabelRegistry, PatchLoc, RelocRegistry, StaticLabel};
use dynasmrt::relocations::Relocation;
use dynasmrt::{AssemblyOffset, DynamicLabel, DynasmApi, DynasmError, DynasmLabelApi, LabelKind, TargetKind};

use crate::runtime::code::CodeWriter;

/// An assembler writing into a [`CodeWriter`], generic over the ISA's relocation kinds.
pub struct Assembler<R: Relocation> {
    code: CodeWriter,
    labels: LabelRegistry,
    relocs: RelocRegistry<R>,
    /// The first label error (reported by [`Assembler::finish`]: `dynasm!` cannot fail).
    error: Option<DynasmError>,
}

impl<R: Relocation> Default for Assembler<R> {
    fn default() -> Self {
        Assembler { code: CodeWriter::new(), labels: LabelRegistry::new(), relocs: RelocRegistry::new(), error: None }
    }
}

impl<R: Relocation> Assembler<R> {
    /// An empty assembler (no memory mapped until code is written or reserved).
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes room for `bytes` more bytes of code at once.
    pub fn reserve(&mut self, bytes: usize) {
        self.code.reserve(bytes);
    }

    /// A fresh label, bound later with `=>label` in `dynasm!` or [`DynasmLabelApi::dynamic_label`].
    pub fn new_dynamic_label(&mut self) -> DynamicLabel {
        self.labels.new_dynamic_label()
    }

    /// The labels defined so far (a backend choosing a short branch to a bound label).
    pub fn labels(&self) -> &LabelRegistry {
        &self.labels
    }

    /// Overwrites already emitted bytes at `offset` (e.g. a frame size known only at the end
    /// of a function).
    pub fn patch(&mut self, offset: usize, bytes: &[u8]) {
        let code = self.code.bytes_mut();
        match code.get_mut(offset..offset + bytes.len()) {
            Some(at) => at.copy_from_slice(bytes),
            // Only when a write was dropped for want of memory, which `finish` reports.
            None => assert!(self.code.error().is_some(), "patch past the end of the code"),
        }
    }

    /// Resolves every branch to its label: the finished code (which still carries a
    /// failure to get memory, see [`CodeWriter::error`]).
    pub fn finish(mut self) -> Result<CodeWriter, DynasmError> {
        self.resolve_labels()?;
        Ok(self.code)
    }

    /// Resolves the branches emitted so far and forgets every label, so that label and
    /// relocation memory stays bounded by one function (labels never span functions).
    pub fn resolve_labels(&mut self) -> Result<(), DynasmError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let code = self.code.bytes_mut();
        for (loc, label) in self.relocs.take_statics() {
            let target = self.labels.resolve_static(&label)?;
            if loc.patch(&mut code[loc.range(0)], 0, target.0).is_err() {
                let name = label.get_name();
                let kind = if label.is_global() { TargetKind::Global(name) } else { TargetKind::Local(name) };
                return Err(DynasmError::ImpossibleRelocation(kind));
            }
        }
        for (loc, id) in self.relocs.take_dynamics() {
            let target = self.labels.resolve_dynamic(id)?;
            if loc.patch(&mut code[loc.range(0)], 0, target.0).is_err() {
                return Err(DynasmError::ImpossibleRelocation(TargetKind::Dynamic(id)));
            }
        }
        self.labels.clear();
        Ok(())
    }

    /// [`Assembler::finish`] as a `Vec` (tests and disassembly).
    pub fn finalize(self) -> Result<Vec<u8>, DynasmError> {
        self.finish().map(|code| code.bytes().to_vec())
    }

    fn relocation(&mut self, label: StaticLabel, target_offset: isize, field_offset: u8, ref_offset: u8, kind: R) {
        let loc = PatchLoc::new(self.offset(), target_offset, field_offset, ref_offset, kind);
        self.relocs.add_static(label, loc);
    }
}

impl<R: Relocation> Extend<u8> for Assembler<R> {
    fn extend<T: IntoIterator<Item = u8>>(&mut self, iter: T) {
        iter.into_iter().for_each(|b| self.code.push(b));
    }
}

impl<'a, R: Relocation> Extend<&'a u8> for Assembler<R> {
    fn extend<T: IntoIterator<Item = &'a u8>>(&mut self, iter: T) {
        iter.into_iter().for_each(|&b| self.code.push(b));
    }
}

impl<R: Relocation> DynasmApi for Assembler<R> {
    fn offset(&self) -> AssemblyOffset {
        AssemblyOffset(self.code.len())
    }

    #[inline]
    fn push(&mut self, byte: u8) {
        self.code.push(byte);
    }

    #[inline]
    fn push_u32(&mut self, value: u32) {
        self.code.extend_from_slice(&value.to_le_bytes());
    }

    #[inline]
    fn push_i32(&mut self, value: i32) {
        self.code.extend_from_slice(&value.to_le_bytes());
    }

    fn align(&mut self, alignment: usize, with: u8) {
        while !self.code.len().is_multiple_of(alignment) {
            self.code.push(with);
        }
    }
}

impl<R: Relocation> DynasmLabelApi for Assembler<R> {
    type Relocation = R;

    fn local_label(&mut self, name: &'static str) {
        let offset = self.offset();
        self.labels.define_local(name, offset);
    }

    fn global_label(&mut self, name: &'static str) {
        let offset = self.offset();
        if let Err(e) = self.labels.define_global(name, offset) {
            self.error.get_or_insert(e);
        }
    }

    fn dynamic_label(&mut self, id: DynamicLabel) {
        let offset = self.offset();
        if let Err(e) = self.labels.define_dynamic(id, offset) {
            self.error.get_or_insert(e);
        }
    }

    fn global_relocation(&mut self, name: &'static str, target_offset: isize, field_offset: u8, ref_offset: u8, kind: R) {
        self.relocation(StaticLabel::global(name), target_offset, field_offset, ref_offset, kind);
    }

    fn dynamic_relocation(&mut self, id: DynamicLabel, target_offset: isize, field_offset: u8, ref_offset: u8, kind: R) {
        let loc = PatchLoc::new(self.offset(), target_offset, field_offset, ref_offset, kind);
        self.relocs.add_dynamic(id, loc);
    }

    fn forward_relocation(&mut self, name: &'static str, target_offset: isize, field_offset: u8, ref_offset: u8, kind: R) {
        // The next definition of `name` after this point.
        let label = self.labels.place_local_reference(name).map_or_else(|| StaticLabel::first(name), StaticLabel::next);
        self.relocation(label, target_offset, field_offset, ref_offset, kind);
    }

    fn backward_relocation(&mut self, name: &'static str, target_offset: isize, field_offset: u8, ref_offset: u8, kind: R) {
        // The latest definition of `name` before this point.
        match self.labels.place_local_reference(name) {
            Some(label) => self.relocation(label, target_offset, field_offset, ref_offset, kind),
            None => {
                self.error.get_or_insert(DynasmError::UnknownLabel(LabelKind::Local(name)));
            }
        }
    }

    fn value_relocation(&mut self, value: usize, field_offset: u8, ref_offset: u8, kind: R) {
        // Emitted just before: the field ends at the current offset.
        let loc = PatchLoc::new(self.offset(), 0, field_offset, ref_offset, kind);
        let range = loc.range(0);
        let code = self.code.bytes_mut();
        if code.len() < range.end || loc.patch(&mut code[range], 0, value).is_err() {
            self.error.get_or_insert(DynasmError::ImpossibleRelocation(TargetKind::Value(value)));
        }
    }
}

#[cfg(test)]
mod tests {
    use dynasmrt::x64::X64Relocation;

    use super::*;
    use crate::x64_asm as asm;

    type Asm = Assembler<X64Relocation>;

    #[test]
    fn branches_resolve_per_function_and_labels_start_again() {
        let mut a = Asm::new();
        let (back, fwd) = (a.new_dynamic_label(), a.new_dynamic_label());
        asm!(a; =>back; jmp =>fwd; nop; =>fwd; jmp =>back);
        a.resolve_labels().unwrap();
        // A later function's labels reuse the ids; its branches are its own.
        let l = a.new_dynamic_label();
        assert_eq!(l.get_id(), 0);
        asm!(a; jmp =>l; =>l);
        let code = a.finalize().unwrap();
        let want: &[u8] = &[
            0xe9, 1, 0, 0, 0, // jmp fwd (over the nop)
            0x90, // nop
            0xe9, 0xf5, 0xff, 0xff, 0xff, // jmp back: -11
            0xe9, 0, 0, 0, 0, // jmp to the next instruction
        ];
        assert_eq!(code, want);
    }

    #[test]
    fn an_unbound_label_is_an_error_not_a_wrong_branch() {
        let mut a = Asm::new();
        let l = a.new_dynamic_label();
        asm!(a; jmp =>l);
        assert!(a.resolve_labels().is_err());
    }

    #[test]
    fn patches_overwrite_emitted_bytes() {
        let mut a = Asm::new();
        asm!(a; sub rsp, 0x1000);
        let at = a.offset().0 - 4;
        a.patch(at, &0x2000i32.to_le_bytes());
        assert_eq!(a.finalize().unwrap(), [0x48, 0x81, 0xec, 0, 0x20, 0, 0]);
    }
}
