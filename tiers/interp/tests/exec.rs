//! Runs small modules through the interpreter's array entry on an instance of the test
//! kit: arithmetic, loops, block results, `br_table`, recursion, calls, memory and traps.

mod common;

use common::Interp;
use tierup_abi::TrapCode;
use tierup_testkit::Instance;

#[test]
fn arithmetic_and_locals() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
          (func (export "mix") (param i64) (result i64) (local i64)
            local.get 0 i64.const 3 i64.mul local.set 1
            local.get 1 local.get 0 i64.sub)
          (func (export "swap") (param i32 i32) (result i32 i32) local.get 1 local.get 0)
          (func (export "tee") (param i32) (result i32)
            local.get 0 local.get 0 i32.const 1 i32.add local.tee 0 i32.mul)
          (func (export "fmin") (param f32 f32) (result f32) local.get 0 local.get 1 f32.min))"#,
    );
    assert_eq!(i.i32("add", &[2, 40]), 42);
    assert_eq!(i.i32("add", &[u32::MAX as u64, 1]), 0);
    assert_eq!(i.i64("mix", &[5]), 10);
    assert_eq!(i.call("swap", &[1, 2]).unwrap(), vec![2, 1]);
    assert_eq!(i.i32("tee", &[4]), 20);
    let r = i
        .call("fmin", &[0f32.to_bits() as u64, (-0f32).to_bits() as u64])
        .unwrap();
    assert_eq!(r[0] as u32, (-0f32).to_bits());
}

#[test]
fn loops_blocks_and_branches() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "sum") (param i32) (result i32) (local i32)
            block
              loop
                local.get 0 i32.eqz br_if 1
                local.get 1 local.get 0 i32.add local.set 1
                local.get 0 i32.const 1 i32.sub local.set 0
                br 0
              end
            end
            local.get 1)
          (func (export "blockres") (param i32) (result i32)
            block (result i32)
              i32.const 10
              local.get 0
              br_if 0
              drop
              i32.const 20
            end
            i32.const 1 i32.add)
          (func (export "ifelse") (param i32) (result i32)
            local.get 0 i32.const 5 i32.lt_s
            if (result i32) i32.const 1 else i32.const 2 end)
          (func (export "ifparam") (param i32 i32) (result i32)
            local.get 1
            local.get 0
            if (param i32) (result i32) i32.const 100 i32.add else i32.const 200 i32.add end)
          (func (export "loopparam") (param i32) (result i32)
            i32.const 0
            loop (param i32) (result i32)
              local.get 0 i32.add
              local.get 0 i32.const 1 i32.sub local.tee 0
              br_if 0
            end)
          (func (export "table") (param i32) (result i32)
            block block block
              local.get 0 br_table 0 1 2
            end i32.const 100 return
            end i32.const 101 return
            end i32.const 102)
          (func (export "tablevals") (param i32) (result i32)
            block (result i32)
              block (result i32)
                i32.const 7 local.get 0 br_table 0 1 0
              end
              i32.const 1 i32.add
            end))"#,
    );
    assert_eq!(i.i32("sum", &[100]), 5050);
    assert_eq!(i.i32("blockres", &[1]), 11);
    assert_eq!(i.i32("blockres", &[0]), 21);
    assert_eq!(i.i32("ifelse", &[3]), 1);
    assert_eq!(i.i32("ifelse", &[7]), 2);
    assert_eq!(i.i32("ifparam", &[1, 5]), 105);
    assert_eq!(i.i32("ifparam", &[0, 5]), 205);
    assert_eq!(i.i32("loopparam", &[4]), 10);
    assert_eq!(i.i32("table", &[0]), 100);
    assert_eq!(i.i32("table", &[1]), 101);
    assert_eq!(i.i32("table", &[2]), 102);
    assert_eq!(i.i32("table", &[99]), 102);
    assert_eq!(i.i32("tablevals", &[0]), 8);
    assert_eq!(i.i32("tablevals", &[1]), 7);
    assert_eq!(i.i32("tablevals", &[5]), 8);
}

