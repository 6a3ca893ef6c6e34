//! `/proc/kallsyms`, and turning its run-time addresses into link-time ones.
//!
//! Each line is `ADDRESS TYPE NAME` or `ADDRESS TYPE NAME\t[MODULE]`. Module symbols (and the
//! `[bpf]`, `[__builtin__ftrace]` pseudo-modules) are left out: the ISF describes vmlinux only.
//!
//! Volatility wants link-time addresses: it finds the KASLR shift in the image itself
//! (`LinuxIntelStacker.find_aslr` compares `init_task` and `init_files` with what it finds), and
//! turns a symbol into a physical address by subtracting `__START_KERNEL_map` (x86-64). So the
//! shift of this boot is taken off again: on x86-64 the link-time `_text` is
//! `__START_KERNEL_map + ALIGN(CONFIG_PHYSICAL_START, CONFIG_PHYSICAL_ALIGN)`
//! (`arch/x86/include/asm/page_64_types.h`, `page_types.h`), read from the bundle's kernel config
//! or, without one, the defaults (`0x1000000`, `0x200000`). Only symbols in the kernel image's
//! mapping move with KASLR: absolute symbols (type `A`) and the per-CPU symbols of kernels with a
//! zero-based per-CPU area (small addresses between `__per_cpu_start` and `__per_cpu_end`) are
//! kept as they are. Kernels with relative per-CPU offsets (x86-64 since 6.15) have their per-CPU
//! symbols inside the image, and those move with it.
//!
//! arm64: the link-time address of the image (`KIMAGE_VADDR`) depends on the kernel version and
//! `VA_BITS`, and Volatility 3 2.28 has no AArch64 Linux layer to use an ISF with, so addresses
//! are kept as kallsyms shows them (the shift of the captured boot) and the ISF says so.

use std::collections::BTreeMap;

/// `__START_KERNEL_map` on x86-64: where the kernel image is mapped.
pub const X86_64_START_KERNEL_MAP: u64 = 0xffff_ffff_8000_0000;
/// The kernel image mapping ends 1 GiB above its start (`KERNEL_IMAGE_SIZE` with KASLR); modules
/// follow.
pub const X86_64_KERNEL_IMAGE_END: u64 = 0xffff_ffff_c000_0000;
/// x86-64's default `CONFIG_PHYSICAL_START`.
pub const X86_64_DEFAULT_PHYSICAL_START: u64 = 0x100_0000;
/// x86-64's default `CONFIG_PHYSICAL_ALIGN`.
pub const X86_64_DEFAULT_PHYSICAL_ALIGN: u64 = 0x20_0000;

/// What is wrong with a kallsyms file.
#[derive(Debug, thiserror::Error)]
pub enum KallsymsError {
    /// A line that is not `ADDRESS TYPE NAME [MODULE]`.
    #[error("kallsyms line {line} is malformed: {text:?}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// Every address is zero.
    #[error(
        "every address in kallsyms is 0: kernel.kptr_restrict hid them from the reader. Collect \
         the bundle as root (CAP_SYSLOG) with kernel.kptr_restrict at 0 or 1 (at 2 even root sees \
         zeros: `sysctl -w kernel.kptr_restrict=1` for the capture, then set it back)"
    )]
    AddressesHidden,
    /// No kernel symbols at all.
    #[error("kallsyms has no kernel symbols")]
    Empty,
    /// `_text` is missing, so the KASLR shift cannot be computed.
    #[error("kallsyms has no _text symbol: the KASLR shift cannot be computed")]
    NoText,
    /// The run-time `_text` lies below the link-time one, which KASLR never does.
    #[error(
        "kallsyms' _text {runtime:#x} is below the link-time _text {link:#x} ({origin}): the \
         kernel was linked elsewhere; add the kernel config to the bundle"
    )]
    BelowLinkAddress {
        /// Run-time `_text`.
        runtime: u64,
        /// Link-time `_text`.
        link: u64,
        /// Where the link-time address came from.
        origin: &'static str,
    },
}

