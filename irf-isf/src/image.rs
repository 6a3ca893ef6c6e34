//! A symbol bundle from an installed kernel's files, for a kernel that is not running: the
//! module factory builds an ISF for every kernel of an AMI's stream, not only the one it boots.
//!
//! What the running kernel shows in `/sys/kernel/btf/vmlinux`, `/proc/kallsyms` and
//! `/proc/version`, an installed kernel has in its package:
//!
//! * the BTF is a section of `vmlinux`, and `vmlinux` is inside `/boot/vmlinuz-<release>`:
//!   compressed in an x86 bzImage (gzip, xz, LZ4 or zstd), or the
//!   whole file gzip-compressed (arm64 `Image.gz`), or not compressed at all. [`kernel_image`]
//!   finds the stream, and [`find_btf`] the BTF blob by its header, checked with the BTF reader;
//! * `/boot/System.map-<release>` lists the symbols at their link-time addresses, in kallsyms'
//!   format (no KASLR shift to take off). Where the package has none, or a placeholder (Debian
//!   keeps the real one in the kernel's `-dbg` package), the image's own kallsyms tables give
//!   the same list ([`symbol_table`](crate::symbol_table));
//! * the banner (`linux_banner`, `Linux version <release> (...)\n`) is a string in the image.

use std::collections::BTreeMap;
use std::io::Read;

use crate::Error;
use crate::btf::Btf;
use crate::bundle::{self, Bundle, Uname};
use crate::symbol_table::{self, AddressEncoding};

/// BTF magic (0xeB9F) as stored by a little-endian kernel.
const BTF_MAGIC_LE: [u8; 2] = [0x9f, 0xeb];
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const LZ4_LEGACY_MAGIC: [u8; 4] = [0x02, 0x21, 0x4c, 0x18];

/// The installed kernel's files.
#[derive(Debug, Clone)]
pub struct InstalledKernel<'a> {
    /// `uname -r` of the kernel.
    pub release: &'a str,
    /// `uname -m` of the machine it runs on (`x86_64`, `aarch64`).
    pub machine: &'a str,
    /// `/boot/vmlinuz-<release>`.
    pub vmlinuz: &'a [u8],
    /// `/boot/System.map-<release>`, when installed; without one, or when it lists no symbols,
    /// the symbols come from the image's own kallsyms tables.
    pub system_map: Option<&'a [u8]>,
    /// `/boot/config-<release>`, when installed.
    pub config: Option<&'a [u8]>,
}

/// The uncompressed kernel inside `vmlinuz`: the file itself when it already holds the BTF
/// (uncompressed), else the first gzip, xz, LZ4 or zstd stream (at the start, or inside a
/// bzImage) whose output does.
pub fn kernel_image(vmlinuz: &[u8]) -> Result<Vec<u8>, Error> {
    if find_btf(vmlinuz).is_some() {
        return Ok(vmlinuz.to_vec());
    }
    let mut tried = Vec::new();
    for offset in candidates(vmlinuz, &GZIP_MAGIC) {
        tried.push("gzip");
        let mut out = Vec::new();
        // A bzImage has bytes after the stream; a decoder error after output is still usable.
        let _ = flate2::read::GzDecoder::new(&vmlinuz[offset..]).read_to_end(&mut out);
        if find_btf(&out).is_some() {
            return Ok(out);
        }
    }
    for offset in candidates(vmlinuz, &XZ_MAGIC) {
        tried.push("xz");
        let mut out = Vec::new();
        let _ = lzma_rust2::XzReader::new(&vmlinuz[offset..], false).read_to_end(&mut out);
        if find_btf(&out).is_some() {
            return Ok(out);
        }
    }
    for offset in candidates(vmlinuz, &LZ4_LEGACY_MAGIC) {
        tried.push("lz4");
        let out = lz4_legacy(&vmlinuz[offset + LZ4_LEGACY_MAGIC.len()..]);
        if find_btf(&out).is_some() {
            return Ok(out);
        }
    }
    for offset in candidates(vmlinuz, &ZSTD_MAGIC) {
        tried.push("zstd");
        let mut out = Vec::new();
        if let Ok(mut decoder) = ruzstd::decoding::StreamingDecoder::new(&vmlinuz[offset..]) {
            let _ = decoder.read_to_end(&mut out);
        }
        if find_btf(&out).is_some() {
            return Ok(out);
        }
    }
    Err(Error::Input(if tried.is_empty() {
        "the kernel image holds no BTF and no gzip, xz, LZ4 or zstd stream: is it built with CONFIG_DEBUG_INFO_BTF? (an uncompressed vmlinux works too)".to_owned()
    } else {
        format!(
            "no BTF in the kernel image ({} stream(s) tried: {}): is it built with CONFIG_DEBUG_INFO_BTF?",
            tried.len(),
            tried.join(", ")
        )
    }))
}