#[test]
fn calls_and_recursion() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (type $ii (func (param i32) (result i32)))
          (table 6 funcref)
          (elem (i32.const 0) $fib $double $indirect $deep $inf)
          (func $fib (export "fib") (param i32) (result i32)
            local.get 0 i32.const 2 i32.lt_u
            if (result i32) local.get 0
            else
              local.get 0 i32.const 1 i32.sub call $fib
              local.get 0 i32.const 2 i32.sub call $fib
              i32.add
            end)
          (func $double (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
          (func $indirect (export "indirect") (param i32 i32) (result i32)
            local.get 1 local.get 0 call_indirect (type $ii))
          (func $deep (export "deep") (param i32) (result i32)
            local.get 0 call 3)
          (func $inf (param i32) (result i32) local.get 0 call $inf))"#,
    );
    assert_eq!(i.i32("fib", &[20]), 6765);
    assert_eq!(i.i32("indirect", &[1, 21]), 42);
    assert_eq!(i.i32("indirect", &[0, 10]), 55);
    let t = i.call("indirect", &[2, 1]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::IndirectCallTypeMismatch));
    let t = i.call("indirect", &[5, 1]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::UninitializedElement));
    let t = i.call("indirect", &[6, 1]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::UndefinedElement));
    let t = i.call("deep", &[1]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::StackOverflow));
    assert_eq!(i.i32("fib", &[10]), 55, "usable after a stack overflow");
}

#[test]
fn memory_and_traps() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (global $g (mut i32) (i32.const 5))
          (func (export "store_load") (param i32 i64) (result i64)
            local.get 0 local.get 1 i64.store offset=3
            local.get 0 i64.load8_s offset=3)
          (func (export "fill") (param i32 i32 i32) (result i32)
            local.get 0 local.get 1 local.get 2 memory.fill
            local.get 0 i32.load)
          (func (export "glob") (result i32)
            global.get $g i32.const 1 i32.add global.set $g global.get $g)
          (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
          (func (export "trunc") (param f64) (result i32) local.get 0 i32.trunc_f64_s)
          (func (export "unreachable") (result i32) nop unreachable)
          (func (export "size") (result i32) memory.size))"#,
    );
    assert_eq!(i.i64("store_load", &[10, 0x1ff]), -1);
    assert_eq!(i.i32("fill", &[100, 0xab, 4]), 0xabababab_u32 as i32);
    assert_eq!(i.i32("glob", &[]), 6);
    assert_eq!(i.i32("glob", &[]), 7);
    assert_eq!(i.i32("size", &[]), 1);
    let t = i.call("store_load", &[65530, 1]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(t.frames.len(), 1);
    let t = i.call("fill", &[65535, 0, 2]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::MemoryOutOfBounds));
    let t = i.call("div", &[1, 0]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::IntegerDivideByZero));
    let t = i
        .call("div", &[i32::MIN as u32 as u64, u32::MAX as u64])
        .unwrap_err();
    assert_eq!(t.code, Some(TrapCode::IntegerOverflow));
    let t = i.call("trunc", &[f64::NAN.to_bits()]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::BadConversionToInteger));
    let t = i.call("unreachable", &[]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::Unreachable));
    assert_eq!(t.frames[0].func_index, 5);
}

/// The host import of `reentry`: `host(n)` returns `n == 0 ? 0 : down(n - 1) + 1`, calling
/// back into the wasm export `down` (function 1) of the calling instance.
///
/// # Safety
///
/// As for an array entry: `caller` is a valid context and `args` has one cell.
unsafe extern "sysv64" fn host_reenter(
    _callee: *const tierup_abi::FuncEntry,
    _code: *const tierup_abi::FuncCode,
    caller: *mut tierup_abi::VmContext,
    args: *mut tierup_abi::ValRaw,
) -> u32 {
    // SAFETY: the interpreter passes one argument cell and its own valid context.
    unsafe {
        let n = (*args).get_i32();
        if n == 0 {
            *args = tierup_abi::ValRaw::i32(0);
            return tierup_abi::STATUS_OK;
        }
        let mut cell = [tierup_abi::ValRaw::i32(n - 1)];
        let down = *(*caller).func_refs.add(1);
        let status = tierup_abi::FuncEntry::call(down, caller, cell.as_mut_ptr());
        if status != tierup_abi::STATUS_OK {
            return status;
        }
        *args = tierup_abi::ValRaw::i32(cell[0].get_i32() + 1);
        tierup_abi::STATUS_OK
    }
}