/// One kernel symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSymbol<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its kallsyms address.
    pub address: u64,
    /// Its type letter (`T`, `t`, `D`, `d`, `B`, `R`, `A`, …).
    pub kind: char,
}

impl KernelSymbol<'_> {
    /// A global symbol (upper-case type letter).
    pub fn is_global(&self) -> bool {
        self.kind.is_ascii_uppercase()
    }

    /// A data symbol (initialised or not, read-only or not) rather than code.
    pub fn is_data(&self) -> bool {
        matches!(
            self.kind.to_ascii_lowercase(),
            'd' | 'b' | 'r' | 'g' | 's' | 'v'
        )
    }
}

/// The kernel symbols of a kallsyms file: one per name, in name order.
#[derive(Debug, Clone)]
pub struct Kallsyms<'a> {
    /// By name.
    pub symbols: BTreeMap<&'a str, KernelSymbol<'a>>,
    /// How many lines named a symbol another line already named (static functions of the same
    /// name in different files, mostly). The global one wins, then the lowest address.
    pub duplicates: u64,
    /// Module symbols left out.
    pub module_symbols: u64,
}

/// Parses kallsyms text. Fails when every address is 0 (kptr_restrict).
pub fn parse(text: &str) -> Result<Kallsyms<'_>, KallsymsError> {
    let mut symbols: BTreeMap<&str, KernelSymbol<'_>> = BTreeMap::new();
    let mut duplicates = 0;
    let mut module_symbols = 0;
    let mut any_nonzero = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let malformed = || KallsymsError::Malformed {
            line: i + 1,
            text: line.to_owned(),
        };
        let mut parts = line.split_whitespace();
        let (Some(addr), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let address = u64::from_str_radix(addr, 16).map_err(|_| malformed())?;
        let mut kind_chars = kind.chars();
        let (Some(kind), None) = (kind_chars.next(), kind_chars.next()) else {
            return Err(malformed());
        };
        any_nonzero |= address != 0;
        if let Some(module) = parts.next() {
            if !(module.starts_with('[') && module.ends_with(']')) {
                return Err(malformed());
            }
            module_symbols += 1;
            continue;
        }
        let sym = KernelSymbol {
            name,
            address,
            kind,
        };
        match symbols.get_mut(name) {
            None => {
                symbols.insert(name, sym);
            }
            Some(existing) => {
                duplicates += 1;
                let better =
                    (!sym.is_global(), sym.address) < (!existing.is_global(), existing.address);
                if better {
                    *existing = sym;
                }
            }
        }
    }
    if !any_nonzero && (!symbols.is_empty() || module_symbols > 0) {
        return Err(KallsymsError::AddressesHidden);
    }
    if symbols.is_empty() {
        return Err(KallsymsError::Empty);
    }
    Ok(Kallsyms {
        symbols,
        duplicates,
        module_symbols,
    })
}

/// Where the link-time `_text` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkSource {
    /// The bundle's kernel config.
    Config,
    /// The architecture's default config values (no config in the bundle).
    Default,
    /// Unknown: addresses are kept as they are.
    None,
}

impl LinkSource {
    /// The name written in the ISF.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkSource::Config => "config",
            LinkSource::Default => "default",
            LinkSource::None => "none",
        }
    }
}

/// How run-time addresses map to link-time ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocation {
    /// Architecture name (`x86_64`, `aarch64`, …).
    pub arch: String,
    /// Run-time `_text`.
    pub runtime_text: u64,
    /// Link-time `_text`, when known.
    pub link_text: Option<u64>,
    /// Where `link_text` came from.
    pub source: LinkSource,
    /// `runtime_text - link_text` (0 when unknown).
    pub shift: u64,
    /// Lower bound of the addresses that move with the image.
    image_start: u64,
    /// Upper bound (exclusive).
    image_end: u64,
}

