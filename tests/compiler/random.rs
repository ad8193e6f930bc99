//! Random expression programs evaluated by a Rust model and by compiled code: stresses
//! register allocation, spilling, pinned locals, flags and block results together.

use super::harness::*;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug)]
enum Bin {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    ShrU,
    ShrS,
    Rotl,
    DivU,
    RemS,
    FAdd,
    I32Add,
}
#[derive(Clone, Copy, Debug)]
enum Cmp {
    Eq,
    Ne,
    LtS,
    LtU,
    GeS,
    GtU,
}

enum E {
    Local(u32),
    Const(i64),
    Bin(Bin, Box<E>, Box<E>),
    Cmp(Cmp, Box<E>, Box<E>),
    Select(Box<E>, Box<E>, Box<C>),
    If(Box<C>, Box<E>, Box<E>),
    BrIf(Box<E>, Box<C>, Box<E>),
    Tee(u32, Box<E>),
    Call(Box<E>),
    /// Runs its body twice; the u32 is its own i32 counter local.
    Loop(u32, Box<E>),
}
/// An i32 condition.
enum C {
    Cmp(Cmp, E, E),
    Wrap(E),
}

const LOCALS: u32 = 6; // 3 params + 3 declared

fn gen(r: &mut Rng, depth: u32, loops: &mut u32) -> E {
    if depth == 0 || r.below(10) < 2 {
        return if r.below(3) == 0 {
            E::Const([0, 1, -1, 7, i64::MIN, 0x1234_5678_9abc, 63, -3][r.below(8) as usize])
        } else {
            E::Local(r.below(LOCALS as u64) as u32)
        };
    }
    let d = depth - 1;
    let bins = [
        Bin::Add,
        Bin::Sub,
        Bin::Mul,
        Bin::And,
        Bin::Or,
        Bin::Xor,
        Bin::Shl,
        Bin::ShrU,
        Bin::ShrS,
        Bin::Rotl,
        Bin::DivU,
        Bin::RemS,
        Bin::FAdd,
        Bin::I32Add,
    ];
    let cmps = [Cmp::Eq, Cmp::Ne, Cmp::LtS, Cmp::LtU, Cmp::GeS, Cmp::GtU];
    match r.below(14) {
        0..=4 => E::Bin(
            bins[r.below(bins.len() as u64) as usize],
            Box::new(gen(r, d, loops)),
            Box::new(gen(r, d, loops)),
        ),
        5 => E::Cmp(
            cmps[r.below(6) as usize],
            Box::new(gen(r, d, loops)),
            Box::new(gen(r, d, loops)),
        ),
        6 => E::Select(
            Box::new(gen(r, d, loops)),
            Box::new(gen(r, d, loops)),
            Box::new(gen_c(r, d, loops)),
        ),
        7 => E::If(
            Box::new(gen_c(r, d, loops)),
            Box::new(gen(r, d, loops)),
            Box::new(gen(r, d, loops)),
        ),
        8 => E::BrIf(
            Box::new(gen(r, d, loops)),
            Box::new(gen_c(r, d, loops)),
            Box::new(gen(r, d, loops)),
        ),
        9 | 10 => E::Tee(r.below(LOCALS as u64) as u32, Box::new(gen(r, d, loops))),
        11 => E::Call(Box::new(gen(r, d, loops))),
        12 if *loops < 16 => {
            *loops += 1;
            E::Loop(6 + *loops - 1, Box::new(gen(r, d, loops)))
        }
        _ => E::Bin(
            Bin::Add,
            Box::new(gen(r, d, loops)),
            Box::new(E::Bin(
                Bin::Mul,
                Box::new(gen(r, d, loops)),
                Box::new(gen(r, d, loops)),
            )),
        ),
    }
}

fn gen_c(r: &mut Rng, depth: u32, loops: &mut u32) -> C {
    let cmps = [Cmp::Eq, Cmp::Ne, Cmp::LtS, Cmp::LtU, Cmp::GeS, Cmp::GtU];
    if r.below(3) == 0 {
        C::Wrap(gen(r, depth, loops))
    } else {
        C::Cmp(
            cmps[r.below(6) as usize],
            gen(r, depth, loops),
            gen(r, depth, loops),
        )
    }
}