/// Largest block of the LZ4 legacy frame format (what the kernel's `lz4 -l` writes).
const LZ4_LEGACY_BLOCK: usize = 8 << 20;

/// Decodes LZ4 legacy-frame blocks (each a little-endian compressed size, then the block) until
/// the data stops looking like a block: the kernel appends the uncompressed size after the
/// stream, and a bzImage has more after that.
fn lz4_legacy(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut block = vec![0u8; LZ4_LEGACY_BLOCK];
    while let Some(word) = data.get(..4) {
        if word == LZ4_LEGACY_MAGIC {
            data = &data[4..]; // a concatenated frame
            continue;
        }
        let size = u32::from_le_bytes([word[0], word[1], word[2], word[3]]) as usize;
        let Some(compressed) = data.get(4..4 + size).filter(|_| size > 0) else {
            break;
        };
        match lz4_flex::block::decompress_into(compressed, &mut block) {
            Ok(n) => out.extend_from_slice(&block[..n]),
            Err(_) => break,
        }
        data = &data[4 + size..];
    }
    out
}

/// Offsets where `needle` starts in `haystack`, in order.
pub(crate) fn occurrences<'a>(
    haystack: &'a [u8],
    needle: &'a [u8],
) -> impl Iterator<Item = usize> + 'a {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(move |(_, w)| *w == needle)
        .map(|(i, _)| i)
}

/// The first offsets where a compression `magic` starts in `data` (a stream is tried at each).
fn candidates<'a>(data: &'a [u8], magic: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    occurrences(data, magic).take(64)
}

/// The largest well-formed BTF blob in `image` (the kernel's own; modules' are not in it).
pub fn find_btf(image: &[u8]) -> Option<&[u8]> {
    let mut best: Option<&[u8]> = None;
    let mut at = 0;
    while let Some(i) = image[at..]
        .windows(2)
        .position(|w| w == BTF_MAGIC_LE)
        .map(|p| p + at)
    {
        at = i + 1;
        let Some(blob) = btf_blob(&image[i..]) else {
            continue;
        };
        if blob.len() > best.map_or(0, <[u8]>::len) && Btf::parse(blob).is_ok() {
            best = Some(blob);
        }
    }
    best
}

/// The blob a BTF header at the start of `data` describes, when the header is plausible.
fn btf_blob(data: &[u8]) -> Option<&[u8]> {
    let u32_at = |o: usize| -> Option<u32> {
        data.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    // magic, version 1, flags 0, hdr_len 24, type_off 0, type_len, str_off, str_len.
    if data.get(2..4)? != [1, 0] || u32_at(4)? != 24 || u32_at(8)? != 0 {
        return None;
    }
    let (type_len, str_off, str_len) = (u32_at(12)?, u32_at(16)?, u32_at(20)?);
    if str_off != type_len || type_len == 0 || str_len == 0 {
        return None;
    }
    let total = 24usize
        .checked_add(str_off as usize)?
        .checked_add(str_len as usize)?;
    data.get(..total)
}

/// The banner of `release` in `image`: `Linux version <release> (...)` through its newline.
pub fn find_banner(image: &[u8], release: &str) -> Option<Vec<u8>> {
    let needle = format!("Linux version {release} (");
    let start = image
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())?;
    let end = image[start..].iter().position(|&b| b == b'\n' || b == 0)?;
    let mut banner = image[start..start + end].to_vec();
    banner.push(b'\n');
    Some(banner)
}

/// Where an installed kernel's symbols came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolSource {
    /// Its System.map.
    SystemMap,
    /// The kallsyms tables inside its image.
    ImageTable {
        /// How many symbols the table has.
        symbols: usize,
        /// How it stores their addresses.
        encoding: AddressEncoding,
    },
}

