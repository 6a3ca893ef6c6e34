//! Building the ISF of a bundle: BTF types ([`crate::types`]), kallsyms symbols at their
//! link-time addresses ([`crate::kallsyms`]), the typed globals ([`crate::symbols`]) and the
//! banner Volatility identifies the kernel by.
//!
//! The banner: Volatility's symbol cache takes the identifier of a Linux ISF from
//! `symbols.linux_banner.constant_data`, base64-decoded and unchanged
//! (`framework/automagic/symbol_cache.py`, `LinuxIdentifier.get_identifier`), and
//! `LinuxIntelStacker.stack` scans the image for exactly those bytes. dwarf2json writes the bytes
//! of the `linux_banner` array from vmlinux's `.rodata` (`readELFSymbol`: the symbol's full size),
//! which is the text of `init/version.c`'s `linux_banner` — `"Linux version … \n"` — and its
//! terminating NUL; the cache's remote-index path strips exactly that `\0` and `\n` for the same
//! reason ("Linux banners dumped by dwarf2json end with "\x00\n""). `/proc/version` prints the same
//! text with the newline and without the NUL, so the constant is `/proc/version`'s bytes plus one
//! NUL, as in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use base64::Engine;

use crate::Error;
use crate::btf::{Btf, Kind};
use crate::bundle::{self, Bundle};
use crate::isf::{
    FORMAT, Field, Isf, KaslrRecord, LinuxSources, Metadata, PRODUCER, Producer, ProducerDetails,
    SourceFile, Symbol, TypeRef, UserType,
};
use crate::kallsyms::{self, KernelSymbol, Relocation};
use crate::symbols::{
    ArrayLen, PAGE_TABLE_SYMBOLS, REQUIRED_SYMBOLS, REQUIRED_TYPES, TASK_STRUCT_MEMBERS,
    TYPED_SYMBOLS, parse_type_expr, taint_flags_count,
};
use crate::types::Types;

/// How strict the build is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Refuse to build an ISF Volatility cannot use (the stacker's symbols or the kernel symbol
    /// table's types missing). When false, those become notes in the ISF.
    pub strict: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { strict: true }
    }
}

/// Builds the ISF of a bundle, refusing one Volatility could not use.
pub fn build(bundle: &Bundle) -> Result<Isf, Error> {
    build_with(bundle, &Options::default())
}

