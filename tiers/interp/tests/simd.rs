//! v128 through the interpreter's interfaces: parameters and results of exports, calls
//! between interpreted functions, host calls and `call_indirect`, block and branch
//! values, `select`, globals and memory.

mod common;

use common::Interp;
use tierup_abi::{TrapCode, ValRaw};
use tierup_testkit::Instance;

const V: u128 = 0x0000_0004_0000_0003_0000_0002_0000_0001;
const W: u128 = 0x0000_0028_0000_001e_0000_0014_0000_000a;

fn v(x: u128) -> ValRaw {
    ValRaw::v128(x)
}

#[test]
fn v128_parameters_and_results_keep_all_128_bits() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "id") (param v128) (result v128) local.get 0)
          (func (export "swap") (param i32 v128 i64 v128) (result v128 i64 v128 i32)
            local.get 3 local.get 2 local.get 1 local.get 0))"#,
    );
    let r = i.call_cells("id", &[v(V)]).unwrap();
    assert_eq!(r[0].get_v128(), V);
    let r = i
        .call_cells("swap", &[ValRaw::i32(7), v(V), ValRaw::i64(-3), v(W)])
        .unwrap();
    assert_eq!(r[0].get_v128(), W);
    assert_eq!(r[1].get_i64(), -3);
    assert_eq!(r[2].get_v128(), V);
    assert_eq!(r[3].get_i32(), 7);
}

#[test]
fn v128_through_calls_blocks_and_branches() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (type $t (func (param v128 i32) (result v128)))
          (table 1 funcref)
          (elem (i32.const 0) $scale)
          (func $scale (type $t)
            (i32x4.mul (local.get 0) (i32x4.splat (local.get 1))))
          (func $pick (param i32 v128 v128) (result v128)
            (select (local.get 1) (local.get 2) (local.get 0)))
          (func (export "calls") (param v128 i32) (result v128)
            (call $scale (local.get 0) (local.get 1))
            (call_indirect (type $t) (local.get 1) (i32.const 0)))
          (func (export "pick") (param i32 v128 v128) (result v128)
            (call $pick (local.get 0) (local.get 1) (local.get 2)))
          (func (export "blocks") (param v128 i32) (result v128 i32)
            (local $acc v128)
            (local.set $acc (local.get 0))
            (block $out (result v128 i32)
              (local.get $acc)
              (loop $l (param v128) (result v128)
                (local.tee $acc (i32x4.add (v128.const i32x4 1 1 1 1)))
                (br_if $l (i32.gt_s (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))
                                    (i32.const 0))))
              (i32.const 99)
              (br_if $out (i32.eqz (local.get 1)))
              (drop) (drop)
              (local.get 0) (i32.const -1)))
          (func (export "ifs") (param i32 v128) (result v128)
            (local.get 1)
            (if (param v128) (result v128) (local.get 0)
              (then (v128.not))
              (else (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0
                       (local.get 1)))))
          (func (export "table") (param i32 v128) (result v128 i32)
            (block $a (result v128 i32)
              (block $b (result v128 i32)
                (local.get 1) (i32.const 5)
                (br_table $a $b (local.get 0)))
              (drop) (i32x4.neg) (i32.const 6))))"#,
    );
    let r = i.call_cells("calls", &[v(V), ValRaw::i32(3)]).unwrap();
    assert_eq!(r[0].get_v128(), 0x0000_0024_0000_001b_0000_0012_0000_0009);
    let r = i.call_cells("pick", &[ValRaw::i32(1), v(V), v(W)]).unwrap();
    assert_eq!(r[0].get_v128(), V);
    let r = i.call_cells("pick", &[ValRaw::i32(0), v(V), v(W)]).unwrap();
    assert_eq!(r[0].get_v128(), W);
    let r = i.call_cells("blocks", &[v(V), ValRaw::i32(3)]).unwrap();
    assert_eq!(
        r[0].get_v128(),
        V + 0x0000_0003_0000_0003_0000_0003_0000_0003
    );
    assert_eq!(r[1].get_i32(), 99);
    let r = i.call_cells("ifs", &[ValRaw::i32(1), v(V)]).unwrap();
    assert_eq!(r[0].get_v128(), !V);
    let r = i.call_cells("ifs", &[ValRaw::i32(0), v(V)]).unwrap();
    assert_eq!(r[0].get_v128(), V.swap_bytes());
    let r = i.call_cells("table", &[ValRaw::i32(0), v(V)]).unwrap();
    assert_eq!((r[0].get_v128(), r[1].get_i32()), (V, 5));
    let r = i.call_cells("table", &[ValRaw::i32(1), v(V)]).unwrap();
    assert_eq!(r[0].get_v128(), 0xffff_fffc_ffff_fffd_ffff_fffe_ffff_ffff);
    assert_eq!(r[1].get_i32(), 6);
}

