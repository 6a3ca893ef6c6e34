//! A reader of the BPF Type Format (BTF) as the kernel exports it in `/sys/kernel/btf/vmlinux`.
//!
//! The format is the one documented in the kernel's `Documentation/bpf/btf.rst`: a header, a type
//! section of variable-length records (type id 0 is `void`, the first record is id 1) and a string
//! section. This module only decodes; what the types mean for an ISF is [`crate::isf`]'s business.
//! Every type id a record refers to is checked to exist, so that users can index
//! [`Btf::types`] without bounds failures.

use std::fmt;

/// `BTF_MAGIC` as stored by a little-endian kernel.
const MAGIC: u16 = 0xeb9f;
/// The only BTF version the kernel has ever produced.
const VERSION: u8 = 1;
/// Size of `struct btf_header` (the first version of it; later ones may be longer).
const HEADER_LEN: usize = 24;

/// A BTF blob that cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    /// The blob ends before a structure it announces.
    #[error("BTF is truncated: {what} at byte {offset} runs past the end")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Its offset in the blob.
        offset: usize,
    },
    /// The first two bytes are not `0xeb9f` in either byte order.
    #[error("not BTF: magic {0:#06x} (expected 0xeb9f)")]
    BadMagic(u16),
    /// A BTF version other than 1.
    #[error("unsupported BTF version {0} (only version 1 exists)")]
    Version(u8),
    /// A type kind this reader does not know, so the size of its record is unknown.
    #[error("type id {id} has unknown BTF kind {kind}: this kernel's BTF is newer than irf-isf")]
    UnknownKind {
        /// The type id.
        id: u32,
        /// The kind number.
        kind: u8,
    },
    /// A name offset outside the string section, or a name that is not NUL-terminated UTF-8.
    #[error("bad BTF string at offset {0}")]
    BadString(u32),
    /// A record refers to a type id that does not exist.
    #[error("type id {id} refers to type id {target}, but the BTF has only {count} types")]
    BadTypeId {
        /// The referring type.
        id: u32,
        /// The missing type.
        target: u32,
        /// Number of type ids (including void).
        count: usize,
    },
}

/// A struct or union member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Offset of the member's name in the string section (0: anonymous).
    pub name_off: u32,
    /// The member's type.
    pub type_id: u32,
    /// Offset from the start of the aggregate, in bits.
    pub bit_offset: u32,
    /// Width of a bitfield declared with the kind flag (0: not a bitfield, or a bitfield whose width
    /// is carried by its `INT` type, the pre-kind-flag encoding).
    pub bitfield_size: u32,
}

/// One enumerator's value, with the signedness its enum declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumValue {
    /// A value of a signed enum.
    Signed(i64),
    /// A value of an unsigned enum.
    Unsigned(u64),
}

/// An enumerator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enumerator {
    /// Offset of its name in the string section.
    pub name_off: u32,
    /// Its value.
    pub value: EnumValue,
}

/// A function-prototype parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Offset of its name in the string section.
    pub name_off: u32,
    /// Its type (0 for the `...` of a variadic function).
    pub type_id: u32,
}

/// A variable's place in a data section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecVar {
    /// The `VAR` type id.
    pub type_id: u32,
    /// Offset in the section.
    pub offset: u32,
    /// Size of the variable.
    pub size: u32,
}

/// The qualifier kinds, which all just wrap another type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// `BTF_KIND_CONST`.
    Const,
    /// `BTF_KIND_VOLATILE`.
    Volatile,
    /// `BTF_KIND_RESTRICT`.
    Restrict,
    /// `BTF_KIND_TYPE_TAG` (for example `__user`, `__rcu`).
    TypeTag,
}

