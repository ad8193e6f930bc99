//! SIMD operators (Wasm semantics, operand handling); instruction selection is behind
//! [`SimdMasm`].

use wasmparser::{MemArg, Operator};

use crate::compiler::frontend::{unsupported, FuncCompiler};
use crate::compiler::masm::*;
use crate::compiler::simd::{lanewise, Arity, Shape, SimdMasm, VLoad, VOp, VResult, VShift, VTest};
use crate::compiler::value_stack::class_of;
use crate::error::Result;
use crate::types::ValType;

impl<'a, M: MacroAssembler> FuncCompiler<'a, M> {
    /// The SIMD interface; only called once `enable_v128` succeeded.
    pub(crate) fn vm(&mut self) -> &mut dyn SimdMasm {
        self.masm
            .simd()
            .expect("SIMD checked when v128 was enabled")
    }

    fn check(&self, r: VResult, op: &Operator<'_>) -> Result<()> {
        r.map_err(|why| unsupported(&format!("{op:?} (simd): {why}"), self.offset))
    }

    fn memory0(&self, memarg: &MemArg) -> Result<()> {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) {
            return Err(unsupported("multiple memories", self.offset));
        }
        Ok(())
    }

    /// Compiles a SIMD operator; `None` when `op` is not one.
    pub(crate) fn visit_simd(&mut self, op: &Operator<'_>) -> Option<Result<()>> {
        let kind = simd_kind(op)?;
        if self.slot_stride < 16 {
            // The stride cannot change once slots are in use: either the ISA has no SIMD
            // (`enable_v128` says so) or the pre-scan missed this operator (a bug).
            return Some(self.enable_v128().and(Err(unsupported(
                "SIMD operator missed by the pre-scan",
                self.offset,
            ))));
        }
        Some(self.visit_simd_kind(op, kind))
    }

    fn visit_simd_kind(&mut self, op: &Operator<'_>, kind: Kind) -> Result<()> {
        let v = ValType::V128;
        match kind {
            Kind::Const(bits) => {
                let dst = self.alloc(RegClass::Float);
                self.vm().v128_const(dst, bits);
                self.push_reg(v, dst);
            }
            Kind::Load(memarg, load) => {
                self.memory0(&memarg)?;
                let (addr, owned) = self.heap_address(memarg.offset, load.bytes());
                let dst = self.alloc(RegClass::Float);
                let r = match load {
                    VLoad::Full => {
                        self.vm().v128_load(dst, addr);
                        Ok(())
                    }
                    _ => self.vm().load(load, dst, addr),
                };
                for r in owned.into_iter().flatten() {
                    self.free(r);
                }
                self.push_reg(v, dst);
                self.check(r, op)?;
            }
            Kind::Store(memarg) => {
                self.memory0(&memarg)?;
                let (_, value) = self.pop_to_reg();
                let (addr, owned) = self.heap_address(memarg.offset, 16);
                self.vm().v128_store(addr, value);
                for r in owned.into_iter().flatten().chain([value]) {
                    self.free(r);
                }
            }
            Kind::LoadLane(memarg, bits, lane) => {
                self.memory0(&memarg)?;
                let (_, dst) = self.pop_to_reg();
                let (addr, owned) = self.heap_address(memarg.offset, bits / 8);
                let r = self.vm().load_lane(bits, lane, dst, addr);
                for r in owned.into_iter().flatten() {
                    self.free(r);
                }
                self.push_reg(v, dst);
                self.check(r, op)?;
            }
            Kind::StoreLane(memarg, bits, lane) => {
                self.memory0(&memarg)?;
                let (_, src) = self.pop_to_reg();
                let (addr, owned) = self.heap_address(memarg.offset, bits / 8);
                let r = self.vm().store_lane(bits, lane, addr, src);
                for r in owned.into_iter().flatten().chain([src]) {
                    self.free(r);
                }
                self.check(r, op)?;
            }
            Kind::Splat(shape) => {
                let (_, src) = self.pop_to_reg();
                let dst = self.alloc(RegClass::Float);
                let r = self.vm().splat(shape, dst, src);
                self.free(src);
                self.push_reg(v, dst);
                self.check(r, op)?;
            }
            Kind::Extract(shape, signed, lane, ty) => {
                let (_, src, owned) = self.pop_readonly();
                let dst = self.alloc(class_of(ty));
                let r = self.vm().extract_lane(shape, signed, lane, dst, src);
                self.free_readonly(src, owned);
                self.push_reg(ty, dst);
                self.check(r, op)?;
            }
            Kind::Replace(shape, lane) => {
                let (_, value, vowned) = self.pop_readonly();
                let (_, dst) = self.pop_to_reg();
                let r = self.vm().replace_lane(shape, lane, dst, value);
                self.free_readonly(value, vowned);
                self.push_reg(v, dst);
                self.check(r, op)?;
            }
            Kind::Shuffle(lanes) => {
                let (_, rhs, owned) = self.pop_readonly();
                let (_, dst) = self.pop_to_reg();
                let tmp = self.alloc(RegClass::Float);
                let r = self.vm().shuffle(dst, rhs, lanes, tmp);
                self.free(tmp);
                self.free_readonly(rhs, owned);
                self.push_reg(v, dst);
                self.check(r, op)?;
            }
            Kind::Bitselect => {
                let (_, mask, mowned) = self.pop_readonly();
                let (_, other, oowned) = self.pop_readonly();
                let (_, dst) = self.pop_to_reg();
                let tmp = self.alloc(RegClass::Float);
                let r = self.vm().bitselect(dst, other, mask, tmp);
                self.free(tmp);
                self.free_readonly(other, oowned);
                self.free_readonly(mask, mowned);
                self.push_reg(v, dst);
                self.check(r, op)?;
            }
            Kind::Lanewise(vop, Arity::Binary) => {
                if commutative(vop) {
                    self.swap_pinned_left();
                }
                let (_, rhs, owned) = self.pop_readonly();
                let (_, dst) = self.pop_to_reg();
                let tmp = self.alloc(RegClass::Float);
                let r = self.vm().binary(vop, dst, rhs, tmp);
                self.free(tmp);
                self.free_readonly(rhs, owned);
                self.push_reg(v, dst);
                self.check(r, op)?;
            }
            Kind::Lanewise(vop, Arity::Unary) => {
                let (_, dst) = self.pop_to_reg();
                let tmp = self.alloc(RegClass::Float);
                let r = self.vm().unary(vop, dst, tmp);
                self.free(tmp);
                self.push_reg(v, dst);
                self.check(r, op)?;
            }
            Kind::Shift(shift, shape) => {
                let (_, count) = self.pop_to_reg();
                let (_, dst) = self.pop_to_reg();
                let tmp = self.alloc(RegClass::Float);
                let r = self.vm().shift(shift, shape, dst, count, tmp);
                self.free(tmp);
                self.free(count);
                self.push_reg(v, dst);
                self.check(r, op)?;
            }
            Kind::Test(test) => {
                let (_, src, owned) = self.pop_readonly();
                let dst = self.alloc(RegClass::Int);
                let tmp = self.alloc(RegClass::Float);
                let r = self.vm().test(test, dst, src, tmp);
                self.free(tmp);
                self.free_readonly(src, owned);
                self.push_reg(ValType::I32, dst);
                self.check(r, op)?;
            }
        }
        Ok(())
    }
}

