//! The kernel's own symbol table, read out of its image: what `/proc/kallsyms` lists for the
//! kernel itself, for a kernel that is not running and whose package has no System.map with
//! symbols in it (Debian's is a placeholder; the real one is in the kernel's `-dbg` package).
//!
//! A kernel built with `CONFIG_KALLSYMS` carries the tables that `scripts/kallsyms.c` wrote into
//! its read-only data at build time:
//!
//! * `kallsyms_token_table`, 256 NUL-terminated strings, and `kallsyms_token_index`, the 256
//!   16-bit offsets of those strings. Every byte that occurs in a symbol name is its own token
//!   (so tokens `'0'` to `'9'` are the digits), the unused byte values stand for frequent pairs;
//! * `kallsyms_num_syms`, then `kallsyms_names`: per symbol a ULEB128 length (one byte, or two
//!   for long names) and that many token numbers, whose expansion is the type letter followed by
//!   the name; then `kallsyms_markers`, the offset in the names of every 256th symbol (32-bit, or
//!   the word size on old kernels);
//! * the addresses, sorted: `kallsyms_offsets` (32-bit) with `kallsyms_relative_base`, the
//!   lowest address. An offset is added to the base, except with `--absolute-percpu` (x86_64
//!   SMP kernels), where per-CPU symbols are stored as their absolute value and the others as
//!   `base - 1 - offset`, a negative number. Kernels without base-relative tables store
//!   `kallsyms_addresses` instead, one word per symbol. Older kernels put the addresses before
//!   `kallsyms_num_syms`; newer ones after the token index.
//!
//! Nothing here relies on an offset that changes between builds: the token table is found by
//! its digits and proven by its index, the names by decoding every one of them and matching
//! the markers that follow, the addresses by being sorted kernel addresses. Each check ties one
//! table to the next, so a stray match fails one of them.

use crate::Error;
use crate::image::occurrences;

/// The token expansions of `'0'` to `'9'`, consecutive in every token table.
const DIGIT_TOKENS: &[u8] = b"0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00";

/// Kernel addresses of 64-bit kernels are in the top half of the address space.
const KERNEL_SPACE: u64 = 0xffff_0000_0000_0000;

/// How far before the token table the names may start (a kernel has a few hundred thousand
/// symbols at some ten bytes each).
const NAMES_WINDOW: usize = 32 << 20;

/// More symbols than any kernel has.
const MAX_SYMBOLS: u32 = 4_000_000;

/// A symbol of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSymbol {
    /// Link-time address.
    pub address: u64,
    /// The kallsyms type letter (`T`, `t`, `D`, `A`, ...).
    pub kind: char,
    /// The name.
    pub name: String,
}

/// How the table stores addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressEncoding {
    /// 32-bit offsets from `kallsyms_relative_base`.
    Relative,
    /// 32-bit offsets: per-CPU symbols absolute, the others `base - 1 - offset`.
    AbsolutePercpu,
    /// One 64-bit address per symbol (`kallsyms_addresses`).
    Absolute,
}

impl AddressEncoding {
    /// How it is named in notes.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressEncoding::Relative => "base-relative",
            AddressEncoding::AbsolutePercpu => "base-relative with absolute per-CPU symbols",
            AddressEncoding::Absolute => "absolute",
        }
    }
}

/// The symbol table read out of a kernel image.
#[derive(Debug, Clone)]
pub struct SymbolTable {
    /// The symbols in the table's order (by address).
    pub symbols: Vec<TableSymbol>,
    /// How the addresses were stored.
    pub encoding: AddressEncoding,
}

impl SymbolTable {
    /// The table in System.map's format (`<address> <type> <name>` per line), which is also the
    /// format of `/proc/kallsyms` for the kernel's own symbols.
    pub fn system_map(&self) -> String {
        let mut out = String::with_capacity(self.symbols.len() * 40);
        for s in &self.symbols {
            out.push_str(&format!("{:016x} {} {}\n", s.address, s.kind, s.name));
        }
        out
    }
}

