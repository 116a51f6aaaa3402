//! The register convention of `tierup_optimizing::register_signature` is the one
//! `tierup_abi::regcall` describes and the one Rust's `extern "sysv64"` uses: CLIF callers
//! call Rust functions of the same signature, Rust calls CLIF callees, and hand-assembled
//! probes read each argument where `regcall::locate` says it lies. The parameter lists run
//! out of both register classes and put `v128`s on the stack.
//!
//! `__m128i` is C's vector type, which the System V ABI passes in an `xmm` register or
//! 16-aligned on the stack; rustc warns that Rust does not promise its layout, and these
//! tests check what it does.
#![allow(improper_ctypes_definitions)]

mod common;

use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_storeu_si128};
use std::sync::Mutex;

use common::Code;
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    self, AbiParam, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, UserFuncName, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use tierup_abi::regcall::{Loc, locate};
use tierup_optimizing::{Optimizing, clif_type, register_signature};
use wasmparser::ValType::{self, F32, F64, I32, I64, V128};

/// Many parameters of every type: six integer registers, eight xmm registers and the stack.
const PARAMS: [ValType; 20] = [
    I32, F64, I64, V128, F32, I64, I32, I64, V128, F64, F32, I32, F64, F64, F32, F64, V128, I64,
    V128, I32,
];
/// Parameters and results of the multi-result case.
const MULTI_PARAMS: [ValType; 5] = [F32, I64, V128, I32, F64];
const MULTI_RESULTS: [ValType; 4] = [I32, F64, V128, I64];

/// A distinct bit pattern for value `i` of type `ty` (as the cell would hold it).
fn value(ty: ValType, i: usize) -> u128 {
    let i = i as u64 + 1;
    match ty {
        I32 => u128::from(0x1000_0000u32 + i as u32),
        I64 => u128::from(0x0123_0000_0000_0000u64 | i << 8 | i),
        F32 => u128::from((i as f32 + 0.5).to_bits()),
        F64 => u128::from((i as f64 * 1.5e10).to_bits()),
        V128 => u128::from_le_bytes(core::array::from_fn(|b| (i as u8) << 4 | b as u8)),
        _ => unreachable!(),
    }
}

fn v128(bits: u128) -> __m128i {
    // SAFETY: an unaligned load of 16 bytes.
    unsafe { _mm_loadu_si128(bits.to_le_bytes().as_ptr().cast()) }
}

fn bits(v: __m128i) -> u128 {
    let mut b = [0u8; 16];
    // SAFETY: an unaligned store of 16 bytes.
    unsafe { _mm_storeu_si128(b.as_mut_ptr().cast(), v) };
    u128::from_le_bytes(b)
}

/// The Rust type of a register entry with `PARAMS` and one `i64` result.
type Many = unsafe extern "sysv64" fn(
    *const u8,
    *mut u8,
    i32,
    f64,
    i64,
    __m128i,
    f32,
    i64,
    i32,
    i64,
    __m128i,
    f64,
    f32,
    i32,
    f64,
    f64,
    f32,
    f64,
    __m128i,
    i64,
    __m128i,
    i32,
) -> i64;

/// The Rust type of a register entry with `MULTI_PARAMS` and `MULTI_RESULTS`.
type Multi =
    unsafe extern "sysv64" fn(*const u8, *mut u8, *mut [u128; 4], f32, i64, __m128i, i32, f64);

static SEEN: Mutex<Vec<u128>> = Mutex::new(Vec::new());

#[allow(clippy::too_many_arguments)]
unsafe extern "sysv64" fn rust_many(
    callee: *const u8,
    caller: *mut u8,
    a0: i32,
    a1: f64,
    a2: i64,
    a3: __m128i,
    a4: f32,
    a5: i64,
    a6: i32,
    a7: i64,
    a8: __m128i,
    a9: f64,
    a10: f32,
    a11: i32,
    a12: f64,
    a13: f64,
    a14: f32,
    a15: f64,
    a16: __m128i,
    a17: i64,
    a18: __m128i,
    a19: i32,
) -> i64 {
    let mut seen = SEEN.lock().unwrap();
    seen.clear();
    seen.extend([callee as u128, caller as u128]);
    seen.extend([
        u128::from(a0 as u32),
        u128::from(a1.to_bits()),
        u128::from(a2 as u64),
        bits(a3),
        u128::from(a4.to_bits()),
        u128::from(a5 as u64),
        u128::from(a6 as u32),
        u128::from(a7 as u64),
        bits(a8),
        u128::from(a9.to_bits()),
        u128::from(a10.to_bits()),
        u128::from(a11 as u32),
        u128::from(a12.to_bits()),
        u128::from(a13.to_bits()),
        u128::from(a14.to_bits()),
        u128::from(a15.to_bits()),
        bits(a16),
        u128::from(a17 as u64),
        bits(a18),
        u128::from(a19 as u32),
    ]);
    -77
}