#[test]
fn host_calls_reenter_the_interpreter() {
    let mut i = Instance::with_host(
        Interp::default(),
        r#"(module
          (import "env" "host" (func $host (param i32) (result i32)))
          (func (export "down") (param i32) (result i32)
            (i32.add (i32.const 1000) (call $host (local.get 0)))
            i32.const 1000 i32.sub))"#,
        host_reenter,
    );
    assert_eq!(i.i32("down", &[0]), 0);
    assert_eq!(i.i32("down", &[50]), 50);
    // Nesting beyond the limit traps instead of exhausting the host stack.
    let t = i.call("down", &[100_000]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::StackOverflow));
    assert!(t.frames.len() > 100, "every unwound frame is reported");
    assert_eq!(i.i32("down", &[10]), 10, "usable after the overflow");
}

#[test]
fn interp_func_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<tierup_interp::InterpFunc>();
}

#[test]
fn operand_folding_hazards() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          ;; A pending `local.get 0` must keep the old value across `local.set 0`.
          (func (export "pending") (param i32) (result i32)
            local.get 0
            i32.const 7 local.set 0
            local.get 0 i32.sub)
          ;; ... also when the set happens inside a nested block on one path only.
          (func (export "nested") (param i32 i32) (result i32)
            local.get 0
            local.get 1
            if i32.const 100 local.set 0 end
            local.get 0 i32.add)
          ;; `br_if` carrying a value that must be copied (branch-around).
          (func (export "brif_copy") (param i32) (result i32)
            block (result i32)
              i32.const 5
              i32.const 9 local.get 0 br_if 0
              i32.add
            end)
          ;; Fused compare in `if` after copies of pending locals.
          (func (export "fused_if") (param i32 i32) (result i32)
            local.get 1
            local.get 0 i32.const 3 i32.gt_s
            if (param i32) (result i32) i32.const 1 i32.add else i32.const 2 i32.add end)
          ;; Returning locals in swapped order, and a conditional multi-value return.
          (func (export "swap_ret") (param i32 i32) (result i32 i32)
            local.get 1 local.get 0
            local.get 0 i32.const 0 i32.ne
            br_if 0
            drop drop
            i32.const 8 i32.const 9)
          (func (export "select") (param i32) (result i64)
            i64.const 11 i64.const 22 local.get 0 select)
          ;; Float compares that are false for NaN must not be inverted.
          (func (export "nan_branch") (param f32) (result i32)
            local.get 0 local.get 0 f32.lt
            if (result i32) i32.const 1 else i32.const 0 end
            block (result i32) i32.const 5 local.get 0 local.get 0 f32.ge br_if 0 drop i32.const 6 end
            i32.add))"#,
    );
    assert_eq!(i.i32("pending", &[10]), 3);
    assert_eq!(i.i32("nested", &[1, 0]), 2);
    assert_eq!(i.i32("nested", &[1, 1]), 101);
    assert_eq!(i.i32("brif_copy", &[1]), 9);
    assert_eq!(i.i32("brif_copy", &[0]), 14);
    assert_eq!(i.i32("fused_if", &[5, 10]), 11);
    assert_eq!(i.i32("fused_if", &[2, 10]), 12);
    assert_eq!(i.call("swap_ret", &[1, 2]).unwrap(), vec![2, 1]);
    assert_eq!(i.call("swap_ret", &[0, 2]).unwrap(), vec![8, 9]);
    assert_eq!(i.i64("select", &[1]), 11);
    assert_eq!(i.i64("select", &[0]), 22);
    assert_eq!(i.i32("nan_branch", &[f32::NAN.to_bits() as u64]), 6);
    assert_eq!(i.i32("nan_branch", &[1f32.to_bits() as u64]), 5);
}

