//! The Intermediate Symbol Format (ISF) document, as Volatility 3 reads it.
//!
//! The shape follows Volatility 3's `schemas/schema-6.2.0.json` and its reader
//! (`framework/symbols/intermed.py`, class `Version8Format`, the newest reader of the pinned
//! release: a file of format 6.3 would find no reader). Every map is a `BTreeMap` and every struct
//! declares its fields in alphabetical order, so the JSON has sorted keys and the same document
//! always serializes to the same bytes.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The ISF format version written: the newest one the pinned Volatility 3 (2.28.2) has both a
/// schema and a reader for.
pub const FORMAT: &str = "6.2.0";

/// The producer name in the metadata.
pub const PRODUCER: &str = "irf-isf";

/// A whole ISF document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Isf {
    /// Primitive types by name (`int`, `long unsigned int`, `pointer`, `void`, …).
    pub base_types: BTreeMap<String, BaseType>,
    /// Enumerations by name.
    pub enums: BTreeMap<String, Enum>,
    /// Format version, producer, and where the symbols came from.
    pub metadata: Metadata,
    /// Symbols by name.
    pub symbols: BTreeMap<String, Symbol>,
    /// Structs and unions by name.
    pub user_types: BTreeMap<String, UserType>,
}

/// A primitive type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseType {
    /// `little` or `big`.
    pub endian: String,
    /// `void`, `int`, `float`, `char` or `bool` (a pointer is an unsigned `int`).
    pub kind: String,
    /// Whether the type is signed.
    pub signed: bool,
    /// Size in bytes.
    pub size: u64,
}

/// An enumeration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    /// The base type (an entry of `base_types` of the same size and signedness).
    pub base: String,
    /// Enumerators by name.
    pub constants: BTreeMap<String, Constant>,
    /// Size in bytes.
    pub size: u64,
}

/// An enumerator's value (of a signed or unsigned enum, so anything from `i64::MIN` to
/// `u64::MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Constant(pub i128);

impl Serialize for Constant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(self.0) {
            Ok(v) => s.serialize_i64(v),
            Err(_) => match u64::try_from(self.0) {
                Ok(v) => s.serialize_u64(v),
                Err(_) => Err(serde::ser::Error::custom("enumerator out of range")),
            },
        }
    }
}

impl<'de> Deserialize<'de> for Constant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .map(Constant)
            .ok_or_else(|| D::Error::custom(format!("enumerator value {n} is not an integer")))
    }
}

/// A struct or union.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserType {
    /// Members by name.
    pub fields: BTreeMap<String, Field>,
    /// `struct` or `union`.
    pub kind: String,
    /// Size in bytes.
    pub size: u64,
}

/// A member of a struct or union.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// An unnamed struct or union member, whose own members Volatility lifts into this type.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub anonymous: bool,
    /// Offset in bytes from the start of the enclosing type.
    pub offset: u64,
    /// The member's type.
    #[serde(rename = "type")]
    pub ty: TypeRef,
}

/// A symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Symbol {
    /// Link-time address (Volatility adds the KASLR shift it finds in the image).
    pub address: u64,
    /// Base64 of the bytes at the symbol (only `linux_banner`, the identifier Volatility scans for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant_data: Option<String>,
    /// The symbol's type, when known.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<TypeRef>,
}

/// A reference to a type, as struct members, pointers, arrays and symbols carry them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    /// A `base_types` entry (including `void`).
    Base(String),
    /// A pointer to `subtype`.
    Pointer(Box<TypeRef>),
    /// An array of `count` elements.
    Array {
        /// Number of elements (0 for a flexible array).
        count: u64,
        /// Element type.
        subtype: Box<TypeRef>,
    },
    /// A `user_types` struct.
    Struct(String),
    /// A `user_types` union.
    Union(String),
    /// An `enums` entry.
    Enum(String),
    /// A function (pointers to functions point to this).
    Function,
    /// A bitfield of an integer or enum type.
    Bitfield {
        /// Number of bits.
        bit_length: u32,
        /// First bit, counted from the least significant bit of the value read at the field's
        /// offset.
        bit_position: u32,
        /// The integer or enum type read at the field's offset.
        ty: Box<TypeRef>,
    },
}

impl TypeRef {
    /// `void`.
    pub fn void() -> Self {
        TypeRef::Base("void".to_owned())
    }

    /// The name of the struct, union, enum or base type referred to, if it is one of those.
    pub fn name(&self) -> Option<&str> {
        match self {
            TypeRef::Base(n) | TypeRef::Struct(n) | TypeRef::Union(n) | TypeRef::Enum(n) => Some(n),
            _ => None,
        }
    }
}

