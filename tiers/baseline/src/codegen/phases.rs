//! The phases of one function's compile, each a type that offers only the steps of its
//! phase and is consumed by the step that ends it, so that the one order the code can be
//! made in is the only one that type-checks:
//!
//! ```text
//! Setup --prologue / osr_prologue--> Body --operator*, end--> Tail --finish--> MachineCode
//! ```
//!
//! * [`Setup`]: nothing emitted yet; the prologue (or an OSR entry's) makes the frame and
//!   opens the body.
//! * [`Body`]: the operators, one at a time as they are read; `end` checks that the body
//!   closed its frames and emits what goes out of line (hotness reports, an OSR entry's
//!   stub).
//! * [`Tail`]: the array shim, the tables sorted, the labels and patched immediates
//!   resolved into the bytes.
//!
//! The code generator itself is private to `codegen`: these types are how the rest of
//! the crate drives it.

use tierup_abi::regcall::{self, Loc};
use tierup_abi::{CompileError, CompileOptions, MachineCode, ModuleEnv, SourceLoc, TrapSite};
use wasmparser::{FuncType, Operator, ValType};

use super::CodeGen;
use crate::masm::{Addr, Masm, Size, Xmm};

/// A compile before its prologue.
pub(crate) struct Setup<'a, M: Masm>(CodeGen<'a, M>);

/// A compile in its body: the prologue is emitted, the operators come.
pub(crate) struct Body<'a, M: Masm> {
    cg: CodeGen<'a, M>,
    /// The parameters the array shim loads: the function's, or an OSR entry's one.
    shim_params: &'a [ValType],
}

/// A compile whose body and out-of-line code are emitted.
pub(crate) struct Tail<'a, M: Masm> {
    cg: CodeGen<'a, M>,
    shim_params: &'a [ValType],
}

impl<'a, M: Masm> Setup<'a, M> {
    /// The compile of defined function `func_index` of `env`, of type `ty` and `wasm_bytes`
    /// long, into `m`.
    pub fn new(
        env: &'a ModuleEnv,
        m: M,
        wasm_bytes: usize,
        func_index: u32,
        ty: &'a FuncType,
        options: &CompileOptions,
    ) -> Self {
        let mut cg = CodeGen::new(env, m, func_index, ty, options);
        // About one entry for every two bytes of code, a trap site for every few dozen.
        cg.wasm_map.reserve(wasm_bytes / 2 + 4);
        cg.traps.reserve(wasm_bytes / 16);
        cg.wasm_map.push(SourceLoc {
            code_offset: 0,
            wasm_offset: SourceLoc::NONE,
        });
        Setup(cg)
    }

    /// The function's prologue (`locals`: the parameters, then the declared locals).
    pub fn prologue(mut self, locals: Vec<ValType>) -> Result<Body<'a, M>, CompileError> {
        self.0.prologue(locals)?;
        let shim_params = self.0.ty.params();
        Ok(Body {
            cg: self.0,
            shim_params,
        })
    }

    /// The prologue of the OSR entry at module offset `at`: it is entered with the state's
    /// address (`tierup_abi::osr`).
    pub fn osr_prologue(
        mut self,
        at: u32,
        locals: Vec<ValType>,
    ) -> Result<Body<'a, M>, CompileError> {
        self.0.osr_prologue(at, locals)?;
        Ok(Body {
            cg: self.0,
            shim_params: &tierup_abi::osr::ENTRY_PARAMS,
        })
    }
}

impl<'a, M: Masm> Body<'a, M> {
    /// Emits the operator `op` at module offset `offset`.
    #[inline(always)]
    pub fn operator(&mut self, op: &Operator, offset: usize) -> Result<(), CompileError> {
        self.cg.operator(op, offset)
    }

    /// Ends the body, which must have closed every frame, and emits the out-of-line code.
    pub fn end(mut self) -> Result<Tail<'a, M>, CompileError> {
        if !self.cg.done() {
            return Err(CompileError("the body does not end its frames".into()));
        }
        self.cg.emit_out_of_line()?;
        Ok(Tail {
            cg: self.cg,
            shim_params: self.shim_params,
        })
    }
}

