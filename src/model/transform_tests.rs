//! One test per property of HDF5's data transforms; expected values are what native HDF5
//! 1.14.5 gives for the same expression and data (checked with a C program).
use super::*;

fn run<T: Elem>(expr: &str, kind: Kind, data: &[T]) -> Vec<T> {
    let t = Transform::parse(expr).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    let mut buf: Vec<u8> = data.iter().flat_map(|v| v.to_bytes().as_ref().to_vec()).collect();
    t.apply(kind, &mut buf).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    buf.chunks_exact(T::SIZE).map(T::from_bytes).collect()
}

#[test]
fn accepts_what_hdf5_accepts() {
    for e in [
        "x", "x+1", "x*1e2", "x*1.5e1", "x)+5", "x)$", "x1+1", "x+.", "-(x)", "  x", "y*y", "x/0", "x*(7/2)", "3",
        "1.e1*x", ".e1+x", "x+99999999999999999999", "(x+1)*(x-1)/2", "-x", "+x", "2*x-3", "x - -1", "-x*2", "\tx\n",
    ] {
        assert!(Transform::parse(e).is_ok(), "{e:?} should parse");
    }
}

#[test]
fn refuses_what_hdf5_refuses() {
    for e in ["xx", "-(x+1)", "--x", "", "x 1", "(x", "x^2", "x)+y", "2x", "x*", "*x", "()", ")", "1.5.3", "1e", "1.5x", "1/0"] {
        assert!(Transform::parse(e).is_err(), "{e:?} should be refused");
    }
}

#[test]
fn only_a_one_character_expression_is_a_noop() {
    assert!(Transform::parse("x").unwrap().is_noop());
    assert!(Transform::parse("y").unwrap().is_noop());
    for e in ["(x)", " x", "x)", "+x"] {
        assert!(!Transform::parse(e).unwrap().is_noop(), "{e:?}");
    }
    assert_eq!(run("(x)", Kind::I32, &[5i32, -3]), vec![5, -3]);
}

#[test]
fn each_operation_truncates_on_integer_types() {
    assert_eq!(run("x/2", Kind::I32, &[0i32, 2147483647, -7, 7]), vec![0, 1073741823, -3, 3]);
    assert_eq!(run("x/2*2", Kind::I32, &[7i32, -7]), vec![6, -6]);
    assert_eq!(run("(x+1)*(x-1)/2", Kind::I32, &[0i32, 1, 2, 3, 4]), vec![0, 0, 1, 4, 7]);
}

#[test]
fn constants_fold_in_long_arithmetic_first() {
    assert_eq!(run("x*(7/2)", Kind::I32, &[1i32, 2]), vec![3, 6]);
    assert_eq!(run("x*(7/2.0)", Kind::I32, &[1i32, 2]), vec![3, 7]);
    assert_eq!(run("x+2*3-1", Kind::F64, &[0.5f64]), vec![5.5]);
}

#[test]
fn unary_minus_is_zero_minus() {
    assert_eq!(run("-x", Kind::F32, &[0.0f32, 1.5, -2.25, 1e30]), vec![0.0, -1.5, 2.25, -1e30]);
    assert!(run("-x", Kind::F64, &[0.0f64])[0].is_sign_positive());
    assert_eq!(run("-x", Kind::I16, &[-32768i16, 5]), vec![-32768, -5]);
}

#[test]
fn data_with_data_uses_the_types_own_arithmetic() {
    assert_eq!(run("x*x*x", Kind::F32, &[0.0f32, 1.5, -2.25, 1e30]), vec![0.0, 3.375, -11.390625, f32::INFINITY]);
    assert_eq!(run("x*x", Kind::U32, &[0u32, 1, 5, 4000000000]), vec![0, 1, 25, 1983905792]);
    assert_eq!(run("x/(x-x-1)", Kind::I8, &[0i8, -128, 100, 127]), vec![0, -128, -100, -127]);
}

#[test]
fn results_out_of_range_convert_as_native_machine_code_does() {
    assert_eq!(run("x*2", Kind::I32, &[0i32, 2147483647, -7, 7]), vec![0, i32::MIN, -14, 14]);
    assert_eq!(run("x/0", Kind::I32, &[0i32, 1, -1]), vec![i32::MIN; 3]);
    assert_eq!(run("x*3-10", Kind::U8, &[0u8, 1, 200, 255]), vec![246, 249, 78, 243]);
    assert_eq!(run("x*3", Kind::I8, &[0i8, -128, 100, 127]), vec![0, -128, 44, 125]);
    assert_eq!(run("-x", Kind::U32, &[0u32, 1, 5, 4000000000]), vec![0, 4294967295, 4294967291, 2147483648]);
    assert_eq!(run("x*3", Kind::U32, &[0u32, 1, 5, 4000000000]), vec![0, 3, 15, 0]);
    let big = 9223372036854775808u64;
    assert_eq!(run("-x", Kind::U64, &[0u64, 1, u64::MAX, big]), vec![0, u64::MAX, big, big]);
    assert_eq!(run("x*2", Kind::U64, &[0u64, 1, u64::MAX, big]), vec![0, 2, 0, 0]);
    assert_eq!(run("x/0", Kind::F64, &[1.0f64, -1.0]), vec![f64::INFINITY, f64::NEG_INFINITY]);
}