#[allow(clippy::too_many_arguments)]
unsafe extern "sysv64" fn rust_multi(
    callee: *const u8,
    caller: *mut u8,
    results: *mut [u128; 4],
    a0: f32,
    a1: i64,
    a2: __m128i,
    a3: i32,
    a4: f64,
) {
    let mut seen = SEEN.lock().unwrap();
    seen.clear();
    seen.extend([callee as u128, caller as u128]);
    seen.extend([
        u128::from(a0.to_bits()),
        u128::from(a1 as u64),
        bits(a2),
        u128::from(a3 as u32),
        u128::from(a4.to_bits()),
    ]);
    let r: [u128; 4] = core::array::from_fn(|i| value(MULTI_RESULTS[i], 100 + i));
    // SAFETY: the caller passes four cells.
    unsafe { *results = r };
}

/// A constant of type `ty` with `value(ty, i)`.
fn constant(b: &mut FunctionBuilder, ty: ValType, i: usize) -> ir::Value {
    let v = value(ty, i);
    match ty {
        I32 => b.ins().iconst(types::I32, v as u32 as i64),
        I64 => b.ins().iconst(types::I64, v as u64 as i64),
        F32 => b.ins().f32const(Ieee32::with_bits(v as u32)),
        F64 => b.ins().f64const(Ieee64::with_bits(v as u64)),
        V128 => {
            let c = b.func.dfg.constants.insert(v.to_le_bytes().to_vec().into());
            b.ins().vconst(types::I8X16, c)
        }
        _ => unreachable!(),
    }
}

/// A CLIF function `fn(target, out)` that calls `target` by the register convention with
/// the constants of `params`, callee 0x5107 and caller 0xca11, and stores the results into
/// `out` (16 bytes each).
fn caller(params: &[ValType], results: &[ValType]) -> ir::Function {
    let mut sig = ir::Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 2]);
    let mut func = ir::Function::with_name_signature(UserFuncName::user(9, 0), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let (target, out) = (b.block_params(entry)[0], b.block_params(entry)[1]);
    let mut args = vec![
        b.ins().iconst(types::I64, 0x5107),
        b.ins().iconst(types::I64, 0xca11),
    ];
    let area = (results.len() > 1).then(|| {
        b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            16 * results.len() as u32,
            4,
        ))
    });
    if let Some(area) = area {
        args.push(b.ins().stack_addr(types::I64, area, 0));
    }
    for (i, &ty) in params.iter().enumerate() {
        args.push(constant(&mut b, ty, i));
    }
    let sigref = b.import_signature(register_signature(params, results));
    let call = b.ins().call_indirect(sigref, target, &args);
    let values: Vec<ir::Value> = match area {
        None => b.inst_results(call).to_vec(),
        Some(area) => results
            .iter()
            .enumerate()
            .map(|(i, &ty)| {
                b.ins()
                    .stack_load(types::I64, clif_type(ty), area, 16 * i as i32)
            })
            .collect(),
    };
    for (i, v) in values.into_iter().enumerate() {
        b.ins()
            .store(MemFlagsData::trusted(), v, out, 16 * i as i32);
    }
    b.ins().return_(&[]);
    b.finalize(Optimizing::new().unwrap().isa().frontend_config());
    func
}

/// A CLIF register entry of type `params -> results` that stores its callee, caller and
/// parameters into the cells at `caller` (the test passes a buffer as the context) and
/// returns the constants of `results` (indices from 100).
fn callee(params: &[ValType], results: &[ValType]) -> ir::Function {
    let mut func = ir::Function::with_name_signature(
        UserFuncName::user(9, 1),
        register_signature(params, results),
    );
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let values = b.block_params(entry).to_vec();
    let buffer = values[1];
    let (area, wasm) = if results.len() > 1 {
        (Some(values[2]), &values[3..])
    } else {
        (None, &values[2..])
    };
    let mut stored = vec![values[0], values[1]];
    stored.extend_from_slice(wasm);
    for (i, &v) in stored.iter().enumerate() {
        b.ins()
            .store(MemFlagsData::trusted(), v, buffer, 16 * i as i32);
    }
    let out: Vec<ir::Value> = results
        .iter()
        .enumerate()
        .map(|(i, &ty)| constant(&mut b, ty, 100 + i))
        .collect();
    match area {
        Some(area) => {
            for (i, &v) in out.iter().enumerate() {
                b.ins()
                    .store(MemFlagsData::trusted(), v, area, 16 * i as i32);
            }
            b.ins().return_(&[]);
        }
        None => {
            b.ins().return_(&out);
        }
    }
    b.finalize(Optimizing::new().unwrap().isa().frontend_config());
    func
}