/// The symbol table of the uncompressed kernel `image` (an ELF `vmlinux` or a raw `Image`).
pub fn read(image: &[u8]) -> Result<SymbolTable, Error> {
    let mut token_tables = 0;
    let mut names_found = 0;
    let mut relocated_base = false;
    for digits in occurrences(image, DIGIT_TOKENS) {
        let Some(tokens) = tokens_at(image, digits) else {
            continue;
        };
        token_tables += 1;
        for names in names_before(image, &tokens) {
            names_found += 1;
            relocated_base |= base_left_to_relocation(image, &names);
            if let Some((addresses, encoding)) = addresses(image, &tokens, &names) {
                let symbols = names
                    .names
                    .into_iter()
                    .zip(addresses)
                    .map(|((kind, name), address)| TableSymbol {
                        address,
                        kind,
                        name,
                    })
                    .collect();
                return Ok(SymbolTable { symbols, encoding });
            }
        }
    }
    Err(Error::Input(match (token_tables, names_found) {
        _ if relocated_base => "the kernel image's kallsyms names and offsets decode, but its kallsyms_relative_base is zero: the kernel fills it in when it relocates itself at boot (a raw arm64 Image), so only a System.map gives the addresses; pass one (from the kernel's debug package) instead".to_owned(),
        (0, _) => "the kernel image holds no kallsyms token table: is it built with CONFIG_KALLSYMS? Pass its System.map (from the kernel's debug package) instead".to_owned(),
        (_, 0) => "the kernel image has a kallsyms token table but no symbol names that decode with it; pass its System.map (from the kernel's debug package) instead".to_owned(),
        _ => "the kernel image's kallsyms names decode, but no base-relative or absolute address table matches them (newer kernels store addresses relative to each entry, not read yet); pass its System.map (from the kernel's debug package) instead".to_owned(),
    }))
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// The token table and where it and its index lie.
struct Tokens<'a> {
    expansions: Vec<&'a [u8]>,
    table_start: usize,
    index_end: usize,
}

/// The token table whose `'0'` token starts at `digits`, if its index follows it and agrees.
fn tokens_at(image: &[u8], digits: usize) -> Option<Tokens<'_>> {
    // Tokens '0' through 255 follow, each NUL-terminated: that is where the table ends.
    let mut end = digits;
    for _ in b'0'..=u8::MAX {
        let len = image.get(end..)?.iter().take(256).position(|&b| b == 0)?;
        end += len + 1;
    }
    // The index follows the table, aligned to 2, 4 or 8 bytes.
    'align: for align in [2, 4, 8] {
        let index_at = end.next_multiple_of(align);
        let index: Vec<usize> = (0..256)
            .map(|i| u16_at(image, index_at + 2 * i).map(usize::from))
            .collect::<Option<_>>()?;
        if index[0] != 0 {
            continue;
        }
        let Some(start) = digits.checked_sub(index[usize::from(b'0')]) else {
            continue;
        };
        let mut expansions = Vec::with_capacity(256);
        for i in 0..256 {
            let from = start + index[i];
            let to = if i == 255 { end } else { start + index[i + 1] };
            if to <= from || to > end || image[to - 1] != 0 || image[from..to - 1].contains(&0) {
                continue 'align;
            }
            expansions.push(&image[from..to - 1]);
        }
        return Some(Tokens {
            expansions,
            table_start: start,
            index_end: index_at + 512,
        });
    }
    None
}

/// The decoded names and where `kallsyms_num_syms` is.
struct Names {
    num_syms_at: usize,
    names: Vec<(char, String)>,
}

/// A ULEB128 length of one or two bytes, and how many bytes it took.
fn name_length(image: &[u8], at: usize) -> Option<(usize, usize)> {
    let first = *image.get(at)?;
    if first & 0x80 == 0 {
        return Some((usize::from(first), 1));
    }
    let second = *image.get(at + 1)?;
    (second & 0x80 == 0).then(|| (usize::from(first & 0x7f) | (usize::from(second) << 7), 2))
}