#[test]
fn a_constant_alone_fills() {
    assert_eq!(run("3", Kind::I32, &[1i32, 2]), vec![3, 3]);
    assert_eq!(run("2.7", Kind::I32, &[1i32]), vec![2]);
    assert_eq!(run("-1", Kind::U32, &[7u32]), vec![u32::MAX]);
    assert_eq!(run("(1+2)*0.5", Kind::F32, &[7.0f32]), vec![1.5]);
}

#[test]
fn number_forms_read_as_sscanf_does() {
    assert_eq!(run("x+.", Kind::F64, &[1.0f64]), vec![1.0]);
    assert_eq!(run("x*.5", Kind::F64, &[3.0f64]), vec![1.5]);
    assert_eq!(run("x*5.", Kind::F64, &[3.0f64]), vec![15.0]);
    assert_eq!(run("1.e1*x", Kind::F64, &[3.0f64]), vec![30.0]);
    assert_eq!(run("x*1.5e1", Kind::F64, &[2.0f64]), vec![30.0]);
    assert_eq!(run("x*2E-1", Kind::F64, &[10.0f64]), vec![2.0]);
    assert_eq!(run(".e1+x", Kind::F64, &[4.0f64]), vec![4.0]);
    assert_eq!(run("x1+1", Kind::I32, &[4i32]), vec![5]);
}

#[test]
fn parsing_stops_at_a_top_level_close_paren() {
    assert_eq!(run("x)+5", Kind::I32, &[4i32]), vec![4]);
    assert_eq!(run("x+1)$", Kind::I32, &[4i32]), vec![5]);
}

#[test]
fn integer_division_by_zero_is_an_error_not_a_trap() {
    let t = Transform::parse("x/(x-x)").unwrap();
    let mut buf = 5i32.to_ne_bytes().to_vec();
    assert!(t.apply(Kind::I32, &mut buf).is_err());
    let mut buf = i32::MIN.to_ne_bytes().to_vec();
    assert!(Transform::parse("x/(0-x/x)").unwrap().apply(Kind::I32, &mut buf).is_err());
    // Promoted narrow types have no overflow: -128 / -1 is 128, cut to -128.
    assert_eq!(run("x/(x-x-1)", Kind::I8, &[-128i8]), vec![-128]);
}

#[test]
fn every_kind_has_its_width() {
    // 64-bit integers go through double with a constant: precision is lost, as natively.
    assert_eq!(run("x+1", Kind::I64, &[i64::MAX - 1, (1 << 53) + 1, -5]), vec![i64::MIN, 1 << 53, -4]);
    assert_eq!(run("x*x", Kind::I64, &[(1i64 << 31) + 1]), vec![(1i64 << 62) + (1i64 << 32) + 1]);
    assert_eq!(run("2*x-3", Kind::U16, &[10u16, 1]), vec![17, 65535]);
    assert_eq!(run("x+1", Kind::I16, &[-2i16]), vec![-1]);
    assert_eq!(run("x*0.5", Kind::F32, &[3.0f32]), vec![1.5]);
    let mut odd = vec![0u8; 3];
    assert!(Transform::parse("x+1").unwrap().apply(Kind::I16, &mut odd).is_err());
}

#[test]
fn long_double_is_x87_extended() {
    fn ld(bits: u128) -> [u8; 16] {
        bits.to_le_bytes()
    }
    // 1.5L and 2.5L as x87 stores them; "x*x+1" gives 3.25 and 7.25, as natively.
    let mut buf: Vec<u8> = [ld(0x3fff_c000_0000_0000_0000), ld(0x4000_a000_0000_0000_0000)].concat();
    buf[10..16].copy_from_slice(&[0xaa; 6]);
    Transform::parse("x*x+1").unwrap().apply(Kind::X87, &mut buf).unwrap();
    assert_eq!(&buf[..10], &ld(0x4000_d000_0000_0000_0000)[..10]);
    assert_eq!(&buf[10..16], &[0xaa; 6], "padding is left alone");
    assert_eq!(&buf[16..26], &ld(0x4001_e800_0000_0000_0000)[..10]);
    // Data with data keeps 64 bits of significand: (2^31+1)^2 is exact in long double.
    let mut buf = ld(0x401e_8000_0001_0000_0000).to_vec();
    Transform::parse("x*x").unwrap().apply(Kind::X87, &mut buf).unwrap();
    assert_eq!(&buf[..10], &ld(0x403d_8000_0002_0000_0002)[..10]);
    // Data with a constant goes through double: the + 1 is lost.
    let mut buf = ld(0x403d_8000_0002_0000_0000).to_vec();
    Transform::parse("x+1").unwrap().apply(Kind::X87, &mut buf).unwrap();
    assert_eq!(&buf[..10], &ld(0x403d_8000_0002_0000_0000)[..10]);
}
