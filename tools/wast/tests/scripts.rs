//! Behaviour of the script runner on small scripts: every directive kind passes when it
//! should and fails (with a useful report, never a panic) when it should not.

use tierup_wast::{FileReport, RunOptions, run_source};

fn run(text: &str) -> FileReport {
    run_source("test.wast", text, &RunOptions::default())
}

fn assert_all_pass(text: &str) {
    let r = run(text);
    assert!(r.ok(), "failures: {:#?}", r.failures);
    assert!(r.directives_passed > 0);
}

#[test]
fn passing_directives() {
    assert_all_pass(
        r#"
        (module $m
          (global (export "g") i32 (i32.const 7))
          (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
          (func (export "nan") (result f32) f32.const nan)
          (func (export "anan") (result f64) f64.const nan:0x8000000000001)
          (func (export "div") (param i32) (result i32) i32.const 1 local.get 0 i32.div_s)
          (func (export "id_ext") (param externref) (result externref) local.get 0)
          (func (export "null_func") (result funcref) ref.null func)
          (func (export "a_func") (result funcref) ref.func 0)
          (func (export "loop") (result i32) call 7)
          (func $r (result i32) call $r))
        (register "m" $m)
        (module (import "m" "add" (func $add (param i32 i32) (result i32)))
                (import "spectest" "print_i32" (func $p (param i32)))
                (import "spectest" "global_i32" (global i32))
                (import "spectest" "memory" (memory 1))
                (import "spectest" "table" (table 10 funcref))
                (func (export "twice") (param i32) (result i32)
                  local.get 0 call $p
                  local.get 0 local.get 0 call $add)
                (func (export "sg") (result i32) global.get 0))
        (assert_return (invoke "twice" (i32.const 21)) (i32.const 42))
        (assert_return (invoke "sg") (i32.const 666))
        (invoke $m "add" (i32.const 1) (i32.const 2))
        (assert_return (invoke $m "add" (i32.const 1) (i32.const 2)) (i32.const 3))
        (assert_return (get $m "g") (i32.const 7))
        (assert_return (invoke $m "nan") (f32.const nan:canonical))
        (assert_return (invoke $m "anan") (f64.const nan:arithmetic))
        (assert_return (invoke $m "id_ext" (ref.extern 5)) (ref.extern 5))
        (assert_return (invoke $m "id_ext" (ref.null extern)) (ref.null extern))
        (assert_return (invoke $m "null_func") (ref.null func))
        (assert_return (invoke $m "a_func") (ref.func))
        (assert_trap (invoke $m "div" (i32.const 0)) "integer divide by zero")
        (assert_exhaustion (invoke $m "loop") "call stack exhausted")
        (assert_invalid (module (func (result i32))) "type mismatch")
        (assert_malformed (module quote "(func (i32.const))") "unexpected token")
        (assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
        (assert_unlinkable (module (import "m" "nope" (func))) "unknown import")
        (assert_unlinkable (module (import "m" "add" (func (param i64)))) "incompatible import type")
        (assert_trap (module (func $s unreachable) (start $s)) "unreachable")
        (module quote "(func (export \"q\") (result i32) (i32.const 9))")
        (assert_return (invoke "q") (i32.const 9))
        "#,
    );
}

#[test]
fn failing_directives_are_reported() {
    let r = run(r#"
        (module (func (export "one") (result i32) i32.const 1)
                (func (export "trap") unreachable))
        (assert_return (invoke "one") (i32.const 2))
        (assert_return (invoke "one") (i64.const 1))
        (assert_return (invoke "one"))
        (assert_trap (invoke "one") "unreachable")
        (assert_trap (invoke "trap") "integer overflow")
        (assert_return (invoke "missing"))
        (assert_invalid (module (func)) "anything")
        (assert_malformed (module quote "(func)") "anything")
        (assert_unlinkable (module) "unknown import")
        (assert_return (invoke $nope "one") (i32.const 1))
        (module definition (func))
    "#);
    assert_eq!(r.directives_passed, 1, "{:#?}", r.failures);
    assert_eq!(r.directives_failed, 11, "{:#?}", r.failures);
    let lines: Vec<usize> = r.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    assert_eq!(r.failures[0].kind, "assert_return");
    assert!(r.failures[0].expected.contains("i32.const 2"));
    assert!(r.failures[0].got.contains("i32.const 1"));
    assert!(
        r.failures[4].got.contains("unreachable"),
        "{}",
        r.failures[4]
    );
    assert!(r.failures[10].got.contains("unsupported directive"));
}

#[test]
fn unparsable_script_is_one_failure() {
    let r = run("(module (func $f (result i32) i32.const))) (");
    assert_eq!(r.directives_failed, 1);
    assert_eq!(r.failures[0].kind, "parse");
}

#[test]
fn externref_identity_and_values() {
    assert_all_pass(
        r#"
        (module
          (func (export "eq") (param externref externref) (result i32)
            local.get 0 ref.is_null)
          (table $t 2 externref)
          (func (export "set") (param i32 externref) local.get 0 local.get 1 table.set $t)
          (func (export "get") (param i32) (result externref) local.get 0 table.get $t))
        (invoke "set" (i32.const 0) (ref.extern 1))
        (invoke "set" (i32.const 1) (ref.extern 2))
        (assert_return (invoke "get" (i32.const 0)) (ref.extern 1))
        (assert_return (invoke "get" (i32.const 1)) (ref.extern 2))
        (assert_return (invoke "get" (i32.const 1)) (ref.extern))
        "#,
    );
    let r = run(r#"
        (module (func (export "id") (param externref) (result externref) local.get 0))
        (assert_return (invoke "id" (ref.extern 1)) (ref.extern 2))
    "#);
    assert_eq!(r.directives_failed, 1);
}