/// The symbol whose compressed name starts at `at`: its type, its name, and where the next
/// one starts.
fn decode_name(image: &[u8], tokens: &Tokens<'_>, at: usize) -> Option<(char, String, usize)> {
    let (len, header) = name_length(image, at)?;
    if len == 0 {
        return None;
    }
    let compressed = image.get(at + header..at + header + len)?;
    let mut expanded = Vec::with_capacity(len * 3);
    for &t in compressed {
        expanded.extend_from_slice(tokens.expansions[usize::from(t)]);
    }
    let (&kind, name) = expanded.split_first()?;
    if !(kind.is_ascii_alphabetic() || kind == b'?')
        || name.is_empty()
        || !name.iter().all(|b| (0x21..=0x7e).contains(b))
    {
        return None;
    }
    let name = String::from_utf8(name.to_vec()).ok()?;
    Some((char::from(kind), name, at + header + len))
}

/// Every `kallsyms_num_syms` before the token table whose names decode and whose markers
/// follow them.
fn names_before<'a>(image: &'a [u8], tokens: &'a Tokens<'a>) -> impl Iterator<Item = Names> + 'a {
    let limit = tokens.table_start;
    let from = limit.saturating_sub(NAMES_WINDOW) & !3;
    (from..limit.saturating_sub(8))
        .step_by(4)
        .filter_map(move |at| names_at(image, tokens, at, limit))
}

fn names_at(image: &[u8], tokens: &Tokens<'_>, num_syms_at: usize, limit: usize) -> Option<Names> {
    let count = u32_at(image, num_syms_at)?;
    if count == 0 || count > MAX_SYMBOLS {
        return None;
    }
    // The names are aligned to the word size; the padding is zero.
    let first = (num_syms_at + 4).next_multiple_of(8);
    if image[num_syms_at + 4..first].iter().any(|&b| b != 0) {
        return None;
    }
    // A cheap look at the first few before decoding them all.
    let mut at = first;
    for _ in 0..count.min(4) {
        at = decode_name(image, tokens, at)?.2;
    }
    let mut names = Vec::with_capacity(count as usize);
    let mut markers = Vec::with_capacity(count as usize / 256 + 1);
    let mut at = first;
    for i in 0..count {
        if i % 256 == 0 {
            markers.push(u64::try_from(at - first).ok()?);
        }
        let (kind, name, next) = decode_name(image, tokens, at)?;
        if next > limit {
            return None;
        }
        names.push((kind, name));
        at = next;
    }
    // The markers follow, 32-bit or word-sized, aligned to their size or to the word; after
    // them comes the token table, or first `kallsyms_seqs_of_names` (3 or 4 bytes a symbol).
    let count = count as usize;
    let matches = |width: usize, align: usize| {
        let start = at.next_multiple_of(align);
        let end = start + width * markers.len();
        let adjacent = [0, 3 * count, 4 * count].iter().any(|&seqs| {
            [4, 8].iter().any(|&a| {
                let seqs_end = end.next_multiple_of(a) + seqs;
                seqs_end.next_multiple_of(a) == limit
            })
        });
        adjacent
            && markers.iter().enumerate().all(|(j, &m)| {
                let v = if width == 4 {
                    u32_at(image, start + 4 * j).map(u64::from)
                } else {
                    u64_at(image, start + 8 * j)
                };
                v == Some(m)
            })
    };
    (matches(4, 4) || matches(4, 8) || matches(8, 8)).then_some(Names { num_syms_at, names })
}

