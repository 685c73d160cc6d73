//! HDF5's data transforms (`H5Pset_data_transform`): the expression language, read the way
//! HDF5 1.14 reads it, and its evaluation with the arithmetic native HDF5 uses, so that a
//! transformed read or write gives the bits native HDF5 gives.
//!
//! What native HDF5 does, and so what this does (H5Ztrans.c):
//! - Grammar: `expr := term (('+'|'-') term)*`, `term := factor (('*'|'/') factor)*`,
//!   `factor := integer | float | symbol | '-' factor | '+' factor | '(' expr ')'`, where a
//!   unary sign applies only to a number, a symbol or a parenthesised lone number or symbol.
//!   Any symbol (`[A-Za-z][A-Za-z0-9]*`) stands for the data, and the expression must hold as
//!   many symbols as letters (exponent markers aside), so symbols are one letter long. A `)`
//!   where the top level expects an operator ends the expression (`"x)+5"` is `x`).
//! - Constant subexpressions are folded first: integer with integer in C `long` arithmetic
//!   (so `7/2` is 3), otherwise in `double`.
//! - Each operation is applied to the whole array in the memory type, its result converted
//!   back to that type before the next: data with a constant is computed in `double`, data
//!   with data in the type's own C arithmetic. So `x/2` truncates on integer types, and
//!   `-x` is `0 - x` (a float 0 stays +0).
//! - An expression that is only a constant fills the data with it.
//! - An expression of one character (`"x"`) does nothing at all, not even check the type.
use rustc_apfloat::ieee::{Double, X87DoubleExtended};
use rustc_apfloat::{Float, FloatConvert};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error(msg.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Int(i64),
    Float(f64),
    Data,
    /// A binary operation, or a unary sign when the left operand is absent.
    Apply(Op, Option<Box<Node>>, Box<Node>),
}

/// The memory types native HDF5 evaluates transforms in: the native integer and floating
/// types, `long double` being x87's 80-bit format in 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    X87,
}

impl Kind {
    pub fn size(self) -> usize {
        match self {
            Kind::I8 | Kind::U8 => 1,
            Kind::I16 | Kind::U16 => 2,
            Kind::I32 | Kind::U32 | Kind::F32 => 4,
            Kind::I64 | Kind::U64 | Kind::F64 => 8,
            Kind::X87 => 16,
        }
    }
}

/// A parsed transform expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Transform {
    root: Node,
    noop: bool,
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Int(i64),
    Float(f64),
    Sym,
    Plus,
    Minus,
    Mult,
    Div,
    LParen,
    RParen,
    End,
}

/// C's `isspace` in the C locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Reads tokens on demand, as HDF5 does: text past the point where parsing stops is never
/// looked at. One token can be put back.
struct Lexer<'a> {
    s: &'a [u8],
    end: usize,
    cur: Tok,
    last: (Tok, usize),
}

impl<'a> Lexer<'a> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn unget(&mut self) {
        (self.cur, self.end) = self.last;
    }

    fn next(&mut self) -> Result<Tok, Error> {
        self.last = (self.cur, self.end);
        let mut begin = self.end;
        while is_space(self.at(begin)) {
            begin += 1;
        }
        let c = self.at(begin);
        let tok = if c == 0 {
            Tok::End
        } else if c.is_ascii_digit() || c == b'.' {
            self.number(begin)?
        } else if c.is_ascii_alphabetic() {
            let mut e = begin;
            while self.at(e).is_ascii_alphanumeric() {
                e += 1;
            }
            self.end = e;
            Tok::Sym
        } else {
            self.end = begin + 1;
            match c {
                b'+' => Tok::Plus,
                b'-' => Tok::Minus,
                b'*' => Tok::Mult,
                b'/' => Tok::Div,
                b'(' => Tok::LParen,
                b')' => Tok::RParen,
                _ => return err(format!("unknown token {:?} in data transform expression", c as char)),
            }
        };
        self.cur = tok;
        Ok(tok)
    }

    fn number(&mut self, begin: usize) -> Result<Tok, Error> {
        let mut e = begin;
        while self.at(e).is_ascii_digit() {
            e += 1;
        }
        if !matches!(self.at(e), b'.' | b'e' | b'E') {
            self.end = e;
            return Ok(Tok::Int(parse_long(&self.s[begin..e])));
        }
        if self.at(e) == b'.' {
            e += 1;
            while self.at(e).is_ascii_digit() {
                e += 1;
            }
        }
        if matches!(self.at(e), b'e' | b'E') {
            e += 1;
            if matches!(self.at(e), b'+' | b'-') {
                e += 1;
            }
            if !self.at(e).is_ascii_digit() {
                return err("invalidly formatted floating point number in data transform expression");
            }
            while self.at(e).is_ascii_digit() {
                e += 1;
            }
        }
        if self.at(e).is_ascii_alphabetic() || self.at(e) == b'.' {
            return err("invalidly formatted floating point number in data transform expression");
        }
        self.end = e;
        Ok(Tok::Float(parse_double(&self.s[begin..e])))
    }
}