/// Masks a cell to the width of `ty` (stores leave the rest of a cell as it was).
fn masked(ty: ValType, cell: u128) -> u128 {
    match ty {
        I32 | F32 => cell & 0xffff_ffff,
        I64 | F64 => cell & 0xffff_ffff_ffff_ffff,
        _ => cell,
    }
}

fn expected(params: &[ValType]) -> Vec<u128> {
    let mut e = vec![0x5107, 0xca11];
    e.extend(params.iter().enumerate().map(|(i, &t)| value(t, i)));
    e
}

#[test]
fn the_layout_runs_out_of_registers() {
    let l = locate(&PARAMS, &[I64]);
    assert!(l.params.iter().any(|p| matches!(p, Loc::Stack(_))));
    assert!(l.params.contains(&Loc::Gpr(5)) && l.params.contains(&Loc::Xmm(7)));
    let v128_on_stack = l
        .params
        .iter()
        .zip(PARAMS)
        .filter(|(p, t)| matches!(p, Loc::Stack(_)) && *t == V128)
        .count();
    assert_eq!(v128_on_stack, 2);
}

#[test]
fn clif_calls_rust() {
    let tier = Optimizing::new().unwrap();
    let code = Code::load(tier.compile_clif(caller(&PARAMS, &[I64])).unwrap());
    let f: unsafe extern "sysv64" fn(usize, *mut u128) =
        // SAFETY: the caller's signature.
        unsafe { core::mem::transmute(code.at(code.code.register_entry)) };
    let mut out = [0u128; 1];
    // SAFETY: `rust_many` has the register signature of PARAMS -> i64.
    unsafe { f(rust_many as *const () as usize, out.as_mut_ptr()) };
    assert_eq!(*SEEN.lock().unwrap(), expected(&PARAMS));
    assert_eq!(out[0] as u64 as i64, -77);

    let code = Code::load(
        tier.compile_clif(caller(&MULTI_PARAMS, &MULTI_RESULTS))
            .unwrap(),
    );
    let f: unsafe extern "sysv64" fn(usize, *mut u128) =
        // SAFETY: the caller's signature.
        unsafe { core::mem::transmute(code.at(code.code.register_entry)) };
    let mut out = [0u128; 4];
    // SAFETY: `rust_multi` has the register signature of the multi case.
    unsafe { f(rust_multi as *const () as usize, out.as_mut_ptr()) };
    assert_eq!(*SEEN.lock().unwrap(), expected(&MULTI_PARAMS));
    for (i, &ty) in MULTI_RESULTS.iter().enumerate() {
        assert_eq!(masked(ty, out[i]), value(ty, 100 + i), "result {i}");
    }
}

#[test]
fn rust_calls_clif() {
    let tier = Optimizing::new().unwrap();
    let code = Code::load(tier.compile_clif(callee(&PARAMS, &[I64])).unwrap());
    // SAFETY: the callee has the register signature of PARAMS -> i64.
    let f: Many = unsafe { core::mem::transmute(code.at(code.code.register_entry)) };
    let mut buffer = [0u128; 22];
    let p = |i: usize| value(PARAMS[i], i);
    // SAFETY: the callee writes 22 cells of `buffer`.
    let r = unsafe {
        f(
            0x5107 as *const u8,
            buffer.as_mut_ptr().cast(),
            p(0) as i32,
            f64::from_bits(p(1) as u64),
            p(2) as i64,
            v128(p(3)),
            f32::from_bits(p(4) as u32),
            p(5) as i64,
            p(6) as i32,
            p(7) as i64,
            v128(p(8)),
            f64::from_bits(p(9) as u64),
            f32::from_bits(p(10) as u32),
            p(11) as i32,
            f64::from_bits(p(12) as u64),
            f64::from_bits(p(13) as u64),
            f32::from_bits(p(14) as u32),
            f64::from_bits(p(15) as u64),
            v128(p(16)),
            p(17) as i64,
            v128(p(18)),
            p(19) as i32,
        )
    };
    let types: Vec<ValType> = [I64, I64].into_iter().chain(PARAMS).collect();
    let got: Vec<u128> = buffer
        .iter()
        .zip(&types)
        .map(|(&c, &t)| masked(t, c))
        .collect();
    let mut want = expected(&PARAMS);
    want[1] = buffer.as_ptr() as u128;
    assert_eq!(got, want);
    assert_eq!(r as u64 as u128, value(I64, 100));

    let code = Code::load(
        tier.compile_clif(callee(&MULTI_PARAMS, &MULTI_RESULTS))
            .unwrap(),
    );
    // SAFETY: the callee has the register signature of the multi case.
    let f: Multi = unsafe { core::mem::transmute(code.at(code.code.register_entry)) };
    let mut buffer = [0u128; 7];
    let mut results = [0u128; 4];
    let p = |i: usize| value(MULTI_PARAMS[i], i);
    // SAFETY: as above, with four result cells.
    unsafe {
        f(
            0x5107 as *const u8,
            buffer.as_mut_ptr().cast(),
            &mut results,
            f32::from_bits(p(0) as u32),
            p(1) as i64,
            v128(p(2)),
            p(3) as i32,
            f64::from_bits(p(4) as u64),
        )
    };
    let types: Vec<ValType> = [I64, I64].into_iter().chain(MULTI_PARAMS).collect();
    let got: Vec<u128> = buffer
        .iter()
        .zip(&types)
        .map(|(&c, &t)| masked(t, c))
        .collect();
    let mut want = expected(&MULTI_PARAMS);
    want[1] = buffer.as_ptr() as u128;
    assert_eq!(got, want);
    for (i, &ty) in MULTI_RESULTS.iter().enumerate() {
        assert_eq!(masked(ty, results[i]), value(ty, 100 + i), "result {i}");
    }
}