fn cmp_name(c: Cmp) -> &'static str {
    match c {
        Cmp::Eq => "eq",
        Cmp::Ne => "ne",
        Cmp::LtS => "lt_s",
        Cmp::LtU => "lt_u",
        Cmp::GeS => "ge_s",
        Cmp::GtU => "gt_u",
    }
}

fn wat(e: &E, out: &mut String) {
    match e {
        E::Local(i) => *out += &format!("(local.get {i})"),
        E::Const(c) => *out += &format!("(i64.const {c})"),
        E::Bin(op, a, b) => {
            let (pre, mid, post) = match op {
                Bin::Add => ("(i64.add ", "", ")"),
                Bin::Sub => ("(i64.sub ", "", ")"),
                Bin::Mul => ("(i64.mul ", "", ")"),
                Bin::And => ("(i64.and ", "", ")"),
                Bin::Or => ("(i64.or ", "", ")"),
                Bin::Xor => ("(i64.xor ", "", ")"),
                Bin::Shl => ("(i64.shl ", "", ")"),
                Bin::ShrU => ("(i64.shr_u ", "", ")"),
                Bin::ShrS => ("(i64.shr_s ", "", ")"),
                Bin::Rotl => ("(i64.rotl ", "", ")"),
                Bin::DivU => ("(i64.div_u ", "(i64.or ", " (i64.const 1)))"),
                Bin::RemS => ("(i64.rem_s ", "(i64.or ", " (i64.const 1)))"),
                Bin::FAdd => (
                    "(i64.trunc_sat_f64_s (f64.add (f64.convert_i64_s ",
                    ") (f64.convert_i64_s ",
                    ")))",
                ),
                Bin::I32Add => (
                    "(i64.extend_i32_s (i32.add (i32.wrap_i64 ",
                    ") (i32.wrap_i64 ",
                    ")))",
                ),
            };
            *out += pre;
            wat(a, out);
            *out += mid;
            wat(b, out);
            *out += post;
        }
        E::Cmp(c, a, b) => {
            *out += &format!("(i64.extend_i32_u (i64.{} ", cmp_name(*c));
            wat(a, out);
            wat(b, out);
            *out += "))";
        }
        E::Select(a, b, c) => {
            *out += "(select ";
            wat(a, out);
            wat(b, out);
            wat_c(c, out);
            *out += ")";
        }
        E::If(c, a, b) => {
            *out += "(if (result i64) ";
            wat_c(c, out);
            *out += " (then ";
            wat(a, out);
            *out += ") (else ";
            wat(b, out);
            *out += "))";
        }
        E::BrIf(v, c, o) => {
            *out += "(block (result i64) (drop (br_if 0 ";
            wat(v, out);
            wat_c(c, out);
            *out += ")) ";
            wat(o, out);
            *out += ")";
        }
        E::Tee(i, a) => {
            *out += &format!("(local.tee {i} ");
            wat(a, out);
            *out += ")";
        }
        E::Call(a) => {
            *out += "(call $id ";
            wat(a, out);
            *out += ")";
        }
        E::Loop(counter, a) => {
            *out += &format!("(local.set {counter} (i32.const 2)) (loop $l (result i64) ");
            wat(a, out);
            *out += &format!(" (local.set {counter} (i32.sub (local.get {counter}) (i32.const 1))) (br_if $l (i32.ne (local.get {counter}) (i32.const 0))))");
        }
    }
}

fn wat_c(c: &C, out: &mut String) {
    match c {
        C::Cmp(op, a, b) => {
            *out += &format!("(i64.{} ", cmp_name(*op));
            wat(a, out);
            wat(b, out);
            *out += ")";
        }
        C::Wrap(a) => {
            *out += "(i32.wrap_i64 ";
            wat(a, out);
            *out += ")";
        }
    }
}