/// What the frontend does with a SIMD operator.
enum Kind {
    Const(u128),
    Load(MemArg, VLoad),
    Store(MemArg),
    LoadLane(MemArg, u32, u8),
    StoreLane(MemArg, u32, u8),
    Splat(Shape),
    /// `(shape, signed, lane, result type)`
    Extract(Shape, bool, u8, ValType),
    Replace(Shape, u8),
    Shuffle([u8; 16]),
    Bitselect,
    Lanewise(crate::compiler::simd::VOp, Arity),
    Shift(VShift, Shape),
    Test(VTest),
}

fn simd_kind(op: &Operator<'_>) -> Option<Kind> {
    use Operator::*;
    use Shape::*;
    use ValType as T;
    if let Some((vop, arity)) = lanewise(op) {
        return Some(Kind::Lanewise(vop, arity));
    }
    let ext = |bits, signed| VLoad::Extend { bits, signed };
    Some(match *op {
        V128Const { value } => Kind::Const(u128::from_le_bytes(*value.bytes())),
        V128Load { memarg } => Kind::Load(memarg, VLoad::Full),
        V128Load8x8S { memarg } => Kind::Load(memarg, ext(8, true)),
        V128Load8x8U { memarg } => Kind::Load(memarg, ext(8, false)),
        V128Load16x4S { memarg } => Kind::Load(memarg, ext(16, true)),
        V128Load16x4U { memarg } => Kind::Load(memarg, ext(16, false)),
        V128Load32x2S { memarg } => Kind::Load(memarg, ext(32, true)),
        V128Load32x2U { memarg } => Kind::Load(memarg, ext(32, false)),
        V128Load8Splat { memarg } => Kind::Load(memarg, VLoad::Splat(8)),
        V128Load16Splat { memarg } => Kind::Load(memarg, VLoad::Splat(16)),
        V128Load32Splat { memarg } => Kind::Load(memarg, VLoad::Splat(32)),
        V128Load64Splat { memarg } => Kind::Load(memarg, VLoad::Splat(64)),
        V128Load32Zero { memarg } => Kind::Load(memarg, VLoad::Zero(32)),
        V128Load64Zero { memarg } => Kind::Load(memarg, VLoad::Zero(64)),
        V128Store { memarg } => Kind::Store(memarg),
        V128Load8Lane { memarg, lane } => Kind::LoadLane(memarg, 8, lane),
        V128Load16Lane { memarg, lane } => Kind::LoadLane(memarg, 16, lane),
        V128Load32Lane { memarg, lane } => Kind::LoadLane(memarg, 32, lane),
        V128Load64Lane { memarg, lane } => Kind::LoadLane(memarg, 64, lane),
        V128Store8Lane { memarg, lane } => Kind::StoreLane(memarg, 8, lane),
        V128Store16Lane { memarg, lane } => Kind::StoreLane(memarg, 16, lane),
        V128Store32Lane { memarg, lane } => Kind::StoreLane(memarg, 32, lane),
        V128Store64Lane { memarg, lane } => Kind::StoreLane(memarg, 64, lane),
        I8x16Splat => Kind::Splat(I8x16),
        I16x8Splat => Kind::Splat(I16x8),
        I32x4Splat => Kind::Splat(I32x4),
        I64x2Splat => Kind::Splat(I64x2),
        F32x4Splat => Kind::Splat(F32x4),
        F64x2Splat => Kind::Splat(F64x2),
        I8x16ExtractLaneS { lane } => Kind::Extract(I8x16, true, lane, T::I32),
        I8x16ExtractLaneU { lane } => Kind::Extract(I8x16, false, lane, T::I32),
        I16x8ExtractLaneS { lane } => Kind::Extract(I16x8, true, lane, T::I32),
        I16x8ExtractLaneU { lane } => Kind::Extract(I16x8, false, lane, T::I32),
        I32x4ExtractLane { lane } => Kind::Extract(I32x4, false, lane, T::I32),
        I64x2ExtractLane { lane } => Kind::Extract(I64x2, false, lane, T::I64),
        F32x4ExtractLane { lane } => Kind::Extract(F32x4, false, lane, T::F32),
        F64x2ExtractLane { lane } => Kind::Extract(F64x2, false, lane, T::F64),
        I8x16ReplaceLane { lane } => Kind::Replace(I8x16, lane),
        I16x8ReplaceLane { lane } => Kind::Replace(I16x8, lane),
        I32x4ReplaceLane { lane } => Kind::Replace(I32x4, lane),
        I64x2ReplaceLane { lane } => Kind::Replace(I64x2, lane),
        F32x4ReplaceLane { lane } => Kind::Replace(F32x4, lane),
        F64x2ReplaceLane { lane } => Kind::Replace(F64x2, lane),
        I8x16Shuffle { lanes } => Kind::Shuffle(lanes),
        V128Bitselect => Kind::Bitselect,
        I8x16Shl => Kind::Shift(VShift::Shl, I8x16),
        I8x16ShrS => Kind::Shift(VShift::ShrS, I8x16),
        I8x16ShrU => Kind::Shift(VShift::ShrU, I8x16),
        I16x8Shl => Kind::Shift(VShift::Shl, I16x8),
        I16x8ShrS => Kind::Shift(VShift::ShrS, I16x8),
        I16x8ShrU => Kind::Shift(VShift::ShrU, I16x8),
        I32x4Shl => Kind::Shift(VShift::Shl, I32x4),
        I32x4ShrS => Kind::Shift(VShift::ShrS, I32x4),
        I32x4ShrU => Kind::Shift(VShift::ShrU, I32x4),
        I64x2Shl => Kind::Shift(VShift::Shl, I64x2),
        I64x2ShrS => Kind::Shift(VShift::ShrS, I64x2),
        I64x2ShrU => Kind::Shift(VShift::ShrU, I64x2),
        V128AnyTrue => Kind::Test(VTest::AnyTrue),
        I8x16AllTrue => Kind::Test(VTest::AllTrue(I8x16)),
        I16x8AllTrue => Kind::Test(VTest::AllTrue(I16x8)),
        I32x4AllTrue => Kind::Test(VTest::AllTrue(I32x4)),
        I64x2AllTrue => Kind::Test(VTest::AllTrue(I64x2)),
        I8x16Bitmask => Kind::Test(VTest::Bitmask(I8x16)),
        I16x8Bitmask => Kind::Test(VTest::Bitmask(I16x8)),
        I32x4Bitmask => Kind::Test(VTest::Bitmask(I32x4)),
        I64x2Bitmask => Kind::Test(VTest::Bitmask(I64x2)),
        _ => return None,
    })
}

/// Lane-wise operations whose operands may be swapped (NaN payloads aside, which Wasm leaves
/// open).
fn commutative(op: VOp) -> bool {
    use VOp::*;
    matches!(
        op,
        V128And | V128Or | V128Xor
            | I8x16Add | I16x8Add | I32x4Add | I64x2Add
            | I16x8Mul | I32x4Mul
            | F32x4Add | F32x4Mul | F64x2Add | F64x2Mul
    )
}