impl<M: Masm> Tail<'_, M> {
    /// The array shim, then the finished code and its tables.
    pub fn finish(self) -> Result<MachineCode, CompileError> {
        let Tail {
            mut cg,
            shim_params,
        } = self;
        let shim = cg.m.offset();
        cg.wasm_map.push(SourceLoc {
            code_offset: shim,
            wasm_offset: SourceLoc::NONE,
        });
        emit_shim(&mut cg.m, shim_params, cg.ty.results());
        let frame = cg.frame_bytes();
        let preemptible = cg.preemptible_from..shim;
        let mut traps: Vec<TrapSite> = cg
            .traps
            .iter()
            .map(|&(offset, code)| TrapSite { offset, code })
            .collect();
        traps.sort_by_key(|t| t.offset);
        let bytes = cg.m.finish(frame, cg.pinned.get()).map_err(CompileError)?;
        Ok(MachineCode {
            bytes,
            align: 16,
            register_entry: 0,
            array_shim: Some(shim),
            traps,
            relocs: Vec::new(),
            wasm_map: cg.wasm_map,
            frame_size: (M::SAVED_BYTES + frame).next_multiple_of(16),
            // From the frame set up and the stack checked on: the code keeps nothing below
            // its stack pointer, and its frame pointer is `rbp` throughout (`epoch.rs`).
            preemptible,
        })
    }
}

/// The array shim (`tierup_abi::ArrayEntry`: `(callee, code, caller, cells) -> status`):
/// loads the parameters from the cells by the register convention, calls the register
/// entry of `code` with the cells as the results area (two or more results), stores a
/// single result into cell 0 and returns 0.
fn emit_shim<M: Masm>(m: &mut M, params: &[ValType], results: &[ValType]) {
    let [callee, code, caller, cells, ..] = M::ARG_GPRS;
    let (cells_kept, code_kept) = m.shim_prologue();
    m.mov(Size::S64, cells_kept, cells);
    m.mov(Size::S64, code_kept, code);
    m.mov(Size::S64, M::SCRATCH, caller);
    m.mov(Size::S64, M::SCRATCH2, callee);
    let layout = regcall::locate(params, results);
    m.reserve(layout.stack_bytes);
    let cell = |i: usize| Addr::Base(cells_kept, 16 * i as i32);
    for (i, (&ty, loc)) in params.iter().zip(&layout.params).enumerate() {
        if let Loc::Stack(off) = *loc {
            m.load(Size::S64, M::RET_GPR, cell(i));
            let at = m.sp_addr(off as i32);
            m.store(8, at, M::RET_GPR);
        }
        if let Loc::Xmm(x) = *loc {
            m.fload(Size::of(ty), Xmm(x), cell(i));
        }
    }
    for (i, (&ty, loc)) in params.iter().zip(&layout.params).enumerate() {
        if let Loc::Gpr(g) = *loc {
            m.load(Size::of(ty), M::ARG_GPRS[g as usize], cell(i));
        }
    }
    if let Some(Loc::Gpr(g)) = layout.results_area {
        m.mov(Size::S64, M::ARG_GPRS[g as usize], cells_kept);
    }
    m.mov(Size::S64, M::ARG_GPRS[1], M::SCRATCH);
    m.mov(Size::S64, M::ARG_GPRS[0], M::SCRATCH2);
    m.call_mem(Addr::Base(
        code_kept,
        tierup_abi::entry::offsets::CODE_REGISTER_ENTRY as i32,
    ));
    m.release(layout.stack_bytes);
    match results {
        [ty @ (ValType::F32 | ValType::F64)] => m.fstore(Size::of(*ty), cell(0), M::RET_XMM),
        [_] => m.store(8, cell(0), M::RET_GPR),
        _ => {}
    }
    m.mov_imm(Size::S32, M::RET_GPR, u64::from(tierup_abi::STATUS_OK));
    m.shim_epilogue();
}