impl Relocation {
    /// Works out the relocation for `arch` from kallsyms and, when the bundle has one, the kernel
    /// config text (`CONFIG_X=value` lines).
    pub fn new(
        arch: &str,
        syms: &Kallsyms<'_>,
        config: Option<&str>,
    ) -> Result<Relocation, KallsymsError> {
        let runtime_text = syms
            .symbols
            .get("_text")
            .ok_or(KallsymsError::NoText)?
            .address;
        if arch != "x86_64" {
            return Ok(Relocation {
                arch: arch.to_owned(),
                runtime_text,
                link_text: None,
                source: LinkSource::None,
                shift: 0,
                image_start: 0,
                image_end: 0,
            });
        }
        let value = |key: &str| config.and_then(|c| config_value(c, key));
        let (start, align, source) = match value("CONFIG_PHYSICAL_START") {
            Some(start) => (
                start,
                value("CONFIG_PHYSICAL_ALIGN").unwrap_or(X86_64_DEFAULT_PHYSICAL_ALIGN),
                LinkSource::Config,
            ),
            None => (
                X86_64_DEFAULT_PHYSICAL_START,
                X86_64_DEFAULT_PHYSICAL_ALIGN,
                LinkSource::Default,
            ),
        };
        let align = align.max(1);
        let link_text = X86_64_START_KERNEL_MAP + start.div_ceil(align) * align;
        if runtime_text < link_text {
            return Err(KallsymsError::BelowLinkAddress {
                runtime: runtime_text,
                link: link_text,
                origin: source.as_str(),
            });
        }
        Ok(Relocation {
            arch: arch.to_owned(),
            runtime_text,
            link_text: Some(link_text),
            source,
            shift: runtime_text - link_text,
            image_start: X86_64_START_KERNEL_MAP,
            image_end: X86_64_KERNEL_IMAGE_END,
        })
    }

    /// Whether this symbol's address moves with the kernel image.
    pub fn moves(&self, sym: &KernelSymbol<'_>) -> bool {
        self.shift != 0
            && !sym.kind.eq_ignore_ascii_case(&'a')
            && (self.image_start..self.image_end).contains(&sym.address)
    }

    /// The link-time address of a symbol.
    pub fn link_address(&self, sym: &KernelSymbol<'_>) -> u64 {
        if self.moves(sym) {
            sym.address - self.shift
        } else {
            sym.address
        }
    }
}