#[test]
fn compares_with_constants() {
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "ltu_m1") (param i32) (result i32)
            block local.get 0 i32.const -1 i32.lt_u br_if 0 i32.const 0 return end i32.const 1)
          (func (export "gts_big") (param i32) (result i32)
            local.get 0 i32.const 40000 i32.gt_s if (result i32) i32.const 1 else i32.const 0 end)
          (func (export "i64_ge") (param i64) (result i32)
            local.get 0 i64.const -3 i64.ge_s if (result i32) i32.const 1 else i32.const 0 end)
          (func (export "count") (param i32) (result i32) (local i32)
            loop
              local.get 1 i32.const 1 i32.add local.set 1
              local.get 1 i32.const 1000 i32.lt_s br_if 0
            end
            local.get 1))"#,
    );
    assert_eq!(i.i32("ltu_m1", &[5]), 1);
    assert_eq!(i.i32("ltu_m1", &[u32::MAX as u64]), 0);
    assert_eq!(i.i32("gts_big", &[40001]), 1);
    assert_eq!(i.i32("gts_big", &[40000]), 0);
    assert_eq!(i.i32("i64_ge", &[(-3i64) as u64]), 1);
    assert_eq!(i.i32("i64_ge", &[(-4i64) as u64]), 0);
    assert_eq!(i.i32("count", &[0]), 1000);
}

#[test]
fn long_runs_keep_the_host_stack_bounded() {
    // Threaded dispatch chains handlers by tail calls. Whether or not the compiler turned
    // every one into a jump, a long loop, deep interpreted recursion and a long
    // straight-line body must run on a small host stack: 50 million handlers here, on a
    // thread with 256 KiB of stack.
    let body = "i32.const 1 i32.add ".repeat(3000);
    let wat = format!(
        r#"(module
          (func (export "long") (param i32) (result i32) local.get 0 {body})
          (func (export "spin") (param i32) (result i32) (local i32)
            (loop $l
              (local.set 1 (i32.add (local.get 1) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
            (local.get 1))
          (func $down (export "down") (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0))
              (then (i32.const 0))
              (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))"#
    );
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let mut i = Instance::new(Interp::default(), &wat);
            assert_eq!(i.i32("long", &[5]), 3005);
            assert_eq!(i.i32("spin", &[25_000_000]), 25_000_000);
            assert_eq!(i.i32("down", &[900]), 900);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn constant_operands_become_immediates() {
    // A constant second operand (or first, for commutative integer operators) is encoded
    // in the instruction; the results and traps must be those of the register forms.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "sub_k") (param i32) (result i32) local.get 0 i32.const 7 i32.sub)
          (func (export "k_sub") (param i32) (result i32) i32.const 7 local.get 0 i32.sub)
          (func (export "k_mul") (param i64) (result i64) i64.const -3 local.get 0 i64.mul)
          (func (export "shl_k") (param i32) (result i32) local.get 0 i32.const 33 i32.shl)
          (func (export "div_0") (param i32) (result i32) local.get 0 i32.const 0 i32.div_u)
          (func (export "rem_m1") (param i32) (result i32) local.get 0 i32.const -1 i32.rem_s)
          (func (export "div_m1") (param i64) (result i64) local.get 0 i64.const -1 i64.div_s)
          (func (export "k_div") (param i32) (result i32) i32.const 100 local.get 0 i32.div_s)
          (func (export "fadd_k") (param f64) (result f64) local.get 0 f64.const 0.5 f64.add))"#,
    );
    assert_eq!(i.i32("sub_k", &[5]), -2);
    assert_eq!(i.i32("k_sub", &[5]), 2);
    assert_eq!(i.i64("k_mul", &[5]), -15);
    assert_eq!(i.i32("shl_k", &[3]), 6);
    assert_eq!(i.i32("rem_m1", &[i32::MIN as u32 as u64]), 0);
    assert_eq!(i.i32("k_div", &[(-7i32) as u32 as u64]), -14);
    let t = i.call("div_0", &[1]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::IntegerDivideByZero));
    let t = i.call("div_m1", &[i64::MIN as u64]).unwrap_err();
    assert_eq!(t.code, Some(TrapCode::IntegerOverflow));
    let r = i.call("fadd_k", &[1.25f64.to_bits()]).unwrap();
    assert_eq!(f64::from_bits(r[0]), 1.75);
    let f = tierup_interp::translate(i.env(), 0).unwrap();
    assert!(format!("{f:?}").contains("I32SubImm"), "{f:?}");
}