#[test]
fn v128_globals_and_memory() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (global $g (mut v128) (v128.const i64x2 0 0))
          (func (export "swap_global") (param v128) (result v128)
            (global.get $g) (global.set $g (local.get 0)))
          (func (export "store_load") (param i32 v128) (result v128 i32)
            (v128.store offset=1 (local.get 0) (local.get 1))
            (v128.load (local.get 0))
            (i32.load8_u offset=13 (local.get 0))))"#,
    );
    assert_eq!(
        i.call_cells("swap_global", &[v(V)]).unwrap()[0].get_v128(),
        0
    );
    assert_eq!(
        i.call_cells("swap_global", &[v(W)]).unwrap()[0].get_v128(),
        V
    );
    let r = i.call_cells("store_load", &[ValRaw::i32(8), v(V)]).unwrap();
    assert_eq!(r[0].get_v128(), V << 8);
    assert_eq!(r[1].get_i32(), 4);
    let t = i
        .call_cells("store_load", &[ValRaw::i32(65_520), v(V)])
        .unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
}

/// Host import `(param i32 v128) (result v128 i32)`: returns `v + splat(n)` and `2 * n`.
///
/// # Safety
///
/// As for an array entry: `args` has two cells.
unsafe extern "sysv64" fn host_v128(
    _callee: *const tierup_abi::FuncEntry,
    _code: *const tierup_abi::FuncCode,
    _caller: *mut tierup_abi::VmContext,
    args: *mut ValRaw,
) -> u32 {
    // SAFETY: the interpreter passes two cells for this signature.
    unsafe {
        let n = (*args).get_i32() as u32;
        let x = (*args.add(1)).get_v128();
        let splat = (0..4).fold(0u128, |acc, k| acc | ((n as u128) << (32 * k)));
        *args = ValRaw::v128(x.wrapping_add(splat));
        *args.add(1) = ValRaw::i32(2 * n as i32);
        tierup_abi::STATUS_OK
    }
}

#[test]
fn v128_through_host_calls() {
    let mut i = Instance::with_host(
        Interp::default(),
        r#"(module
          (import "env" "h" (func $h (param i32 v128) (result v128 i32)))
          (func (export "f") (param v128) (result v128 i32)
            (local i64)
            (call $h (i32.const 1) (local.get 0))))"#,
        host_v128,
    );
    let r = i.call_cells("f", &[v(V)]).unwrap();
    assert_eq!(
        r[0].get_v128(),
        V + 0x0000_0001_0000_0001_0000_0001_0000_0001
    );
    assert_eq!(r[1].get_i32(), 2);
}

#[test]
fn v128_local_hazards_and_mixed_width_copies() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "swap") (param v128 v128) (result v128 v128)
            local.get 0 local.get 1 local.set 0 local.set 1
            local.get 0 local.get 1)
          (func (export "acc") (param v128 v128) (result v128)
            (local.set 0 (i32x4.add (local.get 1) (local.get 0)))
            (local.set 0 (i32x4.sub (local.get 0) (local.tee 1 (local.get 0))))
            (i32x4.add (local.get 0) (local.get 1)))
          (func (export "merge") (param i32 v128 i64) (result i64 v128 i32)
            (block $b (result i64 v128 i32)
              (local.get 2) (local.get 1) (local.get 0)
              (br_if $b (local.get 0))
              (drop) (drop) (drop)
              (i64.const 7) (v128.const i32x4 7 7 7 7) (i32.const 7))))"#,
    );
    let r = i.call_cells("swap", &[v(V), v(W)]).unwrap();
    assert_eq!((r[0].get_v128(), r[1].get_v128()), (W, V));
    // l0 = V + W; then l1 = l0 and l0 = l0 - l0 = 0; result 0 + (V + W).
    let r = i.call_cells("acc", &[v(V), v(W)]).unwrap();
    assert_eq!(r[0].get_v128(), V + W);
    let r = i
        .call_cells("merge", &[ValRaw::i32(1), v(V), ValRaw::i64(-2)])
        .unwrap();
    assert_eq!(
        (r[0].get_i64(), r[1].get_v128(), r[2].get_i32()),
        (-2, V, 1)
    );
    let r = i
        .call_cells("merge", &[ValRaw::i32(0), v(V), ValRaw::i64(-2)])
        .unwrap();
    assert_eq!(r[0].get_i64(), 7);
    assert_eq!(r[1].get_v128(), 0x0000_0007_0000_0007_0000_0007_0000_0007);
    assert_eq!(r[2].get_i32(), 7);
}