/// Machine code that returns in `rax` the low 64 bits of what lies at `loc`.
fn probe(loc: Loc) -> Vec<u8> {
    let mut code = match loc {
        Loc::Gpr(n) => {
            let reg = tierup_abi::regcall::ARG_GPRS[n as usize];
            // mov rax, reg
            vec![0x48 | (reg >> 3) << 2, 0x89, 0xc0 | (reg & 7) << 3]
        }
        // movq rax, xmmN
        Loc::Xmm(n) => vec![0x66, 0x48, 0x0f, 0x7e, 0xc0 | n << 3],
        // mov rax, [rsp + 8 + off] (past the return address)
        Loc::Stack(off) => {
            let mut c = vec![0x48, 0x8b, 0x84, 0x24];
            c.extend_from_slice(&(off + 8).to_le_bytes());
            c
        }
        other => panic!("not an argument location: {other:?}"),
    };
    code.push(0xc3);
    code
}

#[test]
fn arguments_lie_where_locate_says() {
    let layout = locate(&PARAMS, &[I64]);
    let mut locs = vec![layout.callee, layout.caller];
    locs.extend(&layout.params);
    let p = |i: usize| value(PARAMS[i], i);
    for (k, &loc) in locs.iter().enumerate() {
        let code = Code::load(tierup_abi::MachineCode {
            bytes: probe(loc),
            align: 1,
            ..Default::default()
        });
        // SAFETY: the probe only reads an argument location and returns.
        let f: Many = unsafe { core::mem::transmute(code.at(0)) };
        // SAFETY: as above.
        let got = unsafe {
            f(
                0x5107 as *const u8,
                0xca11 as *mut u8,
                p(0) as i32,
                f64::from_bits(p(1) as u64),
                p(2) as i64,
                v128(p(3)),
                f32::from_bits(p(4) as u32),
                p(5) as i64,
                p(6) as i32,
                p(7) as i64,
                v128(p(8)),
                f64::from_bits(p(9) as u64),
                f32::from_bits(p(10) as u32),
                p(11) as i32,
                f64::from_bits(p(12) as u64),
                f64::from_bits(p(13) as u64),
                f32::from_bits(p(14) as u32),
                f64::from_bits(p(15) as u64),
                v128(p(16)),
                p(17) as i64,
                v128(p(18)),
                p(19) as i32,
            )
        };
        let want = expected(&PARAMS)[k];
        let ty = if k < 2 { I64 } else { PARAMS[k - 2] };
        // Only the low bits of an i32 or f32 argument are defined.
        let got = masked(ty, got as u64 as u128);
        assert_eq!(
            got,
            masked(ty, want & u128::from(u64::MAX)),
            "argument {k} at {loc:?}"
        );
    }
    // With two or more results, the area pointer takes the third integer register.
    let multi = locate(&MULTI_PARAMS, &MULTI_RESULTS);
    assert_eq!(multi.results_area, Some(Loc::Gpr(2)));
    let code = Code::load(tierup_abi::MachineCode {
        bytes: probe(Loc::Gpr(2)),
        align: 1,
        ..Default::default()
    });
    let f: unsafe extern "sysv64" fn(*const u8, *mut u8, *mut [u128; 4], f32, i64, __m128i, i32, f64) -> u64 =
        // SAFETY: the probe only reads rdx.
        unsafe { core::mem::transmute(code.at(0)) };
    let mut results = [0u128; 4];
    // SAFETY: as above.
    let got = unsafe {
        f(
            std::ptr::null(),
            std::ptr::null_mut(),
            &mut results,
            0.0,
            0,
            v128(0),
            0,
            0.0,
        )
    };
    assert_eq!(got, results.as_ptr() as u64);
}