/// The value of `key` in kernel config text (`CONFIG_X=0x1000000`, decimal or hex).
pub fn config_value(config: &str, key: &str) -> Option<u64> {
    config.lines().find_map(|line| {
        let v = line
            .strip_prefix(key)?
            .strip_prefix('=')?
            .trim()
            .trim_matches('"');
        match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
0000000000000000 A fixed_percpu_data
0000000000000000 D __per_cpu_start
000000000001f9c0 D runqueues
000000000003b000 D __per_cpu_end
ffffffff8b200000 T _text
ffffffff8b200000 T startup_64
ffffffff8b3f1000 t do_one
ffffffff8b3f2000 t do_one
ffffffff8b3f0000 T do_one
ffffffff8d610940 D init_task
ffffffffc0a01000 t mod_fn\t[ext4]
ffffffffc0a02000 t bpf_prog_x\t[bpf]
";

    #[test]
    fn parses_kernel_symbols_and_drops_modules() {
        let k = parse(SAMPLE).unwrap();
        assert_eq!(k.module_symbols, 2);
        assert_eq!(k.duplicates, 2);
        assert!(!k.symbols.contains_key("mod_fn"));
        // The global one wins over lower-addressed static ones.
        assert_eq!(k.symbols["do_one"].address, 0xffffffff8b3f0000);
        assert_eq!(k.symbols["do_one"].kind, 'T');
        assert!(k.symbols["init_task"].is_data());
        assert!(!k.symbols["_text"].is_data());
    }

    #[test]
    fn removes_the_kaslr_shift_from_image_symbols_only() {
        let k = parse(SAMPLE).unwrap();
        let r = Relocation::new("x86_64", &k, None).unwrap();
        assert_eq!(r.source, LinkSource::Default);
        assert_eq!(r.link_text, Some(0xffffffff81000000));
        assert_eq!(r.shift, 0xa200000);
        assert_eq!(r.link_address(&k.symbols["init_task"]), 0xffffffff83410940);
        assert_eq!(r.link_address(&k.symbols["_text"]), 0xffffffff81000000);
        // Zero-based per-CPU and absolute symbols stay.
        assert_eq!(r.link_address(&k.symbols["runqueues"]), 0x1f9c0);
        assert_eq!(r.link_address(&k.symbols["fixed_percpu_data"]), 0);
    }

    #[test]
    fn takes_the_link_address_from_the_config() {
        let k = parse(SAMPLE).unwrap();
        let config =
            "# comment\nCONFIG_PHYSICAL_START=0x2000000\nCONFIG_PHYSICAL_ALIGN=0x1000000\n";
        let r = Relocation::new("x86_64", &k, Some(config)).unwrap();
        assert_eq!(r.source, LinkSource::Config);
        assert_eq!(r.link_text, Some(0xffffffff82000000));
        assert_eq!(r.shift, 0x9200000);
        // PHYSICAL_START rounds up to PHYSICAL_ALIGN.
        let config = "CONFIG_PHYSICAL_START=0x1100000\nCONFIG_PHYSICAL_ALIGN=0x1000000\n";
        let r = Relocation::new("x86_64", &k, Some(config)).unwrap();
        assert_eq!(r.link_text, Some(0xffffffff82000000));
        // A kernel linked above its run-time address is a config mismatch.
        let config = "CONFIG_PHYSICAL_START=0x10000000\n";
        assert!(matches!(
            Relocation::new("x86_64", &k, Some(config)),
            Err(KallsymsError::BelowLinkAddress { .. })
        ));
    }

    #[test]
    fn keeps_addresses_on_other_architectures() {
        let text = "ffff800080000000 T _text\nffff800082a0b000 D init_task\n";
        let k = parse(text).unwrap();
        let r = Relocation::new("aarch64", &k, None).unwrap();
        assert_eq!(r.source, LinkSource::None);
        assert_eq!(r.shift, 0);
        assert_eq!(r.link_address(&k.symbols["init_task"]), 0xffff800082a0b000);
    }

    #[test]
    fn hidden_addresses_fail_with_the_fix() {
        let text = "0000000000000000 T _text\n0000000000000000 D init_task\n";
        let err = parse(text).unwrap_err();
        assert!(matches!(err, KallsymsError::AddressesHidden));
        let msg = err.to_string();
        assert!(
            msg.contains("kptr_restrict") && msg.contains("root"),
            "{msg}"
        );
    }

    #[test]
    fn malformed_lines_are_named() {
        let err = parse("ffffffff81000000 T _text\nnot-hex T x\n").unwrap_err();
        assert!(
            matches!(err, KallsymsError::Malformed { line: 2, .. }),
            "{err}"
        );
        assert!(matches!(
            parse("ffffffff81000000 TT x\n"),
            Err(KallsymsError::Malformed { line: 1, .. })
        ));
        assert!(matches!(
            parse("ffffffff81000000 T x y\n"),
            Err(KallsymsError::Malformed { .. })
        ));
        assert!(matches!(parse(""), Err(KallsymsError::Empty)));
        assert!(matches!(
            Relocation::new("x86_64", &parse("ffffffff81000000 T x\n").unwrap(), None),
            Err(KallsymsError::NoText)
        ));
    }

    #[test]
    fn reads_config_values() {
        let c = "CONFIG_A=0x10\nCONFIG_AB=5\nCONFIG_B=12\n# CONFIG_C is not set\n";
        assert_eq!(config_value(c, "CONFIG_A"), Some(16));
        assert_eq!(config_value(c, "CONFIG_B"), Some(12));
        assert_eq!(config_value(c, "CONFIG_C"), None);
    }
}