fn eval(e: &E, l: &mut [i64; 6]) -> i64 {
    match e {
        E::Local(i) => l[*i as usize],
        E::Const(c) => *c,
        E::Bin(op, a, b) => {
            let (a, b) = (eval(a, l), eval(b, l));
            match op {
                Bin::Add => a.wrapping_add(b),
                Bin::Sub => a.wrapping_sub(b),
                Bin::Mul => a.wrapping_mul(b),
                Bin::And => a & b,
                Bin::Or => a | b,
                Bin::Xor => a ^ b,
                Bin::Shl => a.wrapping_shl(b as u32),
                Bin::ShrU => ((a as u64).wrapping_shr(b as u32)) as i64,
                Bin::ShrS => a.wrapping_shr(b as u32),
                Bin::Rotl => a.rotate_left((b & 63) as u32),
                Bin::DivU => ((a as u64) / ((b | 1) as u64)) as i64,
                Bin::RemS => a.wrapping_rem(b | 1),
                Bin::FAdd => ((a as f64) + (b as f64)) as i64,
                Bin::I32Add => (a as i32).wrapping_add(b as i32) as i64,
            }
        }
        E::Cmp(c, a, b) => {
            let (a, b) = (eval(a, l), eval(b, l));
            cmp(*c, a, b) as i64
        }
        E::Select(a, b, c) => {
            let (a, b) = (eval(a, l), eval(b, l));
            if eval_c(c, l) {
                a
            } else {
                b
            }
        }
        E::If(c, a, b) => {
            if eval_c(c, l) {
                eval(a, l)
            } else {
                eval(b, l)
            }
        }
        E::BrIf(v, c, o) => {
            let v = eval(v, l);
            if eval_c(c, l) {
                v
            } else {
                eval(o, l)
            }
        }
        E::Tee(i, a) => {
            let v = eval(a, l);
            l[*i as usize] = v;
            v
        }
        E::Call(a) => eval(a, l),
        E::Loop(_, a) => {
            eval(a, l);
            eval(a, l)
        }
    }
}

fn cmp(c: Cmp, a: i64, b: i64) -> bool {
    match c {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::LtS => a < b,
        Cmp::LtU => (a as u64) < b as u64,
        Cmp::GeS => a >= b,
        Cmp::GtU => a as u64 > b as u64,
    }
}

fn eval_c(c: &C, l: &mut [i64; 6]) -> bool {
    match c {
        C::Cmp(op, a, b) => {
            let (a, b) = (eval(a, l), eval(b, l));
            cmp(*op, a, b)
        }
        C::Wrap(a) => eval(a, l) as i32 != 0,
    }
}

#[test]
fn random_expressions_match_model() {
    let mut rng = Rng(0x1234_5678_9e37_79b9);
    let inputs: [[i64; 3]; 4] = [
        [0, 0, 0],
        [1, -1, 2],
        [i64::MIN, 63, 0x7fff_ffff],
        [-7, 1 << 40, 12345],
    ];
    for round in 0..60 {
        let exprs: Vec<E> = (0..25).map(|_| gen(&mut rng, 7, &mut 0)).collect();
        let mut m = String::from("(module (func $id (param i64) (result i64) (local.get 0))\n");
        for (k, e) in exprs.iter().enumerate() {
            m += &format!("(func (export \"e{k}\") (param i64 i64 i64) (result i64) (local i64 i64 i64) (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) ");
            wat(e, &mut m);
            m += ")\n";
        }
        m += ")";
        let mut inst = Instance::new(&m);
        for (k, e) in exprs.iter().enumerate() {
            for input in &inputs {
                let mut locals = [input[0], input[1], input[2], 0, 0, 0];
                let want = eval(e, &mut locals) as u64;
                let args: Vec<u64> = input.iter().map(|v| *v as u64).collect();
                let got = inst.call(&format!("e{k}"), &args);
                if got != Ok(want) {
                    let mut text = String::new();
                    wat(e, &mut text);
                    panic!("round {round} e{k}{input:?}: got {got:x?}, want {want:#x}\n{text}");
                }
            }
        }
    }
}