#[test]
fn callee_frames_begin_at_the_arguments() {
    // A callee's frame begins at its arguments, the caller's topmost temporaries; the
    // caller's constants and locals lie below them and must survive the call, the callee's
    // zeroed locals and its own constants included. Results come back in place.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func $wide (param i32 i32) (result i32 i64 i32) (local i32 i64 i64 i32)
            (; 1 when the locals start at zero ;)
            local.get 2 local.get 3 i32.wrap_i64 i32.or local.get 4 i32.wrap_i64 i32.or
            local.get 5 i32.or i32.eqz
            (; dirty them for the next call ;)
            i32.const 7 local.set 2 i64.const 99 local.set 3
            i64.const -5
            (; a + b + (b ? 333 : 444), constants read from registers ;)
            local.get 0 local.get 1 i32.add
            i32.const 333 i32.const 444 local.get 1 select i32.add)
          (func (export "outer") (param i32) (result i32) (local i32)
            i32.const 1000 i32.const 2000 local.get 0 select local.set 1
            i32.const 5 local.get 0 call $wide drop drop
            local.get 1 i32.add
            i32.const 1000 i32.const 2000 local.get 0 select i32.add
            i32.const 5 local.get 0 call $wide
            local.set 1 i32.wrap_i64 local.get 1 i32.add i32.add i32.add)
          (func (export "v128_across") (param i32) (result i64)
            v128.const i64x2 7 9 local.get 0 i32.const 1 call $wide drop drop drop
            v128.const i64x2 7 9 i64x2.add i64x2.extract_lane 1)
          (func (export "pair") (param i32) (result i32 i32)
            i32.const 41 local.get 0)
          (func (export "only_imm") (param i32) (result i32)
            local.get 0 i32.const 123456 i32.add))"#,
    );
    assert_eq!(
        i.i32("outer", &[3]),
        1 + 1000 + 1000 + (-5 + (5 + 3 + 333) + 1)
    );
    assert_eq!(i.i32("outer", &[0]), 1 + 2000 + 2000 + (-5 + (5 + 444) + 1));
    assert_eq!(i.i64("v128_across", &[2]), 18);
    assert_eq!(i.call("pair", &[12345]).unwrap(), vec![41, 12345]);
    assert_eq!(i.i32("only_imm", &[1]), 123457);
    // A constant read only as an immediate is not part of the frame image.
    let f = tierup_interp::translate(i.env(), 4).unwrap();
    assert!(format!("{f:?}").contains("image: []"), "{f:?}");
}

