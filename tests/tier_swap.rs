//! Publication into entry slots while a program keeps calling.
//!
//! A second thread publishes new code into a function's slot, as the compile workers will;
//! the calling thread takes no lock and must see the new code from its very next call on,
//! through every path a call can take: an export called from Rust, a direct `call` inside the
//! interpreter, and a `call_indirect` through a table.

use std::sync::atomic::{AtomicU32, Ordering};

use tierup::tiering::CodeHandle;
use tierup::{Engine, Func, FuncType, Linker, Module, Store, Tier, TypedFunc, ValType};

const WAT: &str = r#"
(module
  (type $t (func (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $f)
  (func $f (export "f") (type $t) i32.const 1)
  (func $g (export "g") (type $t) i32.const 2)
  (func (export "direct") (result i32) call $f)
  (func (export "indirect") (result i32) (call_indirect (type $t) (i32.const 0))))
"#;

/// What `f` returns under each code published into its slot, in publication order.
const ORIGINAL: i32 = 1;
const OTHER_TRANSLATION: i32 = 2;
const HOST: i32 = 3;

/// The stages of the publisher, as seen by the caller.
const STAGE_NONE: u32 = 0;
const STAGE_TRANSLATION: u32 = 1;
const STAGE_HOST: u32 = 2;

fn expected_at(stage: u32) -> i32 {
    match stage {
        STAGE_NONE => ORIGINAL,
        STAGE_TRANSLATION => OTHER_TRANSLATION,
        _ => HOST,
    }
}

/// Calls `entry` while another thread publishes first another interpreter translation and
/// then a host function into `f`'s slot. Every call that starts after the caller has seen a
/// publication must run the published code; no call may ever return anything else than the
/// code of the current or the previous stage.
fn swap_while_calling(entry: &str) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    let call: TypedFunc<(), i32> = instance.get_typed_func(&mut store, entry).unwrap();
    let host = Func::new(
        &mut store,
        FuncType::new([], [ValType::I32]),
        |_, _, results| {
            results[0] = tierup::Val::I32(HOST);
            Ok(())
        },
    );

    // Run once so that the slot holds its interpreter translation.
    assert_eq!(call.call(&mut store, ()).unwrap(), ORIGINAL);
    let slot = f.slot(&store);
    assert_eq!(slot.tier(), Tier::Interp);
    // `g` has the same signature; its translation is owned by the module.
    let other: CodeHandle = module.compile_fresh(1, Tier::Interp).unwrap();
    let host_code = host.slot(&store).code();
    assert_eq!(host_code.tier(), Tier::Host);

    let stage = AtomicU32::new(STAGE_NONE);
    // The caller's acknowledgement of the stage it has seen.
    let seen = AtomicU32::new(STAGE_NONE);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for (next, code) in [(STAGE_TRANSLATION, other), (STAGE_HOST, host_code)] {
                // Let the caller run a while in the current stage first.
                while seen.load(Ordering::Acquire) < next - 1 {
                    std::hint::spin_loop();
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
                // SAFETY: both records implement `() -> i32`; the translation lives as long
                // as the module and the host function as long as the store, both of which
                // outlive this scope.
                unsafe { slot.publish(code) };
                stage.store(next, Ordering::Release);
            }
        });

        let mut calls_per_stage = [0u64; 3];
        let mut last = ORIGINAL;
        loop {
            let now = stage.load(Ordering::Acquire);
            seen.store(now, Ordering::Release);
            let got = call.call(&mut store, ()).unwrap();
            // The publication happened before `stage` was stored, so this call must run it
            // (or the next stage's code, published since the load of `stage`).
            assert!(
                got == expected_at(now) || got == expected_at(now + 1),
                "call in stage {now} returned {got}: stale code ran"
            );
            assert!(got >= last, "went back from {last} to {got}");
            last = got;
            calls_per_stage[now as usize] += 1;
            if now == STAGE_HOST && calls_per_stage[STAGE_HOST as usize] >= 1000 {
                break;
            }
        }
        assert!(
            calls_per_stage.iter().all(|&n| n > 0),
            "{calls_per_stage:?}"
        );
    });
    assert_eq!(slot.tier(), Tier::Host);
}

#[test]
fn export_call_sees_publication() {
    swap_while_calling("f");
}

#[test]
fn direct_call_sees_publication() {
    swap_while_calling("direct");
}

#[test]
fn indirect_call_sees_publication() {
    swap_while_calling("indirect");
}
