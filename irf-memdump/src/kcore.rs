//! Physical memory through `/proc/kcore` (AVML's approach).
//!
//! `/proc/iomem` lists the physical address map; its top-level "System RAM" lines are the RAM.
//! `/proc/kcore` is an ELF64 core file of the kernel's address space whose `PT_LOAD` program
//! headers carry the physical address of what they map in `p_paddr`. Each RAM range is read from
//! the `PT_LOAD` whose `[p_paddr, p_paddr + p_filesz)` contains it, at file offset
//! `p_offset + (start - p_paddr)`, and framed as LiME ([`crate::lime`]). Parts of a RAM range that
//! no `PT_LOAD` covers are reported as skipped, never silently dropped.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::lime::{self, HEADER_LEN, Range};

/// Why kcore capture cannot go ahead.
#[derive(Debug, thiserror::Error)]
pub enum KcoreError {
    /// The file cannot be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// Path of the file that could not be read.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not an ELF file at all.
    #[error("{} is not an ELF core file: {what}", path.display())]
    NotElf {
        /// Path of the file read as kcore.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// An ELF file of a kind this tool does not read.
    #[error(
        "{}: {what} is not supported: need an ELF64 little-endian core file (x86_64 or aarch64)",
        path.display()
    )]
    Unsupported {
        /// Path of the file read as kcore.
        path: PathBuf,
        /// What the file is: its class, byte order, type or machine.
        what: String,
    },
    /// The ELF structures are inconsistent.
    #[error("{}: malformed ELF: {what}", path.display())]
    Malformed {
        /// Path of the file read as kcore.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A /proc/iomem line cannot be parsed.
    #[error("{}:{line}: cannot parse {text:?}: {what}", path.display())]
    Iomem {
        /// Path of the file read as iomem.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line, as read.
        text: String,
        /// What is wrong.
        what: String,
    },
    /// /proc/iomem lists no top-level System RAM.
    #[error("{} lists no top-level \"System RAM\" range", path.display())]
    NoRam {
        /// Path of the file read as iomem.
        path: PathBuf,
    },
    /// Every System RAM range reads as 0-0: the kernel hides addresses from non-root readers.
    #[error(
        "{} shows every \"System RAM\" range as 00000000-00000000: addresses are hidden, run as root",
        path.display()
    )]
    AddressesHidden {
        /// Path of the file read as iomem.
        path: PathBuf,
    },
    /// No byte of RAM is covered by a `PT_LOAD`.
    #[error("no \"System RAM\" range of {} is covered by a PT_LOAD of {}", iomem.display(), kcore.display())]
    NothingCovered {
        /// The iomem file.
        iomem: PathBuf,
        /// The kcore file.
        kcore: PathBuf,
    },
}

/// ELF `e_machine` of x86_64.
pub const EM_X86_64: u16 = 62;
/// ELF `e_machine` of aarch64.
pub const EM_AARCH64: u16 = 183;
/// Program header type of a loadable segment.
pub const PT_LOAD: u32 = 1;
/// Program header type of a note segment.
pub const PT_NOTE: u32 = 4;
/// ELF type of a core file.
pub const ET_CORE: u16 = 4;
/// Size of an ELF64 file header.
pub const EHDR_LEN: usize = 64;
/// Size of an ELF64 program header.
pub const PHDR_LEN: usize = 56;
/// `e_phnum` value meaning "the count is in section header 0's `sh_info`".
const PN_XNUM: u16 = 0xffff;
/// Upper bound on program headers read (kcore has a few hundred at most).
const MAX_PHDRS: u64 = 1 << 20;

/// A file-backed `PT_LOAD` segment: physical `[paddr, paddr + size)` is at file `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// `p_paddr`.
    pub paddr: u64,
    /// `p_offset`.
    pub offset: u64,
    /// `p_filesz`.
    pub size: u64,
}

impl Segment {
    /// Last physical address covered, or `None` for an empty segment or one that wraps (kcore
    /// marks mappings without a physical address with `p_paddr = -1`).
    fn last(&self) -> Option<u64> {
        if self.size == 0 {
            return None;
        }
        self.paddr.checked_add(self.size - 1)
    }
}

/// What the ELF header and program headers of a core file say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfCore {
    /// `e_machine` ([`EM_X86_64`] or [`EM_AARCH64`]).
    pub machine: u16,
    /// The `PT_LOAD` segments, in program-header order.
    pub loads: Vec<Segment>,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