/// The addresses of `names`, from whichever layout the kernel has.
fn addresses(
    image: &[u8],
    tokens: &Tokens<'_>,
    names: &Names,
) -> Option<(Vec<u64>, AddressEncoding)> {
    let count = names.names.len();
    let offsets_len = (4 * count).next_multiple_of(8);
    // Older kernels: offsets, then the base, just before kallsyms_num_syms.
    let fits = |found: &(Vec<u64>, AddressEncoding)| plausible(&found.0, &names.names, found.1);
    let before = names.num_syms_at.checked_sub(8).and_then(|base_at| {
        let offsets_at = base_at.checked_sub(offsets_len)?;
        relative(image, offsets_at, base_at, count).filter(fits)
    });
    // Newer kernels: offsets after the token index, then the base.
    let after = || {
        let offsets_at = tokens.index_end.next_multiple_of(8);
        relative(image, offsets_at, offsets_at + offsets_len, count).filter(fits)
    };
    // Without base-relative tables: one word per symbol before kallsyms_num_syms.
    let absolute = || {
        let at = names.num_syms_at.checked_sub(8 * count)?;
        let addresses: Vec<u64> = (0..count)
            .map(|i| u64_at(image, at + 8 * i))
            .collect::<Option<_>>()?;
        Some((addresses, AddressEncoding::Absolute)).filter(fits)
    };
    before.or_else(after).or_else(absolute)
}

/// Whether the older layout is there with a zero base: the offsets sorted, the base left for
/// the relocation entries to fill in (arm64 links its raw Image without applying them).
fn base_left_to_relocation(image: &[u8], names: &Names) -> bool {
    let count = names.names.len();
    let Some(base_at) = names.num_syms_at.checked_sub(8) else {
        return false;
    };
    let Some(offsets_at) = base_at.checked_sub((4 * count).next_multiple_of(8)) else {
        return false;
    };
    let offsets: Option<Vec<u32>> = (0..count)
        .map(|i| u32_at(image, offsets_at + 4 * i))
        .collect();
    u64_at(image, base_at) == Some(0)
        && offsets.is_some_and(|o| o.windows(2).all(|w| w[0] <= w[1]) && o.last() > o.first())
}

/// Base-relative offsets at `offsets_at` with the base at `base_at`, decoded.
fn relative(
    image: &[u8],
    offsets_at: usize,
    base_at: usize,
    count: usize,
) -> Option<(Vec<u64>, AddressEncoding)> {
    let base = u64_at(image, base_at)?;
    if base < KERNEL_SPACE {
        return None;
    }
    let offsets: Vec<i32> = (0..count)
        .map(|i| u32_at(image, offsets_at + 4 * i).map(u32::cast_signed))
        .collect::<Option<_>>()?;
    // A kernel image is far smaller than 2 GiB, so a negative offset is the per-CPU encoding.
    let encoding = if offsets.iter().any(|&o| o < 0) {
        AddressEncoding::AbsolutePercpu
    } else {
        AddressEncoding::Relative
    };
    let addresses: Vec<u64> = offsets
        .iter()
        .map(|&o| match encoding {
            AddressEncoding::AbsolutePercpu if o >= 0 => u64::from(o.unsigned_abs()),
            AddressEncoding::AbsolutePercpu => base
                .wrapping_sub(1)
                .wrapping_add(u64::from(o.unsigned_abs())),
            _ => base.wrapping_add(u64::from(o.cast_unsigned())),
        })
        .collect();
    Some((addresses, encoding))
}