impl std::fmt::Display for SymbolSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SymbolSource::SystemMap => f.write_str("System.map"),
            SymbolSource::ImageTable { symbols, encoding } => write!(
                f,
                "the kernel image's own kallsyms table ({symbols} symbols; addresses {})",
                encoding.as_str()
            ),
        }
    }
}

/// Whether a System.map lists symbols: Debian's placeholder is one line pointing elsewhere.
fn lists_symbols(map: &[u8]) -> bool {
    map.split(|&b| b == b'\n')
        .any(|line| line.split(|&b| b == b' ').nth(2) == Some(b"_text"))
}

/// The bundle of an installed kernel, as if its running self had been asked, and where its
/// symbols came from.
pub fn bundle(
    kernel: &InstalledKernel<'_>,
    captured_at: &str,
) -> Result<(Bundle, SymbolSource), Error> {
    let image = kernel_image(kernel.vmlinuz)?;
    let btf = find_btf(&image).expect("kernel_image returns an image with BTF");
    let banner = find_banner(&image, kernel.release).ok_or_else(|| {
        Error::Input(format!(
            "the kernel image has no banner \"Linux version {} (...\": is it the image of that release?",
            kernel.release
        ))
    })?;
    let (symbols, source) = match kernel.system_map.filter(|m| lists_symbols(m)) {
        Some(map) => (map.to_vec(), SymbolSource::SystemMap),
        None => {
            let table = symbol_table::read(&image)?;
            let source = SymbolSource::ImageTable {
                symbols: table.symbols.len(),
                encoding: table.encoding,
            };
            (table.system_map().into_bytes(), source)
        }
    };
    let mut files = BTreeMap::from([
        (bundle::VERSION.to_owned(), banner),
        (bundle::BTF.to_owned(), btf.to_vec()),
        (bundle::KALLSYMS.to_owned(), symbols),
        (
            bundle::OSRELEASE.to_owned(),
            format!("{}\n", kernel.release).into_bytes(),
        ),
    ]);
    if let Some(config) = kernel.config {
        files.insert(bundle::CONFIG.to_owned(), config.to_vec());
    }
    let bundle = Bundle::from_files(
        files,
        captured_at,
        None,
        Uname {
            machine: kernel.machine.to_owned(),
            nodename: String::new(),
            release: kernel.release.to_owned(),
            sysname: "Linux".to_owned(),
            version: String::new(),
        },
    )?;
    Ok((bundle, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal BTF blob: one `int` type.
    fn tiny_btf() -> Vec<u8> {
        let mut types = Vec::new();
        // name_off 1, info: kind INT (1) << 24, size 4, then the int encoding (32 bits).
        types.extend_from_slice(&1u32.to_le_bytes());
        types.extend_from_slice(&(1u32 << 24).to_le_bytes());
        types.extend_from_slice(&4u32.to_le_bytes());
        types.extend_from_slice(&32u32.to_le_bytes());
        let strings = b"\0int\0";
        let mut blob = vec![0x9f, 0xeb, 1, 0];
        let len = |n: usize| u32::try_from(n).expect("small");
        for v in [
            24,
            0,
            len(types.len()),
            len(types.len()),
            len(strings.len()),
        ] {
            blob.extend_from_slice(&v.to_le_bytes());
        }
        blob.extend_from_slice(&types);
        blob.extend_from_slice(strings);
        blob
    }

    fn image() -> Vec<u8> {
        let mut image = b"\x7fELF padding \x9f\xeb junk".to_vec();
        image.extend_from_slice(&tiny_btf());
        image.extend_from_slice(b"\0rodata Linux version 6.1.0-41-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\n\0tail");
        image
    }

    #[test]
    fn the_btf_and_the_banner_are_found_in_an_uncompressed_image() {
        let image = image();
        assert_eq!(find_btf(&image), Some(&tiny_btf()[..]));
        assert_eq!(
            find_banner(&image, "6.1.0-41-cloud-amd64").unwrap(),
            b"Linux version 6.1.0-41-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\n"
        );
        assert_eq!(find_banner(&image, "6.1.0-40-cloud-amd64"), None);
    }

    #[test]
    fn a_bzimage_like_file_is_decompressed_from_its_xz_or_gzip_stream() {
        let inner = image();
        let xz = crate::xz::compress(&inner, 1).unwrap();
        let mut bz = b"MZ setup code HdrS ".to_vec();
        bz.extend_from_slice(&xz);
        bz.extend_from_slice(b"trailer after the stream");
        assert_eq!(kernel_image(&bz).unwrap(), inner);

        let mut gz = Vec::new();
        {
            use std::io::Write;
            let mut w = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
            w.write_all(&inner).unwrap();
            w.finish().unwrap();
        }
        assert_eq!(kernel_image(&gz).unwrap(), inner);
    }

    #[test]
    fn the_symbols_come_from_a_real_system_map_else_from_the_image_tables() {
        use crate::symbol_table::tests::{Placement, encode, symbols};
        let table = symbols(true);
        let mut vmlinux = image();
        // The tables sit at word-aligned addresses, as in .rodata.
        vmlinux.resize(vmlinux.len().next_multiple_of(8), 0);
        vmlinux.extend_from_slice(&encode(
            &table,
            AddressEncoding::AbsolutePercpu,
            Placement::BeforeNames,
        ));
        let placeholder =
            b"ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n";
        let real = b"ffffffff81000000 T _text\nffffffff82600000 D init_task\n";
        assert!(!lists_symbols(placeholder) && lists_symbols(real));
        let kernel = |system_map| InstalledKernel {
            release: "6.1.0-41-cloud-amd64",
            machine: "x86_64",
            vmlinuz: &vmlinux,
            system_map,
            config: None,
        };
        for map in [None, Some(&placeholder[..])] {
            let (bundle, source) = bundle(&kernel(map), "installed").unwrap();
            assert_eq!(
                source,
                SymbolSource::ImageTable {
                    symbols: table.len(),
                    encoding: AddressEncoding::AbsolutePercpu
                }
            );
            let kallsyms =
                String::from_utf8(bundle.file(bundle::KALLSYMS).unwrap().to_vec()).unwrap();
            assert!(
                kallsyms.contains("ffffffff82600000 D init_task\n"),
                "{kallsyms}"
            );
            assert!(
                source
                    .to_string()
                    .contains(&format!("kallsyms table ({} symbols", table.len())),
                "{source}"
            );
        }
        let (bundle, source) = bundle(&kernel(Some(real)), "installed").unwrap();
        assert_eq!(source, SymbolSource::SystemMap);
        assert_eq!(bundle.file(bundle::KALLSYMS).unwrap(), real);
    }

    #[test]
    fn an_image_without_btf_says_why() {
        let e = kernel_image(b"MZ nothing here").unwrap_err().to_string();
        assert!(e.contains("CONFIG_DEBUG_INFO_BTF"), "{e}");
        let mut lz4 = b"MZ setup ".to_vec();
        lz4.extend_from_slice(&LZ4_LEGACY_MAGIC);
        for chunk in image().chunks(40) {
            let block = lz4_flex::block::compress(chunk);
            lz4.extend_from_slice(&u32::try_from(block.len()).unwrap().to_le_bytes());
            lz4.extend_from_slice(&block);
        }
        lz4.extend_from_slice(&1234u32.to_le_bytes());
        assert_eq!(kernel_image(&lz4).unwrap(), image());
        // A zstd frame, then the size the kernel appends and the rest of a bzImage.
        let mut zstd = b"MZ setup ".to_vec();
        zstd.extend_from_slice(&ruzstd::encoding::compress_to_vec(
            &image()[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
        zstd.extend_from_slice(&1234u32.to_le_bytes());
        assert_eq!(kernel_image(&zstd).unwrap(), image());
        // A stream that decodes to something without BTF is named in the error.
        let mut no_btf = b"MZ ".to_vec();
        no_btf.extend_from_slice(&ruzstd::encoding::compress_to_vec(
            &b"no types in here"[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
        let e = kernel_image(&no_btf).unwrap_err().to_string();
        assert!(
            e.contains("1 stream(s) tried: zstd") && e.contains("CONFIG_DEBUG_INFO_BTF"),
            "{e}"
        );
    }
}
