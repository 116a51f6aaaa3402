//! Chooses the dispatch of the threaded interpreter (see `exec::run`): tail calls between
//! handlers in an optimised build, which compiles them into jumps; a return to the
//! trampoline after every instruction in an unoptimised one, which keeps every call.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tierup_tail_dispatch)");
    println!("cargo::rerun-if-env-changed=OPT_LEVEL");
    let opt = std::env::var("OPT_LEVEL").unwrap_or_default();
    if opt != "0" {
        println!("cargo::rustc-cfg=tierup_tail_dispatch");
    }
}