/// Reads the ELF header and `PT_LOAD` program headers of the core file `file` (named `path` in
/// errors). Accepts ELF64 little-endian `ET_CORE` files of x86_64 or aarch64 only.
pub fn read_elf_core(file: &File, path: &Path) -> Result<ElfCore, KcoreError> {
    let io_err = |source| KcoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let malformed = |what: String| KcoreError::Malformed {
        path: path.to_path_buf(),
        what,
    };
    let unsupported = |what: String| KcoreError::Unsupported {
        path: path.to_path_buf(),
        what,
    };

    let mut eh = [0u8; EHDR_LEN];
    let n = read_full_at(file, &mut eh, 0).map_err(io_err)?;
    if n < 4 || eh[..4] != *b"\x7fELF" {
        return Err(KcoreError::NotElf {
            path: path.to_path_buf(),
            what: "no ELF magic".into(),
        });
    }
    match eh[4] {
        2 => {}
        1 => return Err(unsupported("ELF32 (ELFCLASS32)".into())),
        c => return Err(malformed(format!("unknown ELF class {c}"))),
    }
    match eh[5] {
        1 => {}
        2 => return Err(unsupported("big-endian ELF (ELFDATA2MSB)".into())),
        d => return Err(malformed(format!("unknown ELF data encoding {d}"))),
    }
    if n < EHDR_LEN {
        return Err(malformed(format!(
            "file ends inside the ELF header ({n} bytes)"
        )));
    }
    let e_type = u16_at(&eh, 16);
    if e_type != ET_CORE {
        return Err(unsupported(format!("ELF type {e_type} (not ET_CORE)")));
    }
    let machine = u16_at(&eh, 18);
    if machine != EM_X86_64 && machine != EM_AARCH64 {
        return Err(unsupported(format!("ELF machine {machine}")));
    }
    let phoff = u64_at(&eh, 32);
    let shoff = u64_at(&eh, 40);
    let phentsize = u16_at(&eh, 54);
    let mut phnum = u64::from(u16_at(&eh, 56));
    if usize::from(phentsize) < PHDR_LEN {
        return Err(malformed(format!(
            "e_phentsize {phentsize} is below {PHDR_LEN}"
        )));
    }
    if phnum == u64::from(PN_XNUM) {
        // More than 65534 program headers: the real count is section header 0's sh_info.
        let mut sh = [0u8; 64];
        let got = read_full_at(file, &mut sh, shoff).map_err(io_err)?;
        if got < 48 {
            return Err(malformed(
                "e_phnum is PN_XNUM but section header 0 is missing".into(),
            ));
        }
        phnum = u64::from(u32_at(&sh, 44));
    }
    if phnum > MAX_PHDRS {
        return Err(malformed(format!("{phnum} program headers")));
    }
    let table_len = usize::try_from(phnum * u64::from(phentsize))
        .map_err(|_| malformed("program header table too large".into()))?;
    let mut table = vec![0u8; table_len];
    let got = read_full_at(file, &mut table, phoff).map_err(io_err)?;
    if got < table_len {
        return Err(malformed(format!(
            "program header table ({phnum} x {phentsize} bytes at {phoff}) runs past the end of the file"
        )));
    }
    let loads = table
        .chunks_exact(usize::from(phentsize))
        .filter(|ph| u32_at(ph, 0) == PT_LOAD)
        .map(|ph| Segment {
            offset: u64_at(ph, 8),
            paddr: u64_at(ph, 24),
            size: u64_at(ph, 32),
        })
        .collect();
    Ok(ElfCore { machine, loads })
}

/// `read_at` until `buf` is full or the file ends; returns the bytes read.
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The top-level "System RAM" ranges of /proc/iomem text, in file order. Indented (nested) lines
/// such as `  00100000-001fffff : Kernel code` are ignored. `path` names the file in errors.
pub fn parse_iomem(text: &str, path: &Path) -> Result<Vec<Range>, KcoreError> {
    let mut ranges = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with(char::is_whitespace) {
            continue;
        }
        let bad = |what: &str| KcoreError::Iomem {
            path: path.to_path_buf(),
            line: i + 1,
            text: line.to_string(),
            what: what.to_string(),
        };
        let (span, name) = line.split_once(" : ").ok_or_else(|| bad("no \" : \""))?;
        if name.trim_end() != "System RAM" {
            continue;
        }
        let (start, end) = span
            .trim()
            .split_once('-')
            .ok_or_else(|| bad("no '-' in the range"))?;
        let start = u64::from_str_radix(start, 16).map_err(|_| bad("start is not hex"))?;
        let end = u64::from_str_radix(end, 16).map_err(|_| bad("end is not hex"))?;
        if end < start || end - start == u64::MAX {
            return Err(bad("end is below start"));
        }
        ranges.push(Range { start, end });
    }
    if ranges.is_empty() {
        return Err(KcoreError::NoRam {
            path: path.to_path_buf(),
        });
    }
    if ranges.iter().all(|r| r.start == 0 && r.end == 0) {
        return Err(KcoreError::AddressesHidden {
            path: path.to_path_buf(),
        });
    }
    Ok(ranges)
}