/// `sscanf("%ld")` of a digit run: saturates as glibc's conversion does.
fn parse_long(digits: &[u8]) -> i64 {
    let mut v: i64 = 0;
    for &d in digits {
        v = match v.checked_mul(10).and_then(|v| v.checked_add(i64::from(d - b'0'))) {
            Some(v) => v,
            None => return i64::MAX,
        };
    }
    v
}

/// `sscanf("%lf")` of a float token (`digits? ('.' digits?)? (e sign? digits)?`): a
/// mantissa without digits converts nothing, which leaves HDF5's value at 0.
fn parse_double(tok: &[u8]) -> f64 {
    let text = std::str::from_utf8(tok).unwrap_or("");
    let (mant, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return 0.0;
    }
    let norm = format!(
        "{}.{}e{}",
        if int.is_empty() { "0" } else { int },
        if frac.is_empty() { "0" } else { frac },
        if exp.is_empty() { "0" } else { exp }
    );
    norm.parse().unwrap_or(0.0)
}

// ---------------------------------------------------------------------------------------------
// Parser

fn bad() -> Error {
    Error("error parsing data transform expression".into())
}

fn parse_expression(lx: &mut Lexer) -> Result<Option<Node>, Error> {
    let mut expr = parse_term(lx)?;
    loop {
        let op = match lx.next()? {
            Tok::Plus => Op::Add,
            Tok::Minus => Op::Sub,
            Tok::RParen => {
                lx.unget();
                return Ok(expr);
            }
            Tok::End => return Ok(expr),
            _ => return Err(bad()),
        };
        let rhs = parse_term(lx)?.ok_or_else(bad)?;
        let lhs = expr.ok_or_else(bad)?;
        expr = Some(Node::Apply(op, Some(Box::new(lhs)), Box::new(rhs)));
    }
}

fn parse_term(lx: &mut Lexer) -> Result<Option<Node>, Error> {
    let mut term = parse_factor(lx)?;
    loop {
        let op = match lx.next()? {
            Tok::Mult => Op::Mul,
            Tok::Div => Op::Div,
            Tok::End => return Ok(term),
            _ => {
                lx.unget();
                return Ok(term);
            }
        };
        let rhs = parse_factor(lx)?.ok_or_else(bad)?;
        let lhs = term.ok_or_else(bad)?;
        term = Some(Node::Apply(op, Some(Box::new(lhs)), Box::new(rhs)));
    }
}

fn parse_factor(lx: &mut Lexer) -> Result<Option<Node>, Error> {
    Ok(Some(match lx.next()? {
        Tok::Int(v) => Node::Int(v),
        Tok::Float(v) => Node::Float(v),
        Tok::Sym => Node::Data,
        Tok::LParen => {
            let inner = parse_expression(lx)?.ok_or_else(bad)?;
            if lx.next()? != Tok::RParen {
                return err("syntax error in data transform expression: ')' expected");
            }
            inner
        }
        t @ (Tok::Plus | Tok::Minus) => {
            let operand = parse_factor(lx)?.ok_or_else(bad)?;
            if matches!(operand, Node::Apply(..)) {
                return Err(bad());
            }
            let op = if t == Tok::Plus { Op::Add } else { Op::Sub };
            Node::Apply(op, None, Box::new(operand))
        }
        Tok::End => return Ok(None),
        Tok::RParen => return err("syntax error in data transform expression: unexpected ')'"),
        Tok::Mult | Tok::Div => return err("invalid token in data transform expression"),
    }))
}

/// How many data copies HDF5 sets up: letters, but not the `e` of a number's exponent.
fn letters(s: &[u8]) -> usize {
    let n = s.len();
    (0..n)
        .filter(|&i| {
            let c = s[i];
            if !c.is_ascii_alphabetic() {
                return false;
            }
            let exponent = i > 0
                && i + 1 < n
                && matches!(c, b'e' | b'E')
                && (s[i - 1].is_ascii_digit() || s[i - 1] == b'.')
                && (s[i + 1].is_ascii_digit() || matches!(s[i + 1], b'-' | b'+'));
            !exponent
        })
        .count()
}