#[test]
fn accumulator_links_keep_values_right() {
    // A temporary read only by the next instruction travels in the accumulator. These
    // cases put a label, a `local.tee`, a fused compare after block-result copies, stores
    // of computed addresses and values, both operand positions, and conditional and
    // unconditional returns between producer and consumer.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (memory 1)
          (func (export "chain") (param i32 i32) (result i32)
            local.get 0 i32.const 3 i32.shl local.get 1 i32.add
            local.get 1 local.get 0 i32.mul i32.sub i32.const 1 i32.xor)
          (func (export "tee") (param i32) (result i32) (local i32)
            local.get 0 i32.const 5 i32.add local.tee 1 local.get 1 i32.mul)
          (func (export "label") (param i32) (result i32)
            local.get 0 i32.const 1 i32.add
            loop (param i32) (result i32) i32.const 2 i32.mul end)
          (func (export "store") (param i32 i32) (result i32)
            local.get 0 i32.const 4 i32.mul local.get 1 i32.const 7 i32.add i32.store
            local.get 0 i32.const 4 i32.mul i32.load)
          (func (export "fused") (param i32 i32) (result i32)
            block (result i32)
              local.get 1
              local.get 0 i32.const 1 i32.add local.get 1 i32.lt_s
              br_if 0
              drop i32.const -1
            end)
          (func (export "cond") (param i64) (result i32)
            block
              local.get 0 i64.const 1 i64.and i64.eqz
              br_if 0
              i32.const 1 return
            end
            i32.const 0)
          (func (export "left") (param i32) (result i32)
            i32.const 100 local.get 0 i32.const 3 i32.mul i32.sub)
          (func (export "min_plus") (param i32 i32) (result i32)
            local.get 0 local.get 1 local.get 0 local.get 1 i32.lt_s select
            i32.const 1 i32.add)
          (func (export "ret_cond") (param i32) (result i32)
            local.get 0 i32.const 1 i32.add local.get 0 br_if 0
            i32.const 10 i32.add)
          (func (export "ret_f64") (param f64) (result f64)
            local.get 0 f64.const 0.5 f64.mul return)
          (func (export "ret_i64") (param i64) (result i64)
            local.get 0 i64.const 1 i64.rotr))"#,
    );
    assert_eq!(i.i32("ret_cond", &[4]), 5);
    assert_eq!(i.i32("ret_cond", &[0]), 11);
    let r = i.call("ret_f64", &[3f64.to_bits()]).unwrap();
    assert_eq!(f64::from_bits(r[0]), 1.5);
    assert_eq!(i.i64("ret_i64", &[3]), i64::MIN + 1);
    assert_eq!(i.i32("chain", &[5, 7]), ((5 << 3) + 7 - 35) ^ 1);
    assert_eq!(i.i32("tee", &[2]), 49);
    assert_eq!(i.i32("label", &[4]), 10);
    assert_eq!(i.i32("store", &[3, 5]), 12);
    assert_eq!(i.i32("fused", &[2, 9]), 9);
    assert_eq!(i.i32("fused", &[9, 2]), -1);
    assert_eq!(i.i32("cond", &[3]), 1);
    assert_eq!(i.i32("cond", &[4]), 0);
    assert_eq!(i.i32("left", &[7]), 79);
    assert_eq!(i.i32("min_plus", &[3, 9]), 4);
    assert_eq!(i.i32("min_plus", &[9, 3]), 4);
}

#[test]
fn float_accumulator_and_reinterpretations() {
    // f64 values pass in the float half of the accumulator, everything else in the
    // integer half; a reinterpretation (no instruction of its own) between two linked
    // instructions must not join halves.
    let mut i = Instance::new(
        Interp::default(),
        r#"(module
          (func (export "dot") (param f64 f64 f64) (result f64)
            local.get 0 local.get 1 f64.mul local.get 2 f64.add f64.sqrt)
          (func (export "bits_of_sum") (param f64 f64) (result i64)
            local.get 0 local.get 1 f64.add i64.reinterpret_f64 i64.const 1 i64.add)
          (func (export "sum_of_bits") (param i64) (result f64)
            local.get 0 i64.const 1 i64.add f64.reinterpret_i64 f64.const 2 f64.mul)
          (func (export "f32_chain") (param f32 f32) (result f32)
            local.get 0 local.get 1 f32.mul f32.const 0.5 f32.add f32.neg)
          (func (export "cmp") (param f64 f64) (result i32)
            local.get 0 f64.const 1 f64.add local.get 1 f64.lt))"#,
    );
    let f = |x: f64| x.to_bits();
    let r = i.call("dot", &[f(3.0), f(4.0), f(4.0)]).unwrap();
    assert_eq!(f64::from_bits(r[0]), 4.0);
    assert_eq!(
        i.i64("bits_of_sum", &[f(1.5), f(2.5)]),
        4.0f64.to_bits() as i64 + 1
    );
    let r = i.call("sum_of_bits", &[1.0f64.to_bits() - 1]).unwrap();
    assert_eq!(f64::from_bits(r[0]), 2.0);
    let r = i
        .call(
            "f32_chain",
            &[2.0f32.to_bits() as u64, 3.0f32.to_bits() as u64],
        )
        .unwrap();
    assert_eq!(f32::from_bits(r[0] as u32), -6.5);
    assert_eq!(i.i32("cmp", &[f(1.0), f(2.5)]), 1);
    assert_eq!(i.i32("cmp", &[f(2.0), f(2.5)]), 0);
}