/// What a type is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Type id 0.
    Void,
    /// `BTF_KIND_INT`.
    Int {
        /// Size in bytes.
        size: u32,
        /// `BTF_INT_SIGNED`.
        signed: bool,
        /// `BTF_INT_CHAR`.
        char: bool,
        /// `BTF_INT_BOOL`.
        bool: bool,
        /// Bit offset of the value (the pre-kind-flag bitfield encoding).
        bit_offset: u8,
        /// Number of value bits.
        bits: u8,
    },
    /// `BTF_KIND_PTR`.
    Ptr {
        /// The pointed-to type.
        target: u32,
    },
    /// `BTF_KIND_ARRAY`.
    Array {
        /// Element type.
        elem: u32,
        /// Index type.
        index: u32,
        /// Number of elements.
        count: u32,
    },
    /// `BTF_KIND_STRUCT` or `BTF_KIND_UNION`.
    Aggregate {
        /// A union rather than a struct.
        union: bool,
        /// Size in bytes.
        size: u32,
        /// The members, in declaration order.
        members: Vec<Member>,
    },
    /// `BTF_KIND_ENUM` or `BTF_KIND_ENUM64`.
    Enum {
        /// Size in bytes.
        size: u32,
        /// Declared signed (the kind flag).
        signed: bool,
        /// The enumerators (none for a forward-declared enum).
        values: Vec<Enumerator>,
    },
    /// `BTF_KIND_FWD`: a declared but undefined struct or union.
    Fwd {
        /// Declares a union.
        union: bool,
    },
    /// `BTF_KIND_TYPEDEF`.
    Typedef {
        /// The aliased type.
        target: u32,
    },
    /// A qualifier.
    Qualified {
        /// Which one.
        qualifier: Qualifier,
        /// The qualified type.
        target: u32,
    },
    /// `BTF_KIND_FUNC`: a function (its prototype is `proto`).
    Func {
        /// The `FUNC_PROTO`.
        proto: u32,
    },
    /// `BTF_KIND_FUNC_PROTO`.
    FuncProto {
        /// Return type.
        ret: u32,
        /// Parameters.
        params: Vec<Param>,
    },
    /// `BTF_KIND_VAR`: a variable (in vmlinux, the per-CPU ones).
    Var {
        /// Its type.
        target: u32,
        /// Linkage (0 static, 1 global).
        linkage: u32,
    },
    /// `BTF_KIND_DATASEC`.
    Datasec {
        /// Section size.
        size: u32,
        /// Its variables.
        vars: Vec<SecVar>,
    },
    /// `BTF_KIND_FLOAT`.
    Float {
        /// Size in bytes.
        size: u32,
    },
    /// `BTF_KIND_DECL_TAG`: an attribute on a declaration; no layout meaning.
    DeclTag {
        /// The tagged type.
        target: u32,
    },
}

/// One type record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Type {
    /// Offset of the type's name in the string section (0: anonymous).
    pub name_off: u32,
    /// What it is.
    pub kind: Kind,
}

impl Kind {
    /// The type ids this type refers to.
    pub fn references(&self) -> Vec<u32> {
        match self {
            Kind::Void | Kind::Int { .. } | Kind::Fwd { .. } | Kind::Float { .. } => Vec::new(),
            Kind::Enum { .. } => Vec::new(),
            Kind::Ptr { target }
            | Kind::Typedef { target }
            | Kind::Qualified { target, .. }
            | Kind::Var { target, .. }
            | Kind::DeclTag { target } => vec![*target],
            Kind::Func { proto } => vec![*proto],
            Kind::Array { elem, index, .. } => vec![*elem, *index],
            Kind::Aggregate { members, .. } => members.iter().map(|m| m.type_id).collect(),
            Kind::FuncProto { ret, params } => std::iter::once(*ret)
                .chain(params.iter().map(|p| p.type_id))
                .collect(),
            Kind::Datasec { vars, .. } => vars.iter().map(|v| v.type_id).collect(),
        }
    }
}

/// A decoded BTF blob. It borrows the blob for its strings.
pub struct Btf<'a> {
    strings: &'a [u8],
    types: Vec<Type>,
    big_endian: bool,
}

impl fmt::Debug for Btf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf")
            .field("types", &self.types.len())
            .field("strings", &self.strings.len())
            .field("big_endian", &self.big_endian)
            .finish()
    }
}