/// Folds constant subexpressions bottom-up, in C `long` arithmetic when both sides are
/// integers and in `double` otherwise.
fn fold(node: Node) -> Result<Node, Error> {
    let Node::Apply(op, l, r) = node else { return Ok(node) };
    let l = l.map(|l| fold(*l)).transpose()?;
    let r = fold(*r)?;
    let num = |n: &Node| matches!(n, Node::Int(_) | Node::Float(_));
    let f = |n: &Node| match *n {
        Node::Int(v) => v as f64,
        Node::Float(v) => v,
        _ => unreachable!("checked to be a number"),
    };
    Ok(match (&l, &r) {
        (None, Node::Int(v)) => Node::Int(if op == Op::Sub { v.wrapping_neg() } else { *v }),
        (None, Node::Float(v)) => Node::Float(if op == Op::Sub { -v } else { *v }),
        (Some(Node::Int(a)), Node::Int(b)) => Node::Int(match op {
            Op::Add => a.wrapping_add(*b),
            Op::Sub => a.wrapping_sub(*b),
            Op::Mul => a.wrapping_mul(*b),
            Op::Div if *b == 0 => return err("integer division by zero in data transform expression"),
            Op::Div => a.wrapping_div(*b),
        }),
        (Some(a), b) if num(a) && num(b) => {
            let (a, b) = (f(a), f(b));
            Node::Float(match op {
                Op::Add => a + b,
                Op::Sub => a - b,
                Op::Mul => a * b,
                Op::Div => a / b,
            })
        }
        _ => Node::Apply(op, l.map(Box::new), Box::new(r)),
    })
}

impl Transform {
    /// Parses `expr` as `H5Pset_data_transform` does, refusing what it refuses.
    pub fn parse(expr: &str) -> Result<Transform, Error> {
        let s = expr.as_bytes();
        let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
        let mut lx = Lexer { s, end: 0, cur: Tok::End, last: (Tok::End, 0) };
        let root = parse_expression(&mut lx)?.ok_or_else(|| Error("empty data transform expression".into()))?;
        let root = fold(root)?;
        let symbols = count_data(&root);
        if letters(s) != symbols {
            return err("data transform expression: symbols must be single letters");
        }
        Ok(Transform { root, noop: s.len() == 1 && symbols == 1 })
    }

    /// Whether HDF5 skips the transform altogether (the expression `"x"`).
    pub fn is_noop(&self) -> bool {
        self.noop
    }

    /// Applies the transform to `buf`, packed elements of `kind` in the machine's order.
    pub fn apply(&self, kind: Kind, buf: &mut [u8]) -> Result<(), Error> {
        if self.noop {
            return Ok(());
        }
        match kind {
            Kind::I8 => self.apply_as::<i8>(buf),
            Kind::U8 => self.apply_as::<u8>(buf),
            Kind::I16 => self.apply_as::<i16>(buf),
            Kind::U16 => self.apply_as::<u16>(buf),
            Kind::I32 => self.apply_as::<i32>(buf),
            Kind::U32 => self.apply_as::<u32>(buf),
            Kind::I64 => self.apply_as::<i64>(buf),
            Kind::U64 => self.apply_as::<u64>(buf),
            Kind::F32 => self.apply_as::<f32>(buf),
            Kind::F64 => self.apply_as::<f64>(buf),
            Kind::X87 => self.apply_as::<X87>(buf),
        }
    }

    fn apply_as<T: Elem>(&self, buf: &mut [u8]) -> Result<(), Error> {
        let n = T::SIZE;
        if buf.len() % n != 0 {
            return err("data transform buffer is not a whole number of elements");
        }
        match self.root {
            Node::Int(_) | Node::Float(_) => {
                let v = constant::<T>(&self.root).to_bytes();
                buf.chunks_exact_mut(n).for_each(|e| e[..T::VALUE].copy_from_slice(&v.as_ref()[..T::VALUE]));
            }
            _ => {
                for e in buf.chunks_exact_mut(n) {
                    let x = T::from_bytes(e);
                    match eval(&self.root, x)? {
                        Val::Data(v) => e[..T::VALUE].copy_from_slice(&v.to_bytes().as_ref()[..T::VALUE]),
                        Val::Num(_) => return err("error during transform evaluation"),
                    }
                }
            }
        }
        Ok(())
    }
}