/// Sorted, and in kernel space apart from absolute per-CPU symbols.
fn plausible(addresses: &[u64], names: &[(char, String)], encoding: AddressEncoding) -> bool {
    let sorted = addresses.windows(2).all(|w| w[0] <= w[1]);
    let in_kernel = addresses.iter().zip(names).all(|(&a, (kind, _))| {
        a >= KERNEL_SPACE || (encoding == AddressEncoding::AbsolutePercpu && *kind == 'A')
    });
    sorted && in_kernel && !addresses.is_empty()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Where the encoder puts the addresses.
    #[derive(Clone, Copy)]
    pub(crate) enum Placement {
        BeforeNames,
        AfterTokenIndex,
    }

    fn pad(out: &mut Vec<u8>, align: usize) {
        out.resize(out.len().next_multiple_of(align), 0);
    }

    /// The tables as `scripts/kallsyms.c` lays them out, with a token table of every printable
    /// byte plus one pair-like token (`\x01` = "init_").
    pub(crate) fn encode(
        symbols: &[(u64, char, String)],
        encoding: AddressEncoding,
        placement: Placement,
    ) -> Vec<u8> {
        let mut expansions: Vec<Vec<u8>> = vec![Vec::new(); 256];
        for c in 0x21u8..=0x7e {
            expansions[usize::from(c)] = vec![c];
        }
        expansions[1] = b"init_".to_vec();
        let count = u32::try_from(symbols.len()).unwrap();
        let base = symbols
            .iter()
            .filter(|s| !(encoding == AddressEncoding::AbsolutePercpu && s.1 == 'A'))
            .map(|s| s.0)
            .min()
            .unwrap();
        let mut addresses = Vec::new();
        match encoding {
            AddressEncoding::Absolute => {
                for s in symbols {
                    addresses.extend_from_slice(&s.0.to_le_bytes());
                }
            }
            _ => {
                for s in symbols {
                    let v: i64 = if encoding == AddressEncoding::AbsolutePercpu {
                        if s.1 == 'A' {
                            i64::try_from(s.0).unwrap()
                        } else {
                            -i64::try_from(s.0 - base).unwrap() - 1
                        }
                    } else {
                        i64::try_from(s.0 - base).unwrap()
                    };
                    addresses.extend_from_slice(&i32::try_from(v).unwrap().to_le_bytes());
                }
                pad(&mut addresses, 8);
                addresses.extend_from_slice(&base.to_le_bytes());
            }
        }
        let mut names = Vec::new();
        let mut markers = Vec::new();
        for (i, s) in symbols.iter().enumerate() {
            if i % 256 == 0 {
                markers.extend_from_slice(&u32::try_from(names.len()).unwrap().to_le_bytes());
            }
            let mut compressed = vec![u8::try_from(u32::from(s.1)).unwrap()];
            let mut rest = s.2.as_bytes();
            while !rest.is_empty() {
                if let Some(after) = rest.strip_prefix(b"init_") {
                    compressed.push(1);
                    rest = after;
                } else {
                    compressed.push(rest[0]);
                    rest = &rest[1..];
                }
            }
            let len = compressed.len();
            if len > 0x7f {
                names.push(u8::try_from(len & 0x7f).unwrap() | 0x80);
                names.push(u8::try_from(len >> 7).unwrap());
            } else {
                names.push(u8::try_from(len).unwrap());
            }
            names.extend_from_slice(&compressed);
        }
        let mut table = Vec::new();
        let mut index = Vec::new();
        for e in &expansions {
            index.extend_from_slice(&u16::try_from(table.len()).unwrap().to_le_bytes());
            table.extend_from_slice(e);
            table.push(0);
        }

        // Unrelated data first, with a decoy: the digits without an index after them.
        let mut image =
            b"\x7fELF junk 0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00a\0b\0".to_vec();
        image.extend(std::iter::repeat_n(0xaa, 300));
        pad(&mut image, 8);
        if let Placement::BeforeNames = placement {
            image.extend_from_slice(&addresses);
            pad(&mut image, 8);
        }
        image.extend_from_slice(&count.to_le_bytes());
        pad(&mut image, 8);
        image.extend_from_slice(&names);
        pad(&mut image, 8);
        image.extend_from_slice(&markers);
        pad(&mut image, 8);
        image.extend_from_slice(&table);
        pad(&mut image, 8);
        image.extend_from_slice(&index);
        pad(&mut image, 8);
        if let Placement::AfterTokenIndex = placement {
            image.extend_from_slice(&addresses);
        }
        image.extend_from_slice(b"\x01\x02\x03 rodata goes on");
        image
    }

    pub(crate) fn symbols(percpu: bool) -> Vec<(u64, char, String)> {
        let mut symbols = Vec::new();
        if percpu {
            symbols.push((0, 'A', "fixed_percpu_data".to_owned()));
            symbols.push((0x1000, 'A', "irq_stack_backing_store".to_owned()));
        }
        symbols.push((0xffff_ffff_8100_0000, 'T', "_text".to_owned()));
        symbols.push((0xffff_ffff_8100_0000, 'T', "startup_64".to_owned()));
        for i in 0..600u64 {
            let kind = if i % 3 == 0 { 't' } else { 'T' };
            symbols.push((
                0xffff_ffff_8100_1000 + 16 * i,
                kind,
                format!("fn_{i}_init_x"),
            ));
        }
        // A name longer than 127 tokens takes a two-byte length.
        symbols.push((0xffff_ffff_8200_0000, 'D', "n".repeat(200)));
        symbols.push((0xffff_ffff_8260_0000, 'D', "init_task".to_owned()));
        symbols.push((0xffff_ffff_8261_0000, 'D', "linux_banner".to_owned()));
        symbols
    }

    fn round_trip(encoding: AddressEncoding, placement: Placement) {
        let expected = symbols(encoding == AddressEncoding::AbsolutePercpu);
        let image = encode(&expected, encoding, placement);
        let table = read(&image).expect("the table is found");
        assert_eq!(table.encoding, encoding);
        let got: Vec<(u64, char, String)> = table
            .symbols
            .iter()
            .map(|s| (s.address, s.kind, s.name.clone()))
            .collect();
        assert_eq!(got, expected);
        let map = table.system_map();
        assert!(
            map.contains("ffffffff81000000 T _text\n")
                && map.contains("ffffffff82600000 D init_task\n"),
            "{map}"
        );
    }

    #[test]
    fn base_relative_offsets_before_the_names_are_read() {
        round_trip(AddressEncoding::Relative, Placement::BeforeNames);
    }

    #[test]
    fn absolute_per_cpu_symbols_are_read_as_x86_64_smp_kernels_store_them() {
        round_trip(AddressEncoding::AbsolutePercpu, Placement::BeforeNames);
    }

    #[test]
    fn offsets_after_the_token_index_as_newer_kernels_place_them_are_read() {
        round_trip(AddressEncoding::Relative, Placement::AfterTokenIndex);
        round_trip(AddressEncoding::AbsolutePercpu, Placement::AfterTokenIndex);
    }

    #[test]
    fn plain_addresses_of_kernels_without_base_relative_tables_are_read() {
        round_trip(AddressEncoding::Absolute, Placement::BeforeNames);
    }

    #[test]
    fn an_image_without_a_table_or_with_a_damaged_one_says_why() {
        let e = read(b"\x7fELF no tables here").unwrap_err().to_string();
        assert!(
            e.contains("CONFIG_KALLSYMS") && e.contains("System.map"),
            "{e}"
        );

        let good = encode(
            &symbols(false),
            AddressEncoding::Relative,
            Placement::BeforeNames,
        );
        // The first name's length zeroed: no names decode.
        let mut count = u32::try_from(symbols(false).len())
            .unwrap()
            .to_le_bytes()
            .to_vec();
        count.extend_from_slice(&[0; 4]);
        let names_at = good
            .windows(8)
            .position(|w| w == count)
            .expect("kallsyms_num_syms")
            + 8;
        let mut nameless = good.clone();
        nameless[names_at] = 0;
        let e = read(&nameless).unwrap_err().to_string();
        assert!(e.contains("no symbol names that decode"), "{e}");
        // Two offsets swapped: the addresses are no longer sorted.
        let mut unsorted = good.clone();
        let first = unsorted
            .windows(4)
            .position(|w| w == 0x1000u32.to_le_bytes())
            .expect("the offset of the first function");
        for k in 0..4 {
            unsorted.swap(first + k, first + 4 + k);
        }
        let e = read(&unsorted).unwrap_err().to_string();
        assert!(
            e.contains("no base-relative or absolute address table"),
            "{e}"
        );
    }
}