/// Builds the ISF of a bundle with the given options.
pub fn build_with(bundle: &Bundle, options: &Options) -> Result<Isf, Error> {
    let banner = bundle.version();
    check_banner(banner)?;
    let mut notes = BTreeSet::new();
    let release = bundle.osrelease();
    if !banner.starts_with(format!("Linux version {release} (").as_bytes()) {
        notes.insert(format!(
            "the banner does not start with \"Linux version {release} (\": Volatility's VMCOREINFO stacker will not match it"
        ));
    }

    let text = std::str::from_utf8(bundle.kallsyms())
        .map_err(|e| Error::Input(format!("kallsyms is not UTF-8: {e}")))?;
    let syms = kallsyms::parse(text)?;
    let arch = match bundle.manifest.uname.machine.as_str() {
        "" => match syms.symbols.get("_text") {
            Some(t) if t.address >= kallsyms::X86_64_START_KERNEL_MAP => "x86_64".to_owned(),
            _ => "unknown".to_owned(),
        },
        m => m.to_owned(),
    };
    let config = config_text(bundle)?;
    let reloc = Relocation::new(&arch, &syms, config.as_deref())?;
    if arch == "x86_64" && reloc.shift % kallsyms::X86_64_DEFAULT_PHYSICAL_ALIGN != 0 {
        notes.insert(format!(
            "the KASLR shift {:#x} is not a multiple of 2 MiB: check the kernel config",
            reloc.shift
        ));
    }
    if arch != "x86_64" {
        notes.insert(format!(
            "architecture {arch}: addresses kept as kallsyms shows them (this boot's KASLR shift \
             included); Volatility 3 2.28 analyses x86 Linux images only"
        ));
    }

    let btf = Btf::parse(bundle.btf())?;
    let mut types = Types::new(&btf);
    let mut base_types = types.base_types();
    let enums = types.enums(&mut base_types)?;
    let mut user_types = types.user_types()?;

    let mut symbols = BTreeMap::new();
    let typed = typed_symbols(
        &btf,
        &mut types,
        &syms,
        &mut user_types,
        &release,
        &mut notes,
    )?;
    let mut unshifted = 0;
    for (name, sym) in &syms.symbols {
        if reloc.shift != 0 && !reloc.moves(sym) {
            unshifted += 1;
        }
        let ty = typed.get(*name).cloned().unwrap_or_else(TypeRef::void);
        symbols.insert(
            (*name).to_owned(),
            Symbol {
                address: reloc.link_address(sym),
                constant_data: None,
                ty: Some(ty),
            },
        );
    }
    let mut constant = banner.to_vec();
    constant.push(0);
    let banner_symbol = symbols
        .entry("linux_banner".to_owned())
        .or_insert_with(|| {
            notes.insert(
                "linux_banner is not in kallsyms: written at address 0 (Volatility matches the banner by its bytes only)"
                    .to_owned(),
            );
            Symbol {
                address: 0,
                constant_data: None,
                ty: None,
            }
        });
    banner_symbol.ty = Some(TypeRef::Array {
        count: constant.len() as u64,
        subtype: Box::new(TypeRef::Base("char".to_owned())),
    });
    banner_symbol.constant_data = Some(base64::engine::general_purpose::STANDARD.encode(&constant));

    check_usable(&syms, &user_types, options, &mut notes)?;
    if syms.duplicates > 0 {
        notes.insert(format!(
            "{} kallsyms names occur more than once (static symbols): the global one, else the lowest address, is written",
            syms.duplicates
        ));
    }
    if !types.renamed.is_empty() {
        let extra: usize = types.renamed.values().map(Vec::len).sum();
        notes.insert(format!(
            "BTF defines {} names more than once with different layouts: {extra} extra \
             definitions written as NAME__btfID (producer.irf.renamed lists them)",
            types.renamed.len()
        ));
    }
    notes.extend(std::mem::take(&mut types.notes));

    let kallsyms_sha = bundle.manifest.files[bundle::KALLSYMS].sha256.clone();
    let btf_sha = bundle.manifest.files[bundle::BTF].sha256.clone();
    Ok(Isf {
        base_types,
        enums,
        metadata: Metadata {
            format: FORMAT.to_owned(),
            linux: LinuxSources {
                symbols: vec![SourceFile {
                    hash_type: "sha256".to_owned(),
                    hash_value: kallsyms_sha,
                    kind: "system-map".to_owned(),
                    name: bundle::KALLSYMS.to_owned(),
                }],
                types: Vec::new(),
            },
            producer: Producer {
                datetime: Some(bundle.manifest.captured_at.clone()),
                irf: ProducerDetails {
                    btf_sha256: btf_sha,
                    kaslr: KaslrRecord {
                        arch,
                        link_text: reloc.link_text.map(|a| format!("{a:#x}")),
                        link_text_source: reloc.source.as_str().to_owned(),
                        runtime_text: format!("{:#x}", reloc.runtime_text),
                        shift: format!("{:#x}", reloc.shift),
                        unshifted_symbols: unshifted,
                    },
                    notes: notes.into_iter().collect(),
                    renamed: types.renamed.clone(),
                },
                name: PRODUCER.to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
            },
        },
        symbols,
        user_types,
    })
}

/// The banner must be one line, `Linux version …\n`, with no NUL.
fn check_banner(banner: &[u8]) -> Result<(), Error> {
    let ok = banner.starts_with(b"Linux version ")
        && banner.ends_with(b"\n")
        && !banner.contains(&0)
        && !banner[..banner.len() - 1].contains(&b'\n');
    if ok {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "the bundle's version file is not /proc/version's one line \"Linux version …\\n\": {:?}",
            String::from_utf8_lossy(&banner[..banner.len().min(120)])
        )))
    }
}

/// The bundle's kernel config as text, if it has one.
fn config_text(bundle: &Bundle) -> Result<Option<String>, Error> {
    if let Some(text) = bundle.file(bundle::CONFIG) {
        return Ok(Some(String::from_utf8_lossy(text).into_owned()));
    }
    let Some(gz) = bundle.file(bundle::CONFIG_GZ) else {
        return Ok(None);
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut text)
        .map_err(|e| Error::Input(format!("config.gz does not decompress: {e}")))?;
    Ok(Some(text))
}