/// One LiME range of the image and where its bytes are in the core file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// The physical range.
    pub range: Range,
    /// File offset of `range.start`.
    pub file_offset: u64,
}

/// A RAM range (or part of one) that is not in the image, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// First byte address.
    pub start: u64,
    /// Last byte address (inclusive).
    pub end: u64,
    /// Why it was skipped.
    pub reason: String,
}

/// Reason recorded for RAM that no `PT_LOAD` covers.
pub const NOT_IN_KCORE: &str = "not covered by any PT_LOAD of kcore";

/// What the image will contain: the blocks in order, and the RAM left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// The LiME ranges, in physical address order of /proc/iomem.
    pub blocks: Vec<Block>,
    /// RAM not covered by any `PT_LOAD`.
    pub skipped: Vec<Skipped>,
}

impl Layout {
    /// Places every RAM range in the segments. A range inside one segment becomes one block; a
    /// range spanning adjacent segments becomes one block per segment; bytes no segment covers
    /// become skipped ranges. Where segments overlap, the one reaching furthest is used.
    pub fn new(ram: &[Range], loads: &[Segment]) -> Self {
        let mut layout = Layout::default();
        for r in ram {
            let mut cursor = r.start;
            loop {
                let covering = loads
                    .iter()
                    .filter_map(|s| s.last().map(|last| (s, last)))
                    .filter(|(s, last)| s.paddr <= cursor && cursor <= *last)
                    .max_by_key(|(_, last)| *last);
                let piece_end = if let Some((seg, last)) = covering {
                    let piece_end = last.min(r.end);
                    layout.blocks.push(Block {
                        range: Range {
                            start: cursor,
                            end: piece_end,
                        },
                        file_offset: seg.offset + (cursor - seg.paddr),
                    });
                    piece_end
                } else {
                    let next = loads
                        .iter()
                        .filter(|s| s.last().is_some() && s.paddr > cursor && s.paddr <= r.end)
                        .map(|s| s.paddr)
                        .min();
                    let gap_end = next.map_or(r.end, |n| n - 1);
                    layout.skipped.push(Skipped {
                        start: cursor,
                        end: gap_end,
                        reason: NOT_IN_KCORE.to_string(),
                    });
                    gap_end
                };
                if piece_end >= r.end {
                    break;
                }
                cursor = piece_end + 1;
            }
        }
        layout
    }

    /// Length of the LiME image: a header plus the bytes of each block.
    pub fn image_len(&self) -> u64 {
        self.blocks
            .iter()
            .map(|b| HEADER_LEN as u64 + b.range.size())
            .sum()
    }

    /// The LiME ranges in image order.
    pub fn ranges(&self) -> Vec<Range> {
        self.blocks.iter().map(|b| b.range).collect()
    }
}

/// Streams the LiME image of a [`Layout`] out of the core file: header, bytes, header, bytes...
#[derive(Debug)]
pub struct KcoreReader {
    file: File,
    path: PathBuf,
    blocks: Vec<Block>,
    index: usize,
    /// Position within the current block's header + bytes.
    pos: u64,
}

impl KcoreReader {
    /// A reader of `layout`'s blocks from `file` (named `path` in errors).
    pub fn new(file: File, path: PathBuf, layout: &Layout) -> Self {
        Self {
            file,
            path,
            blocks: layout.blocks.clone(),
            index: 0,
            pos: 0,
        }
    }
}