/// Reads fixed-size integers in the blob's byte order.
struct Reader<'a> {
    data: &'a [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(
        &self,
        offset: usize,
        what: &'static str,
    ) -> Result<[u8; N], BtfError> {
        offset
            .checked_add(N)
            .and_then(|end| self.data.get(offset..end))
            .map(|s| s.try_into().expect("slice of length N"))
            .ok_or(BtfError::Truncated { what, offset })
    }

    fn u32(&self, offset: usize, what: &'static str) -> Result<u32, BtfError> {
        let b = self.bytes::<4>(offset, what)?;
        Ok(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
}

impl<'a> Btf<'a> {
    /// Decodes a raw BTF blob (the content of `/sys/kernel/btf/vmlinux`).
    pub fn parse(data: &'a [u8]) -> Result<Self, BtfError> {
        let magic = data.get(..2).ok_or(BtfError::Truncated {
            what: "header",
            offset: 0,
        })?;
        let big_endian = match u16::from_le_bytes([magic[0], magic[1]]) {
            MAGIC => false,
            m if m.swap_bytes() == MAGIC => true,
            m => return Err(BtfError::BadMagic(m)),
        };
        let r = Reader { data, big_endian };
        let [_, _, version, _flags] = r.bytes::<4>(0, "header")?;
        if version != VERSION {
            return Err(BtfError::Version(version));
        }
        let hdr_len = r.u32(4, "header")? as usize;
        if hdr_len < HEADER_LEN {
            return Err(BtfError::Truncated {
                what: "header",
                offset: 0,
            });
        }
        let type_off = r.u32(8, "header")? as usize;
        let type_len = r.u32(12, "header")? as usize;
        let str_off = r.u32(16, "header")? as usize;
        let str_len = r.u32(20, "header")? as usize;
        let section = |off: usize, len: usize, what| {
            hdr_len
                .checked_add(off)
                .and_then(|start| Some((start, start.checked_add(len)?)))
                .filter(|&(_, end)| end <= data.len())
                .ok_or(BtfError::Truncated {
                    what,
                    offset: hdr_len.saturating_add(off),
                })
        };
        let (types_start, types_end) = section(type_off, type_len, "type section")?;
        let (str_start, str_end) = section(str_off, str_len, "string section")?;
        let strings = &data[str_start..str_end];

        let mut types = vec![Type {
            name_off: 0,
            kind: Kind::Void,
        }];
        let mut pos = types_start;
        while pos < types_end {
            let id = u32::try_from(types.len())
                .expect("a type section of at most 4 GiB holds fewer than 2^32 records");
            let (ty, next) = parse_type(&r, pos, id)?;
            if next > types_end {
                return Err(BtfError::Truncated {
                    what: "type record",
                    offset: pos,
                });
            }
            types.push(ty);
            pos = next;
        }
        let btf = Btf {
            strings,
            types,
            big_endian,
        };
        btf.check()?;
        Ok(btf)
    }

    /// Checks that every referenced type id and every name exists.
    fn check(&self) -> Result<(), BtfError> {
        let count = self.types.len();
        for (id, ty) in (0u32..).zip(self.types.iter()) {
            self.name(ty.name_off)?;
            for target in ty.kind.references() {
                if target as usize >= count {
                    return Err(BtfError::BadTypeId { id, target, count });
                }
            }
            match &ty.kind {
                Kind::Aggregate { members, .. } => {
                    for m in members {
                        self.name(m.name_off)?;
                    }
                }
                Kind::Enum { values, .. } => {
                    for v in values {
                        self.name(v.name_off)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// All types, indexed by type id (index 0 is `void`).
    pub fn types(&self) -> &[Type] {
        &self.types
    }

    /// The type with this id. Panics on an id that does not exist: ids from this BTF's own records
    /// always do.
    pub fn get(&self, id: u32) -> &Type {
        &self.types[id as usize]
    }

    /// Whether the blob is big-endian (so are the kernel's data).
    pub fn big_endian(&self) -> bool {
        self.big_endian
    }

    /// The string at `offset` in the string section ("" for offset 0).
    pub fn name(&self, offset: u32) -> Result<&'a str, BtfError> {
        let rest = self
            .strings
            .get(offset as usize..)
            .ok_or(BtfError::BadString(offset))?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(BtfError::BadString(offset))?;
        std::str::from_utf8(&rest[..end]).map_err(|_| BtfError::BadString(offset))
    }

    /// The name of type `id` ("" when anonymous). Names were checked at parse time.
    pub fn type_name(&self, id: u32) -> &'a str {
        self.name(self.get(id).name_off).unwrap_or("")
    }

    /// The name at a string offset checked at parse time.
    pub fn str_at(&self, offset: u32) -> &'a str {
        self.name(offset).unwrap_or("")
    }
}

/// Parses the record at `pos`; returns it and the offset of the next one.
fn parse_type(r: &Reader<'_>, pos: usize, id: u32) -> Result<(Type, usize), BtfError> {
    let name_off = r.u32(pos, "type record")?;
    let info = r.u32(pos + 4, "type record")?;
    let size_or_type = r.u32(pos + 8, "type record")?;
    let vlen = (info & 0xffff) as usize;
    let kind = ((info >> 24) & 0x1f) as u8;
    let kflag = info >> 31 == 1;
    let body = pos + 12;
    let n = |each: usize| body + vlen * each;
    let (kind, next) = match kind {
        1 => {
            let enc = r.u32(body, "INT encoding")?;
            let encoding = (enc >> 24) & 0x0f;
            (
                Kind::Int {
                    size: size_or_type,
                    signed: encoding & 1 != 0,
                    char: encoding & 2 != 0,
                    bool: encoding & 4 != 0,
                    bit_offset: ((enc >> 16) & 0xff) as u8,
                    bits: (enc & 0xff) as u8,
                },
                body + 4,
            )
        }
        2 => (
            Kind::Ptr {
                target: size_or_type,
            },
            body,
        ),
        3 => (
            Kind::Array {
                elem: r.u32(body, "array")?,
                index: r.u32(body + 4, "array")?,
                count: r.u32(body + 8, "array")?,
            },
            body + 12,
        ),
        4 | 5 => {
            let mut members = Vec::with_capacity(vlen);
            for i in 0..vlen {
                let at = body + 12 * i;
                let offset = r.u32(at + 8, "member")?;
                let (bit_offset, bitfield_size) = if kflag {
                    (offset & 0x00ff_ffff, offset >> 24)
                } else {
                    (offset, 0)
                };
                members.push(Member {
                    name_off: r.u32(at, "member")?,
                    type_id: r.u32(at + 4, "member")?,
                    bit_offset,
                    bitfield_size,
                });
            }
            (
                Kind::Aggregate {
                    union: kind == 5,
                    size: size_or_type,
                    members,
                },
                n(12),
            )
        }
        6 => {
            let mut values = Vec::with_capacity(vlen);
            for i in 0..vlen {
                let at = body + 8 * i;
                let raw = r.u32(at + 4, "enumerator")?;
                values.push(Enumerator {
                    name_off: r.u32(at, "enumerator")?,
                    value: if kflag {
                        EnumValue::Signed(i64::from(raw as i32))
                    } else {
                        EnumValue::Unsigned(u64::from(raw))
                    },
                });
            }
            (
                Kind::Enum {
                    size: size_or_type,
                    signed: kflag,
                    values,
                },
                n(8),
            )
        }
        7 => (Kind::Fwd { union: kflag }, body),
        8 => (
            Kind::Typedef {
                target: size_or_type,
            },
            body,
        ),
        9 | 10 | 11 | 18 => (
            Kind::Qualified {
                qualifier: match kind {
                    9 => Qualifier::Volatile,
                    10 => Qualifier::Const,
                    11 => Qualifier::Restrict,
                    _ => Qualifier::TypeTag,
                },
                target: size_or_type,
            },
            body,
        ),
        12 => (
            Kind::Func {
                proto: size_or_type,
            },
            body,
        ),
        13 => {
            let mut params = Vec::with_capacity(vlen);
            for i in 0..vlen {
                let at = body + 8 * i;
                params.push(Param {
                    name_off: r.u32(at, "parameter")?,
                    type_id: r.u32(at + 4, "parameter")?,
                });
            }
            (
                Kind::FuncProto {
                    ret: size_or_type,
                    params,
                },
                n(8),
            )
        }
        14 => (
            Kind::Var {
                target: size_or_type,
                linkage: r.u32(body, "variable")?,
            },
            body + 4,
        ),
        15 => {
            let mut vars = Vec::with_capacity(vlen);
            for i in 0..vlen {
                let at = body + 12 * i;
                vars.push(SecVar {
                    type_id: r.u32(at, "section variable")?,
                    offset: r.u32(at + 4, "section variable")?,
                    size: r.u32(at + 8, "section variable")?,
                });
            }
            (
                Kind::Datasec {
                    size: size_or_type,
                    vars,
                },
                n(12),
            )
        }
        16 => (Kind::Float { size: size_or_type }, body),
        17 => {
            r.u32(body, "decl tag")?;
            (
                Kind::DeclTag {
                    target: size_or_type,
                },
                body + 4,
            )
        }
        19 => {
            let mut values = Vec::with_capacity(vlen);
            for i in 0..vlen {
                let at = body + 12 * i;
                let lo = u64::from(r.u32(at + 4, "enumerator")?);
                let hi = u64::from(r.u32(at + 8, "enumerator")?);
                let raw = (hi << 32) | lo;
                values.push(Enumerator {
                    name_off: r.u32(at, "enumerator")?,
                    value: if kflag {
                        EnumValue::Signed(raw as i64)
                    } else {
                        EnumValue::Unsigned(raw)
                    },
                });
            }
            (
                Kind::Enum {
                    size: size_or_type,
                    signed: kflag,
                    values,
                },
                n(12),
            )
        }
        other => return Err(BtfError::UnknownKind { id, kind: other }),
    };
    // Records whose body was not read above (vlen entries) must still fit.
    if next > r.data.len() {
        return Err(BtfError::Truncated {
            what: "type record",
            offset: pos,
        });
    }
    Ok((Type { name_off, kind }, next))
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "the test encoder writes hand-made BTF: a few types, small counts, and signed enum values stored as their two's complement, as BTF does"
)]
pub(crate) mod encode {
    //! A small BTF encoder for tests: enough of the format to hand-make blobs.

    /// Builds a little-endian BTF blob.
    #[derive(Default)]
    pub(crate) struct Encoder {
        types: Vec<u8>,
        strings: Vec<u8>,
        next_id: u32,
    }

    impl Encoder {
        pub(crate) fn new() -> Self {
            Encoder {
                types: Vec::new(),
                strings: vec![0],
                next_id: 1,
            }
        }

        /// Adds a string; returns its offset ("" is offset 0).
        pub(crate) fn str(&mut self, s: &str) -> u32 {
            if s.is_empty() {
                return 0;
            }
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(s.as_bytes());
            self.strings.push(0);
            off
        }

        fn u32(&mut self, v: u32) {
            self.types.extend_from_slice(&v.to_le_bytes());
        }

        fn head(
            &mut self,
            name: &str,
            kind: u32,
            vlen: u32,
            kflag: bool,
            size_or_type: u32,
        ) -> u32 {
            let name_off = self.str(name);
            self.u32(name_off);
            self.u32((u32::from(kflag) << 31) | (kind << 24) | vlen);
            self.u32(size_or_type);
            let id = self.next_id;
            self.next_id += 1;
            id
        }

        pub(crate) fn int(
            &mut self,
            name: &str,
            size: u32,
            signed: bool,
            char: bool,
            bool_: bool,
        ) -> u32 {
            let id = self.head(name, 1, 0, false, size);
            let enc = u32::from(signed) | (u32::from(char) << 1) | (u32::from(bool_) << 2);
            self.u32((enc << 24) | (size * 8));
            id
        }

        /// An INT with the pre-kind-flag bitfield encoding (offset and bits in the INT).
        pub(crate) fn int_bits(
            &mut self,
            name: &str,
            size: u32,
            bit_offset: u32,
            bits: u32,
        ) -> u32 {
            let id = self.head(name, 1, 0, false, size);
            self.u32((bit_offset << 16) | bits);
            id
        }

        pub(crate) fn ptr(&mut self, target: u32) -> u32 {
            self.head("", 2, 0, false, target)
        }

        pub(crate) fn array(&mut self, elem: u32, index: u32, count: u32) -> u32 {
            let id = self.head("", 3, 0, false, 0);
            self.u32(elem);
            self.u32(index);
            self.u32(count);
            id
        }

        /// A struct or union; members are (name, type, bit offset, bitfield size). A non-zero
        /// bitfield size sets the kind flag.
        pub(crate) fn aggregate(
            &mut self,
            union: bool,
            name: &str,
            size: u32,
            members: &[(&str, u32, u32, u32)],
        ) -> u32 {
            let kflag = members.iter().any(|m| m.3 != 0);
            let id = self.head(
                name,
                if union { 5 } else { 4 },
                members.len() as u32,
                kflag,
                size,
            );
            for &(mname, ty, off, bits) in members {
                let n = self.str(mname);
                self.u32(n);
                self.u32(ty);
                self.u32(if kflag { (bits << 24) | off } else { off });
            }
            id
        }

        pub(crate) fn enum32(
            &mut self,
            name: &str,
            size: u32,
            signed: bool,
            values: &[(&str, i32)],
        ) -> u32 {
            let id = self.head(name, 6, values.len() as u32, signed, size);
            for &(n, v) in values {
                let off = self.str(n);
                self.u32(off);
                self.u32(v as u32);
            }
            id
        }

        pub(crate) fn enum64(&mut self, name: &str, signed: bool, values: &[(&str, u64)]) -> u32 {
            let id = self.head(name, 19, values.len() as u32, signed, 8);
            for &(n, v) in values {
                let off = self.str(n);
                self.u32(off);
                self.u32(v as u32);
                self.u32((v >> 32) as u32);
            }
            id
        }

        pub(crate) fn fwd(&mut self, name: &str, union: bool) -> u32 {
            self.head(name, 7, 0, union, 0)
        }

        pub(crate) fn typedef(&mut self, name: &str, target: u32) -> u32 {
            self.head(name, 8, 0, false, target)
        }

        /// A qualifier: 9 volatile, 10 const, 11 restrict, 18 type tag.
        pub(crate) fn qual(&mut self, kind: u32, name: &str, target: u32) -> u32 {
            self.head(name, kind, 0, false, target)
        }

        pub(crate) fn func_proto(&mut self, ret: u32, params: &[u32]) -> u32 {
            let id = self.head("", 13, params.len() as u32, false, ret);
            for &p in params {
                self.u32(0);
                self.u32(p);
            }
            id
        }

        pub(crate) fn func(&mut self, name: &str, proto: u32) -> u32 {
            self.head(name, 12, 1, false, proto)
        }

        pub(crate) fn var(&mut self, name: &str, target: u32) -> u32 {
            let id = self.head(name, 14, 0, false, target);
            self.u32(1);
            id
        }

        pub(crate) fn datasec(&mut self, name: &str, vars: &[(u32, u32, u32)]) -> u32 {
            let size = vars.iter().map(|v| v.1 + v.2).max().unwrap_or(0);
            let id = self.head(name, 15, vars.len() as u32, false, size);
            for &(t, o, s) in vars {
                self.u32(t);
                self.u32(o);
                self.u32(s);
            }
            id
        }

        pub(crate) fn float(&mut self, name: &str, size: u32) -> u32 {
            self.head(name, 16, 0, false, size)
        }

        pub(crate) fn decl_tag(&mut self, name: &str, target: u32, component: i32) -> u32 {
            let id = self.head(name, 17, 0, false, target);
            self.u32(component as u32);
            id
        }

        /// A raw record of an arbitrary kind with no body (to test unknown kinds).
        pub(crate) fn raw(&mut self, kind: u32) -> u32 {
            self.head("", kind, 0, false, 0)
        }

        pub(crate) fn finish(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&0xeb9f_u16.to_le_bytes());
            out.push(1);
            out.push(0);
            out.extend_from_slice(&24_u32.to_le_bytes());
            out.extend_from_slice(&0_u32.to_le_bytes());
            out.extend_from_slice(&(self.types.len() as u32).to_le_bytes());
            out.extend_from_slice(&(self.types.len() as u32).to_le_bytes());
            out.extend_from_slice(&(self.strings.len() as u32).to_le_bytes());
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strings);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::encode::Encoder;
    use super::*;

    #[test]
    fn decodes_every_kind() {
        let mut e = Encoder::new();
        let int = e.int("int", 4, true, false, false);
        let ptr = e.ptr(int);
        let arr = e.array(int, int, 16);
        let s = e.aggregate(false, "s", 8, &[("a", int, 0, 0), ("b", int, 32, 3)]);
        let en = e.enum32("e", 4, true, &[("NEG", -1), ("ONE", 1)]);
        let en64 = e.enum64("e64", false, &[("BIG", u64::MAX)]);
        let fwd = e.fwd("f", true);
        let td = e.typedef("int_t", int);
        let c = e.qual(10, "", td);
        let proto = e.func_proto(int, &[ptr, 0]);
        let func = e.func("fn", proto);
        let var = e.var("v", s);
        let sec = e.datasec(".data..percpu", &[(var, 0, 8)]);
        let fl = e.float("double", 8);
        let tag = e.decl_tag("tag", s, -1);
        let tt = e.qual(18, "rcu", ptr);
        let bits = e.int_bits("unsigned int", 4, 2, 3);
        let blob = e.finish();
        let btf = Btf::parse(&blob).unwrap();
        assert_eq!(btf.types().len(), 18);
        assert_eq!(btf.type_name(int), "int");
        assert!(matches!(
            btf.get(int).kind,
            Kind::Int {
                size: 4,
                signed: true,
                bits: 32,
                ..
            }
        ));
        assert_eq!(btf.get(ptr).kind, Kind::Ptr { target: int });
        assert_eq!(
            btf.get(arr).kind,
            Kind::Array {
                elem: int,
                index: int,
                count: 16
            }
        );
        let Kind::Aggregate {
            union,
            size,
            members,
        } = &btf.get(s).kind
        else {
            panic!()
        };
        assert!(!union);
        assert_eq!(*size, 8);
        assert_eq!(members[1].bit_offset, 32);
        assert_eq!(members[1].bitfield_size, 3);
        assert_eq!(btf.str_at(members[1].name_off), "b");
        let Kind::Enum { values, signed, .. } = &btf.get(en).kind else {
            panic!()
        };
        assert!(signed);
        assert_eq!(values[0].value, EnumValue::Signed(-1));
        let Kind::Enum { values, size, .. } = &btf.get(en64).kind else {
            panic!()
        };
        assert_eq!(*size, 8);
        assert_eq!(values[0].value, EnumValue::Unsigned(u64::MAX));
        assert_eq!(btf.get(fwd).kind, Kind::Fwd { union: true });
        assert_eq!(btf.get(td).kind, Kind::Typedef { target: int });
        assert_eq!(
            btf.get(c).kind,
            Kind::Qualified {
                qualifier: Qualifier::Const,
                target: td
            }
        );
        let Kind::FuncProto { ret, params } = &btf.get(proto).kind else {
            panic!()
        };
        assert_eq!((*ret, params.len()), (int, 2));
        assert_eq!(btf.get(func).kind, Kind::Func { proto });
        assert_eq!(
            btf.get(var).kind,
            Kind::Var {
                target: s,
                linkage: 1
            }
        );
        assert!(matches!(&btf.get(sec).kind, Kind::Datasec { vars, .. } if vars[0].type_id == var));
        assert_eq!(btf.get(fl).kind, Kind::Float { size: 8 });
        assert_eq!(btf.get(tag).kind, Kind::DeclTag { target: s });
        assert!(matches!(
            btf.get(bits).kind,
            Kind::Int {
                size: 4,
                signed: false,
                bit_offset: 2,
                bits: 3,
                ..
            }
        ));
        assert_eq!(
            btf.get(tt).kind,
            Kind::Qualified {
                qualifier: Qualifier::TypeTag,
                target: ptr
            }
        );
    }

    #[test]
    fn rejects_bad_blobs() {
        assert!(matches!(
            Btf::parse(b"\x00\x00"),
            Err(BtfError::BadMagic(0))
        ));
        assert!(matches!(
            Btf::parse(b"\x9f"),
            Err(BtfError::Truncated { .. })
        ));

        let mut e = Encoder::new();
        e.int("int", 4, true, false, false);
        let mut blob = e.finish();
        blob[2] = 2;
        assert!(matches!(Btf::parse(&blob), Err(BtfError::Version(2))));

        let mut e = Encoder::new();
        e.ptr(7);
        assert!(matches!(
            Btf::parse(&e.finish()),
            Err(BtfError::BadTypeId {
                id: 1,
                target: 7,
                count: 2
            })
        ));

        let mut e = Encoder::new();
        e.raw(25);
        assert!(matches!(
            Btf::parse(&e.finish()),
            Err(BtfError::UnknownKind { id: 1, kind: 25 })
        ));

        let mut e = Encoder::new();
        e.int("int", 4, true, false, false);
        let blob = e.finish();
        // Cut into the type section: the header still claims the full length.
        assert!(matches!(
            Btf::parse(&blob[..30]),
            Err(BtfError::Truncated { .. })
        ));
    }

    #[test]
    fn reads_big_endian_blobs() {
        // One INT "i" of 4 bytes, encoded big-endian by hand.
        let mut blob = Vec::new();
        blob.extend_from_slice(&0xeb9f_u16.to_be_bytes());
        blob.extend_from_slice(&[1, 0]);
        for v in [24_u32, 0, 16, 16, 3] {
            blob.extend_from_slice(&v.to_be_bytes());
        }
        for v in [1_u32, 1 << 24, 4, 1 << 24 | 32] {
            blob.extend_from_slice(&v.to_be_bytes());
        }
        blob.extend_from_slice(b"\0i\0");
        let btf = Btf::parse(&blob).unwrap();
        assert!(btf.big_endian());
        assert_eq!(btf.type_name(1), "i");
        assert!(matches!(
            btf.get(1).kind,
            Kind::Int {
                size: 4,
                signed: true,
                ..
            }
        ));
    }
}
