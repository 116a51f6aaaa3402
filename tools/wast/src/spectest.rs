//! The `spectest` host module the specification scripts import from, defined exactly as
//! the reference interpreter defines it: four globals, a table, a memory and the `print*`
//! functions (silent unless the run asks to print).

use tierup::{
    Extern, Func, FuncType, Global, GlobalType, Linker, Memory, MemoryType, Mutability, Result,
    Store, Table, TableType, Val, ValType,
};

/// Defines every `spectest` export in `linker`. With `print`, the `print*` functions write
/// their arguments to stdout.
pub fn define(linker: &mut Linker<()>, store: &mut Store<()>, print: bool) -> Result<()> {
    let globals = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, val) in globals {
        let g = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), val)?;
        linker.define(&mut *store, "spectest", name, Extern::Global(g))?;
    }

    let table = Table::new(
        &mut *store,
        TableType::new(ValType::FuncRef, 10, Some(20)),
        Val::FuncRef(None),
    )?;
    linker.define(&mut *store, "spectest", "table", Extern::Table(table))?;

    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define(&mut *store, "spectest", "memory", Extern::Memory(memory))?;

    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[ValType::I32]),
        ("print_i64", &[ValType::I64]),
        ("print_f32", &[ValType::F32]),
        ("print_f64", &[ValType::F64]),
        ("print_i32_f32", &[ValType::I32, ValType::F32]),
        ("print_f64_f64", &[ValType::F64, ValType::F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(params.iter().cloned(), []);
        let func = Func::new(&mut *store, ty, move |_caller, args, _results| {
            if print {
                print_args(args);
            }
            Ok(())
        });
        linker.define(&mut *store, "spectest", name, Extern::Func(func))?;
    }
    Ok(())
}

/// Prints arguments the way the reference interpreter does: `value : type`, one a line.
fn print_args(args: &[Val]) {
    for arg in args {
        match arg {
            Val::I32(x) => println!("{x} : i32"),
            Val::I64(x) => println!("{x} : i64"),
            Val::F32(b) => println!("{} : f32", f32::from_bits(*b)),
            Val::F64(b) => println!("{} : f64", f64::from_bits(*b)),
            other => println!("{other:?}"),
        }
    }
}