impl Read for KcoreReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(block) = self.blocks.get(self.index) else {
                return Ok(0);
            };
            let size = block.range.size();
            let header_len = HEADER_LEN as u64;
            if self.pos >= header_len + size {
                self.index += 1;
                self.pos = 0;
                continue;
            }
            if self.pos < header_len {
                let header = lime::header(block.range);
                let from = usize::try_from(self.pos).expect("a position inside the header");
                let n = (HEADER_LEN - from).min(buf.len());
                buf[..n].copy_from_slice(&header[from..from + n]);
                self.pos += n as u64;
                return Ok(n);
            }
            let data_pos = self.pos - header_len;
            let want =
                usize::try_from(size - data_pos).map_or(buf.len(), |left| left.min(buf.len()));
            let got = self
                .file
                .read_at(&mut buf[..want], block.file_offset + data_pos)?;
            if got == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{} ends at offset {} inside range {:#x}-{:#x}",
                        self.path.display(),
                        block.file_offset + data_pos,
                        block.range.start,
                        block.range.end
                    ),
                ));
            }
            self.pos += got as u64;
            return Ok(got);
        }
    }
}

/// Opens the core file and the iomem file and works out the image.
pub fn open(kcore: &Path, iomem: &Path) -> Result<(KcoreReader, Layout), KcoreError> {
    let text = std::fs::read_to_string(iomem).map_err(|source| KcoreError::Io {
        path: iomem.to_path_buf(),
        source,
    })?;
    let ram = parse_iomem(&text, iomem)?;
    let file = File::open(kcore).map_err(|source| KcoreError::Io {
        path: kcore.to_path_buf(),
        source,
    })?;
    let core = read_elf_core(&file, kcore)?;
    let layout = Layout::new(&ram, &core.loads);
    if layout.blocks.is_empty() {
        return Err(KcoreError::NothingCovered {
            iomem: iomem.to_path_buf(),
            kcore: kcore.to_path_buf(),
        });
    }
    let reader = KcoreReader::new(file, kcore.to_path_buf(), &layout);
    Ok((reader, layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(paddr: u64, size: u64, offset: u64) -> Segment {
        Segment {
            paddr,
            offset,
            size,
        }
    }

    #[test]
    fn layout_splits_across_segments_and_reports_gaps() {
        let ram = [Range {
            start: 0x1000,
            end: 0x4fff,
        }];
        // 0x1000-0x1fff in one segment, 0x2000-0x2fff uncovered, 0x3000-0x4fff in two segments.
        let loads = [
            seg(0x0, 0x2000, 0x10_000),
            seg(0x3000, 0x1000, 0x20_000),
            seg(0x4000, 0x1000, 0x30_000),
        ];
        let l = Layout::new(&ram, &loads);
        assert_eq!(
            l.blocks,
            vec![
                Block {
                    range: Range {
                        start: 0x1000,
                        end: 0x1fff
                    },
                    file_offset: 0x11_000
                },
                Block {
                    range: Range {
                        start: 0x3000,
                        end: 0x3fff
                    },
                    file_offset: 0x20_000
                },
                Block {
                    range: Range {
                        start: 0x4000,
                        end: 0x4fff
                    },
                    file_offset: 0x30_000
                },
            ]
        );
        assert_eq!(
            l.skipped,
            vec![Skipped {
                start: 0x2000,
                end: 0x2fff,
                reason: NOT_IN_KCORE.into()
            }]
        );
        assert_eq!(l.image_len(), 3 * 32 + 3 * 0x1000);
    }

    #[test]
    fn layout_prefers_the_segment_reaching_furthest_and_ignores_unmapped() {
        let ram = [Range {
            start: 0x1000,
            end: 0x2fff,
        }];
        let loads = [
            seg(u64::MAX, 0x1000, 0),
            seg(0x1000, 0x800, 0x100),
            seg(0x0, 0x3000, 0x9000),
        ];
        let l = Layout::new(&ram, &loads);
        assert_eq!(
            l.blocks,
            vec![Block {
                range: Range {
                    start: 0x1000,
                    end: 0x2fff
                },
                file_offset: 0xa000
            }]
        );
        assert!(l.skipped.is_empty());
    }

    #[test]
    fn iomem_zero_addresses_mean_not_root() {
        let text = "00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n";
        let e = parse_iomem(text, Path::new("iomem")).unwrap_err();
        assert!(e.to_string().contains("run as root"), "{e}");
        let e = parse_iomem("00000000-00000fff : Reserved\n", Path::new("iomem")).unwrap_err();
        assert!(matches!(e, KcoreError::NoRam { .. }), "{e}");
        let e = parse_iomem("0000zz00-00000fff : System RAM\n", Path::new("iomem")).unwrap_err();
        assert!(e.to_string().starts_with("iomem:1: "), "{e}");
    }
}
