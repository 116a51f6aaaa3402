//! Chooses the dispatch of the threaded interpreter (see `exec::run`): tail calls between
//! handlers in an optimised build, which compiles them into jumps; a return to the
//! trampoline after every instruction in an unoptimised one, which keeps every call.
//!
//! And the register form (the crate docs, "Register forms"): the same sources build the
//! compact form as `tierup-interp` and the wide one as `tierup-interp-wide`, whose
//! manifest names this script as its own.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tierup_tail_dispatch)");
    println!("cargo::rustc-check-cfg=cfg(wide_registers)");
    println!("cargo::rerun-if-env-changed=OPT_LEVEL");
    let opt = std::env::var("OPT_LEVEL").unwrap_or_default();
    if opt != "0" {
        println!("cargo::rustc-cfg=tierup_tail_dispatch");
    }
    if std::env::var("CARGO_PKG_NAME").as_deref() == Ok("tierup-interp-wide") {
        println!("cargo::rustc-cfg=wide_registers");
    }
}