/// Types for symbols: per-CPU variables from BTF `VAR`s, the others from [`TYPED_SYMBOLS`].
fn typed_symbols(
    btf: &Btf<'_>,
    types: &mut Types<'_, '_>,
    syms: &kallsyms::Kallsyms<'_>,
    user_types: &mut BTreeMap<String, UserType>,
    release: &str,
    notes: &mut BTreeSet<String>,
) -> Result<BTreeMap<String, TypeRef>, Error> {
    let mut out = BTreeMap::new();
    let mut vars: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (id, ty) in (0u32..).zip(btf.types().iter()) {
        if let Kind::Var { .. } = ty.kind {
            vars.entry(btf.str_at(ty.name_off)).or_default().push(id);
        }
    }
    let mut ambiguous = 0;
    for (name, ids) in vars {
        if !syms.symbols.contains_key(name) {
            continue;
        }
        let mut refs = Vec::new();
        for id in ids {
            let r = types.type_ref(id)?;
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
        if refs.len() == 1 {
            out.insert(name.to_owned(), refs.remove(0));
        } else {
            ambiguous += 1;
        }
    }
    if ambiguous > 0 {
        notes.insert(format!(
            "{ambiguous} BTF variables share a name with different types: left void"
        ));
    }

    let mut addresses: Vec<u64> = syms.symbols.values().map(|s| s.address).collect();
    addresses.sort_unstable();
    addresses.dedup();
    let mut untyped = Vec::new();
    for entry in TYPED_SYMBOLS {
        let Some(sym) = syms.symbols.get(entry.symbol) else {
            continue;
        };
        let mut found = None;
        for expr in entry.types {
            found = if *expr == "@tk_core" {
                tk_core_type(types, user_types, notes)?
            } else {
                resolve(types, expr, sym, &addresses)?
            };
            if found.is_some() {
                break;
            }
        }
        if entry.symbol == "taint_flags"
            && let Some(TypeRef::Array { count, .. }) = &mut found
        {
            match taint_flags_count(release) {
                Some(declared) => *count = (*count).min(declared),
                None => {
                    notes.insert(format!(
                        "taint_flags sized by the gap to the next symbol ({count} entries): no TAINT_FLAGS_COUNT known for {release}"
                    ));
                }
            }
        }
        match found {
            Some(ty) => {
                out.insert(entry.symbol.to_owned(), ty);
            }
            None => untyped.push(format!("{} ({})", entry.symbol, entry.types.join(" | "))),
        }
    }
    if !untyped.is_empty() {
        notes.insert(format!(
            "symbols left void because the BTF lacks their type: {}",
            untyped.join(", ")
        ));
    }
    Ok(out)
}

/// Resolves a type expression against the BTF (`None`: the BTF lacks the base type, or an array
/// of unknown length).
fn resolve(
    types: &mut Types<'_, '_>,
    expr: &str,
    sym: &KernelSymbol<'_>,
    addresses: &[u64],
) -> Result<Option<TypeRef>, Error> {
    let e = parse_type_expr(expr)
        .ok_or_else(|| Error::Input(format!("bad type expression {expr:?}")))?;
    let id = match e.keyword {
        "struct" | "union" => types.aggregate(e.name),
        "enum" => types.enumeration(e.name),
        _ => types.typedef(e.name).or_else(|| types.base(e.name)),
    };
    let Some(id) = id else {
        return Ok(None);
    };
    let mut ty = types.type_ref(id)?;
    let mut size = types.size_of(id)?;
    for _ in 0..e.pointers {
        ty = TypeRef::Pointer(Box::new(ty));
        size = types.ptr_size;
    }
    if let Some(len) = e.array {
        let count = match len {
            ArrayLen::Fixed(n) => n,
            ArrayLen::UpTo(max) => {
                let next = addresses.partition_point(|&a| a <= sym.address);
                match addresses.get(next) {
                    Some(&end) if size > 0 => ((end - sym.address) / size).min(max),
                    _ => return Ok(None),
                }
            }
        };
        if count == 0 {
            return Ok(None);
        }
        ty = TypeRef::Array {
            count,
            subtype: Box::new(ty),
        };
    }
    Ok(Some(ty))
}

/// Before Linux 6.13 `tk_core` is `static struct { seqcount_raw_spinlock_t seq; struct timekeeper
/// timekeeper; } tk_core;`, a type with no name. It is written as `irf_tk_core`, laid out with
/// natural alignment.
fn tk_core_type(
    types: &mut Types<'_, '_>,
    user_types: &mut BTreeMap<String, UserType>,
    notes: &mut BTreeSet<String>,
) -> Result<Option<TypeRef>, Error> {
    let (Some(seq), Some(tk)) = (
        types.typedef("seqcount_raw_spinlock_t"),
        types.aggregate("timekeeper"),
    ) else {
        return Ok(None);
    };
    let seq_size = types.size_of(seq)?;
    let align = types.align_of(tk)?.max(1);
    let tk_offset = seq_size.div_ceil(align) * align;
    let mut fields = BTreeMap::new();
    fields.insert(
        "seq".to_owned(),
        Field {
            anonymous: false,
            offset: 0,
            ty: types.type_ref(seq)?,
        },
    );
    fields.insert(
        "timekeeper".to_owned(),
        Field {
            anonymous: false,
            offset: tk_offset,
            ty: types.type_ref(tk)?,
        },
    );
    let name = "irf_tk_core".to_owned();
    user_types.insert(
        name.clone(),
        UserType {
            fields,
            kind: "struct".to_owned(),
            size: tk_offset + types.size_of(tk)?,
        },
    );
    notes.insert(format!(
        "tk_core's struct has no name in this kernel: written as irf_tk_core (seq at 0, timekeeper at {tk_offset}, natural alignment)"
    ));
    Ok(Some(TypeRef::Struct(name)))
}

/// Checks what Volatility needs to find the kernel and load the table.
fn check_usable(
    syms: &kallsyms::Kallsyms<'_>,
    user_types: &BTreeMap<String, UserType>,
    options: &Options,
    notes: &mut BTreeSet<String>,
) -> Result<(), Error> {
    let mut missing_symbols: Vec<String> = REQUIRED_SYMBOLS
        .iter()
        .filter(|s| !syms.symbols.contains_key(**s))
        .map(|s| (*s).to_owned())
        .collect();
    if !PAGE_TABLE_SYMBOLS
        .iter()
        .any(|s| syms.symbols.contains_key(*s))
    {
        missing_symbols.push(PAGE_TABLE_SYMBOLS.join(" or "));
    }
    let mut missing_types: Vec<String> = REQUIRED_TYPES
        .iter()
        .filter(|t| !user_types.contains_key(**t))
        .map(|t| (*t).to_owned())
        .collect();
    if let Some(task) = user_types.get("task_struct") {
        let members = lifted_members(user_types, task);
        for m in TASK_STRUCT_MEMBERS {
            if !members.contains(m) {
                missing_types.push(format!("task_struct.{m}"));
            }
        }
        if !members.contains("state") && !members.contains("__state") {
            missing_types.push("task_struct.state or __state".to_owned());
        }
    }
    if missing_symbols.is_empty() && missing_types.is_empty() {
        return Ok(());
    }
    let data_symbols = syms.symbols.values().filter(|s| s.is_data()).count();
    let hint = if !missing_symbols.is_empty() && data_symbols < 1000 {
        format!(
            "kallsyms lists only {data_symbols} data symbols: this kernel was built without \
             CONFIG_KALLSYMS_ALL, so /proc/kallsyms has no variables and the variables' addresses \
             must come from the kernel's System.map"
        )
    } else {
        "Volatility's Linux stacker and kernel symbol table need these".to_owned()
    };
    if options.strict {
        return Err(Error::NotUsable {
            missing_symbols,
            missing_types,
            hint,
        });
    }
    notes.insert(format!(
        "Volatility cannot use this ISF as it is: missing symbols [{}], types [{}]: {hint}",
        missing_symbols.join(", "),
        missing_types.join(", ")
    ));
    Ok(())
}

/// A struct's member names with anonymous members' members lifted, as Volatility 6.2 does.
pub fn lifted_members<'t>(
    user_types: &'t BTreeMap<String, UserType>,
    ty: &'t UserType,
) -> BTreeSet<&'t str> {
    let mut out = BTreeSet::new();
    let mut stack = vec![ty];
    let mut guard = 0;
    while let Some(t) = stack.pop() {
        guard += 1;
        if guard > 10_000 {
            break;
        }
        for (name, field) in &t.fields {
            if field.anonymous {
                if let Some(inner) = field.ty.name().and_then(|n| user_types.get(n)) {
                    stack.push(inner);
                }
            } else {
                out.insert(name.as_str());
            }
        }
    }
    out
}

/// The offset of a member of a struct, with anonymous members lifted as Volatility 6.2 does.
pub fn member_offset(isf: &Isf, ty: &str, member: &str) -> Option<(u64, TypeRef)> {
    fn walk(
        isf: &Isf,
        ty: &UserType,
        member: &str,
        base: u64,
        depth: u32,
    ) -> Option<(u64, TypeRef)> {
        if depth > 32 {
            return None;
        }
        if let Some(f) = ty.fields.get(member).filter(|f| !f.anonymous) {
            return Some((base + f.offset, f.ty.clone()));
        }
        ty.fields.values().filter(|f| f.anonymous).find_map(|f| {
            let inner = isf.user_types.get(f.ty.name()?)?;
            walk(isf, inner, member, base + f.offset, depth + 1)
        })
    }
    walk(isf, isf.user_types.get(ty)?, member, 0, 0)
}