fn count_data(n: &Node) -> usize {
    match n {
        Node::Data => 1,
        Node::Apply(_, l, r) => l.as_deref().map_or(0, count_data) + count_data(r),
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

enum Val<T> {
    Num(f64),
    Data(T),
}

fn constant<T: Elem>(n: &Node) -> T {
    match *n {
        Node::Int(v) => T::from_long(v),
        Node::Float(v) => T::from_double(v),
        _ => unreachable!("only called on numbers"),
    }
}

fn eval<T: Elem>(n: &Node, x: T) -> Result<Val<T>, Error> {
    Ok(match n {
        Node::Int(v) => Val::Num(*v as f64),
        Node::Float(v) => Val::Num(*v),
        Node::Data => Val::Data(x),
        Node::Apply(op, l, r) => {
            // An absent left operand (a unary sign) counts as 0, as in HDF5.
            let l = match l {
                Some(l) => eval(l, x)?,
                None => Val::Num(0.0),
            };
            let r = eval(r, x)?;
            match (l, r) {
                (Val::Data(a), Val::Num(c)) => Val::Data(T::from_linear(arith(*op, a.to_double(), c))),
                (Val::Num(c), Val::Data(b)) => Val::Data(T::from_linear(arith(*op, c, b.to_double()))),
                (Val::Data(a), Val::Data(b)) => Val::Data(T::op(*op, a, b)?),
                (Val::Num(_), Val::Num(_)) => return err("invalid data transform expression tree"),
            }
        }
    })
}

fn arith(op: Op, a: f64, b: f64) -> f64 {
    match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => a / b,
    }
}

/// x86-64's truncating conversion of a double to a 32-bit integer (`cvttsd2si`): a value
/// out of range (or NaN) gives the "integer indefinite", `i32::MIN`.
fn cvt32(v: f64) -> i32 {
    let t = v.trunc();
    if t >= -2147483648.0 && t <= 2147483647.0 {
        t as i32
    } else {
        i32::MIN
    }
}

/// As `cvt32`, to 64 bits.
fn cvt64(v: f64) -> i64 {
    let t = v.trunc();
    if t >= -9223372036854775808.0 && t < 9223372036854775808.0 {
        t as i64
    } else {
        i64::MIN
    }
}

/// A type HDF5 evaluates transforms in, with the conversions and arithmetic of its C type
/// as HDF5's x86-64 build does them (a value out of the type's range, which C leaves
/// undefined, gets what that machine code gives).
trait Elem: Copy {
    const SIZE: usize;
    /// The bytes that hold the value (the rest is padding, left as it is).
    const VALUE: usize = Self::SIZE;
    type Bytes: AsRef<[u8]>;
    fn from_bytes(b: &[u8]) -> Self;
    fn to_bytes(self) -> Self::Bytes;
    fn to_double(self) -> f64;
    /// `(T)double` where HDF5 converts the result of an operation with a constant.
    fn from_linear(v: f64) -> Self;
    /// `(T)double` where HDF5 fills with a floating constant.
    fn from_double(v: f64) -> Self;
    /// `(T)long`.
    fn from_long(v: i64) -> Self;
    /// `(T)(a OP b)` in C arithmetic.
    fn op(op: Op, a: Self, b: Self) -> Result<Self, Error>;
}

macro_rules! bytes_of {
    ($t:ty) => {
        const SIZE: usize = std::mem::size_of::<$t>();
        type Bytes = [u8; std::mem::size_of::<$t>()];
        fn from_bytes(b: &[u8]) -> Self {
            <$t>::from_ne_bytes(b.try_into().expect("element-sized slice"))
        }
        fn to_bytes(self) -> Self::Bytes {
            self.to_ne_bytes()
        }
    };
}

fn int_divide_by_zero<T>() -> Result<T, Error> {
    err("integer division by zero in data transform")
}

macro_rules! int_elem {
    ($t:ty, $linear:expr, $double:expr) => {
        impl Elem for $t {
            bytes_of!($t);
            fn to_double(self) -> f64 {
                self as f64
            }
            fn from_linear(v: f64) -> Self {
                $linear(v)
            }
            fn from_double(v: f64) -> Self {
                $double(v)
            }
            fn from_long(v: i64) -> Self {
                v as $t
            }
            fn op(op: Op, a: Self, b: Self) -> Result<Self, Error> {
                // Types narrower than int are promoted to int in C: wrapping in the narrow type
                // gives the same bits. Division by zero (and MIN / -1 in int and wider)
                // traps in native HDF5: here it is an error instead.
                Ok(match op {
                    Op::Add => a.wrapping_add(b),
                    Op::Sub => a.wrapping_sub(b),
                    Op::Mul => a.wrapping_mul(b),
                    Op::Div => {
                        if b == 0 {
                            return int_divide_by_zero();
                        }
                        if std::mem::size_of::<$t>() >= 4 && a.checked_div(b).is_none() {
                            return err("integer overflow in data transform division");
                        }
                        a.wrapping_div(b)
                    }
                })
            }
        }
    };
}

// Narrow types: converted through a 32-bit integer, then cut to width.
int_elem!(i8, |v| cvt32(v) as i8, |v| cvt32(v) as i8);
int_elem!(u8, |v| cvt32(v) as u8, |v| cvt32(v) as u8);
int_elem!(i16, |v| cvt32(v) as i16, |v| cvt32(v) as i16);
int_elem!(u16, |v| cvt32(v) as u16, |v| cvt32(v) as u16);
int_elem!(i32, cvt32, cvt32);
// unsigned int: HDF5's loops over the data are vectorised, 4 elements at a time, with the
// vector form of the conversion (values from 2^31 are offset into the signed range); the
// scalar form (through a 64-bit integer) only converts the lone constant of a fill.
int_elem!(
    u32,
    |v: f64| if v >= 2147483648.0 { (cvt32(v - 2147483648.0) as u32) ^ 0x8000_0000 } else { cvt32(v) as u32 },
    |v| cvt64(v) as u32
);
int_elem!(i64, cvt64, cvt64);
int_elem!(u64, u64_of, u64_of);

/// `(unsigned long)double` on x86-64: values from 2^63 are offset into the signed range.
fn u64_of(v: f64) -> u64 {
    if v >= 9223372036854775808.0 {
        (cvt64(v - 9223372036854775808.0) as u64) ^ (1 << 63)
    } else {
        cvt64(v) as u64
    }
}

macro_rules! float_elem {
    ($t:ty) => {
        impl Elem for $t {
            bytes_of!($t);
            fn to_double(self) -> f64 {
                self as f64
            }
            fn from_linear(v: f64) -> Self {
                v as $t
            }
            fn from_double(v: f64) -> Self {
                v as $t
            }
            fn from_long(v: i64) -> Self {
                v as $t
            }
            fn op(op: Op, a: Self, b: Self) -> Result<Self, Error> {
                Ok(match op {
                    Op::Add => a + b,
                    Op::Sub => a - b,
                    Op::Mul => a * b,
                    Op::Div => a / b,
                })
            }
        }
    };
}

float_elem!(f32);
float_elem!(f64);

#[cfg(test)]
#[path = "transform_tests.rs"]
mod tests;

/// x87 `long double`: 10 bytes of value in a 16-byte slot, with x87 arithmetic at full
/// (64-bit significand) precision, as Linux sets the FPU up.
#[derive(Clone, Copy)]
struct X87(X87DoubleExtended);

impl X87 {
    fn of_double(v: f64) -> X87 {
        X87(Double::from_bits(u128::from(v.to_bits())).convert(&mut false).value)
    }
}

impl Elem for X87 {
    const SIZE: usize = 16;
    const VALUE: usize = 10;
    type Bytes = [u8; 16];
    fn from_bytes(b: &[u8]) -> Self {
        let mut v = [0u8; 16];
        v[..10].copy_from_slice(&b[..10]);
        X87(X87DoubleExtended::from_bits(u128::from_le_bytes(v)))
    }
    fn to_bytes(self) -> Self::Bytes {
        self.0.to_bits().to_le_bytes()
    }
    fn to_double(self) -> f64 {
        let d: Double = self.0.convert(&mut false).value;
        f64::from_bits(d.to_bits() as u64)
    }
    fn from_linear(v: f64) -> Self {
        X87::of_double(v)
    }
    fn from_double(v: f64) -> Self {
        X87::of_double(v)
    }
    fn from_long(v: i64) -> Self {
        X87(X87DoubleExtended::from_i128(i128::from(v)).value)
    }
    fn op(op: Op, a: Self, b: Self) -> Result<Self, Error> {
        let (a, b) = (a.0, b.0);
        Ok(X87(match op {
            Op::Add => (a + b).value,
            Op::Sub => (a - b).value,
            Op::Mul => (a * b).value,
            Op::Div => (a / b).value,
        }))
    }
}