impl Serialize for TypeRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Keys in alphabetical order.
        let mut m = s.serialize_map(None)?;
        match self {
            TypeRef::Base(name) => {
                m.serialize_entry("kind", "base")?;
                m.serialize_entry("name", name)?;
            }
            TypeRef::Pointer(subtype) => {
                m.serialize_entry("kind", "pointer")?;
                m.serialize_entry("subtype", subtype)?;
            }
            TypeRef::Array { count, subtype } => {
                m.serialize_entry("count", count)?;
                m.serialize_entry("kind", "array")?;
                m.serialize_entry("subtype", subtype)?;
            }
            TypeRef::Struct(name) => {
                m.serialize_entry("kind", "struct")?;
                m.serialize_entry("name", name)?;
            }
            TypeRef::Union(name) => {
                m.serialize_entry("kind", "union")?;
                m.serialize_entry("name", name)?;
            }
            TypeRef::Enum(name) => {
                m.serialize_entry("kind", "enum")?;
                m.serialize_entry("name", name)?;
            }
            TypeRef::Function => m.serialize_entry("kind", "function")?,
            TypeRef::Bitfield {
                bit_length,
                bit_position,
                ty,
            } => {
                m.serialize_entry("bit_length", bit_length)?;
                m.serialize_entry("bit_position", bit_position)?;
                m.serialize_entry("kind", "bitfield")?;
                m.serialize_entry("type", ty)?;
            }
        }
        m.end()
    }
}

/// The union of every type descriptor's keys, to deserialize any of them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTypeRef {
    kind: String,
    name: Option<String>,
    subtype: Option<Box<TypeRef>>,
    count: Option<u64>,
    bit_length: Option<u32>,
    bit_position: Option<u32>,
    #[serde(rename = "type")]
    ty: Option<Box<TypeRef>>,
    /// Volatility's optional pointer base type name; irf-isf never writes it.
    base: Option<String>,
}

impl<'de> Deserialize<'de> for TypeRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawTypeRef::deserialize(d)?;
        let missing = |what: &str| D::Error::custom(format!("{} type without {what}", raw.kind));
        let _ = &raw.base;
        Ok(match raw.kind.as_str() {
            "base" => TypeRef::Base(raw.name.clone().ok_or_else(|| missing("name"))?),
            "struct" => TypeRef::Struct(raw.name.clone().ok_or_else(|| missing("name"))?),
            "union" => TypeRef::Union(raw.name.clone().ok_or_else(|| missing("name"))?),
            "enum" => TypeRef::Enum(raw.name.clone().ok_or_else(|| missing("name"))?),
            "pointer" => TypeRef::Pointer(raw.subtype.clone().ok_or_else(|| missing("subtype"))?),
            "array" => TypeRef::Array {
                count: raw.count.ok_or_else(|| missing("count"))?,
                subtype: raw.subtype.clone().ok_or_else(|| missing("subtype"))?,
            },
            "function" => TypeRef::Function,
            "bitfield" => TypeRef::Bitfield {
                bit_length: raw.bit_length.ok_or_else(|| missing("bit_length"))?,
                bit_position: raw.bit_position.ok_or_else(|| missing("bit_position"))?,
                ty: raw.ty.clone().ok_or_else(|| missing("type"))?,
            },
            other => return Err(D::Error::custom(format!("unknown type kind {other:?}"))),
        })
    }
}

/// The document's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The ISF format version ([`FORMAT`]).
    pub format: String,
    /// Where symbols and types came from (Volatility's `metadata_nix`).
    pub linux: LinuxSources,
    /// Who made the file.
    pub producer: Producer,
}

/// The `linux` metadata section: the files symbols and types came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinuxSources {
    /// Symbol sources. kallsyms is written as kind `system-map` (it is `System.map`'s format; the
    /// schema allows only `dwarf`, `symtab` and `system-map`).
    pub symbols: Vec<SourceFile>,
    /// Type sources. Empty: BTF is none of the schema's kinds, so its hash is in
    /// [`ProducerDetails::btf_sha256`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<SourceFile>,
}

/// One source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Always `sha256`.
    pub hash_type: String,
    /// Hex digest.
    pub hash_value: String,
    /// `system-map`.
    pub kind: String,
    /// File name in the bundle.
    pub name: String,
}

/// The producer section. Volatility reads `name`, `version` and `datetime`; the schema allows
/// further keys, where irf-isf records how the file was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Producer {
    /// When the bundle was captured (RFC 3339), which keeps the output a function of the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datetime: Option<String>,
    /// How this file was made.
    pub irf: ProducerDetails,
    /// [`PRODUCER`].
    pub name: String,
    /// irf-isf's version.
    pub version: String,
}

/// irf-isf's record of how it made the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerDetails {
    /// SHA-256 of the BTF the types came from.
    pub btf_sha256: String,
    /// How kallsyms' run-time addresses were turned into link-time ones.
    pub kaslr: KaslrRecord,
    /// Everything the builder had to decide or could not do, one sentence each, sorted.
    pub notes: Vec<String>,
    /// Struct, union and enum names that BTF has more than once with different definitions: the
    /// name each extra definition was written under, by original name.
    pub renamed: BTreeMap<String, Vec<String>>,
}

/// The KASLR shift that was taken off kallsyms' addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KaslrRecord {
    /// The kernel's architecture.
    pub arch: String,
    /// Link-time address of `_text` (hex), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_text: Option<String>,
    /// Where the link-time address came from: `config` (the bundle's kernel config), `default`
    /// (the architecture's default config), or `none` (not known: addresses kept as they were).
    pub link_text_source: String,
    /// Run-time address of `_text` in kallsyms (hex).
    pub runtime_text: String,
    /// Run-time minus link-time address (hex), subtracted from every symbol in the kernel image.
    pub shift: String,
    /// Symbols kept at their kallsyms address: absolute and zero-based per-CPU ones.
    pub unshifted_symbols: u64,
}
