//! BTF types as ISF types.
//!
//! The mapping (Volatility's reader is `framework/symbols/intermed.py`, the conventions are
//! dwarf2json's, whose ISFs Volatility is tested with):
//!
//! - `INT` and `FLOAT` are `base_types` under their C name (`long unsigned int`, `_Bool`, …),
//!   kind `bool`, `char` (a name ending in `char`, or `BTF_INT_CHAR`), `int` or `float`. Pointers
//!   are the base type `pointer`, an unsigned `int` of the pointer size; `void` has kind `void`.
//! - `PTR` is `{"kind": "pointer", "subtype": …}`, `ARRAY` `{"kind": "array", "count", "subtype"}`.
//! - `STRUCT`/`UNION` are `user_types`; member offsets are in bytes. Bitfields (the kind flag's
//!   `bitfield_size`, or the older encoding's `INT` with fewer bits than its size) become
//!   `{"kind": "bitfield", "bit_position", "bit_length", "type"}` at the offset of their storage
//!   unit (the base type's size), as a compiler lays them out. An unnamed struct or union member
//!   is the field `unnamed_field_<n>` with `"anonymous": true`, whose members Volatility lifts into
//!   the enclosing type (ISF 6.2); unnamed non-aggregate members (padding bitfields) are dropped.
//! - `ENUM`/`ENUM64` are `enums` with the `int` base type of their size and signedness.
//! - ISF has no typedefs: a `TYPEDEF` is its target, except that an anonymous struct, union or
//!   enum named by a typedef (`typedef struct { … } pgd_t;`) takes the typedef's name, as in
//!   dwarf2json. `CONST`, `VOLATILE`, `RESTRICT`, `TYPE_TAG` and `DECL_TAG` are dropped.
//!   `FUNC_PROTO` is `{"kind": "function"}`.
//! - Other anonymous structs, unions and enums are named `unnamed_<16 hex digits>` from a SHA-256
//!   of their definition, so the name is the same in every build of the same layout, and equal
//!   layouts share one entry.
//! - A `FWD` declaration is the definition of the same name; with none, an empty type of size 0.
//! - BTF can hold the same name for different definitions (types private to two files). The
//!   definition that keeps the name is chosen in this order: complete (an enum with enumerators)
//!   first, then a real tag over a typedef's name, then the one most referenced by other types,
//!   then the lowest type id. Each other one is written as `<name>__btf<id>` and referenced under
//!   that name, and [`crate::isf::ProducerDetails::renamed`] lists them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use crate::btf::{Btf, EnumValue, Kind};
use crate::isf::{BaseType, Constant, Enum, Field, TypeRef, UserType};

/// Deeper typedef/qualifier/pointer chains than this mean a cycle (malformed BTF).
const MAX_DEPTH: u32 = 64;

/// Standard C integer names Volatility's plugins cast to, with (size on LP64, signed, kind). They
/// are added when the BTF has none of that name (every kernel BTF has most of them).
const STANDARD_BASES: [(&str, u64, bool, &str); 12] = [
    ("char", 1, true, "char"),
    ("signed char", 1, true, "char"),
    ("unsigned char", 1, false, "char"),
    ("short int", 2, true, "int"),
    ("short unsigned int", 2, false, "int"),
    ("int", 4, true, "int"),
    ("unsigned int", 4, false, "int"),
    ("long int", 8, true, "int"),
    ("long unsigned int", 8, false, "int"),
    ("long long int", 8, true, "int"),
    ("long long unsigned int", 8, false, "int"),
    ("_Bool", 1, false, "bool"),
];

/// BTF that cannot be turned into ISF types.
#[derive(Debug, thiserror::Error)]
#[error("BTF type {id}: {reason}")]
pub struct TypeError {
    /// The type id.
    pub id: u32,
    /// What is wrong.
    pub reason: String,
}

/// Which `user_types`/`enums` namespace a name is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Space {
    User,
    Enum,
}

/// A definition that may get a name.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    id: u32,
    /// A definition (not an enum's forward declaration).
    complete: bool,
    /// Named by its own tag, not by a typedef.
    tagged: bool,
}

/// The types of one BTF, converted.
#[derive(Debug)]
pub struct Types<'b, 'a> {
    btf: &'b Btf<'a>,
    /// The ISF name of each struct, union, enum and forward declaration (anonymous ones are
    /// filled in on first use).
    names: Vec<Option<String>>,
    /// Anonymous types whose name is being computed (a cycle guard).
    naming: BTreeSet<u32>,
    /// For a forward declaration with a definition: that definition's id.
    fwd_target: HashMap<u32, u32>,
    /// Canonical definitions by name and namespace.
    canonical: HashMap<(Space, String), u32>,
    /// Forward declarations by name (the lowest id of each name).
    fwds: HashMap<&'a str, u32>,
    /// Typedefs by name (the lowest id of each name).
    typedefs: HashMap<&'a str, u32>,
    /// `INT`/`FLOAT` types by name.
    bases_by_name: HashMap<&'a str, u32>,
    /// The pointer size.
    pub ptr_size: u64,
    /// `little` or `big`.
    pub endian: &'static str,
    /// Names BTF has for more than one definition: the extra definitions' names.
    pub renamed: BTreeMap<String, Vec<String>>,
    /// Sentences for the ISF's notes.
    pub notes: BTreeSet<String>,
    unnamed_padding: u64,
}

impl<'b, 'a> Types<'b, 'a> {
    /// Indexes the BTF and decides every named type's ISF name.
    pub fn new(btf: &'b Btf<'a>) -> Types<'b, 'a> {
        let types = btf.types();
        let mut refs = vec![0_u32; types.len()];
        let mut typedef_names: HashMap<u32, &'a str> = HashMap::new();
        let mut typedefs = HashMap::new();
        let mut bases_by_name = HashMap::new();
        for (id, ty) in (0u32..).zip(types.iter()) {
            for r in ty.kind.references() {
                if r != id {
                    refs[r as usize] += 1;
                }
            }
            let name = btf.str_at(ty.name_off);
            match &ty.kind {
                Kind::Typedef { target } => {
                    typedefs.entry(name).or_insert(id);
                    let anonymous = btf.get(*target).name_off == 0
                        && matches!(
                            btf.get(*target).kind,
                            Kind::Aggregate { .. } | Kind::Enum { .. }
                        );
                    if anonymous && !name.is_empty() {
                        typedef_names.entry(*target).or_insert(name);
                    }
                }
                Kind::Int { .. } | Kind::Float { .. } if !name.is_empty() => {
                    let full = |id: u32| match btf.get(id).kind {
                        Kind::Int {
                            size,
                            bits,
                            bit_offset,
                            ..
                        } => u32::from(bits) == size * 8 && bit_offset == 0,
                        _ => true,
                    };
                    // Prefer the full-width INT of a name over an old-style bitfield INT.
                    match bases_by_name.get(name) {
                        Some(&prev) if full(prev) || !full(id) => {}
                        _ => {
                            bases_by_name.insert(name, id);
                        }
                    }
                }
                _ => {}
            }
        }

        let mut groups: BTreeMap<(Space, &'a str), Vec<Candidate>> = BTreeMap::new();
        for (id, ty) in (0u32..).zip(types.iter()) {
            let (space, complete) = match &ty.kind {
                Kind::Aggregate { .. } => (Space::User, true),
                Kind::Enum { values, .. } => (Space::Enum, !values.is_empty()),
                _ => continue,
            };
            let tag = btf.str_at(ty.name_off);
            let (name, tagged) = match (tag, typedef_names.get(&id)) {
                ("", Some(td)) => (*td, false),
                ("", None) => continue,
                (tag, _) => (tag, true),
            };
            groups.entry((space, name)).or_default().push(Candidate {
                id,
                complete,
                tagged,
            });
        }

        let mut names = vec![None; types.len()];
        let mut renamed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut canonical = HashMap::new();
        for ((space, name), mut candidates) in groups {
            candidates.sort_by_key(|c| {
                (
                    !c.complete,
                    !c.tagged,
                    std::cmp::Reverse(refs[c.id as usize]),
                    c.id,
                )
            });
            let first = candidates[0].id;
            canonical.insert((space, name.to_owned()), first);
            names[first as usize] = Some(name.to_owned());
            for &Candidate { id, complete, .. } in &candidates[1..] {
                if complete {
                    let new = format!("{name}__btf{id}");
                    renamed
                        .entry(name.to_owned())
                        .or_default()
                        .push(new.clone());
                    names[id as usize] = Some(new);
                } else {
                    // A forward-declared enum: the definition.
                    names[id as usize] = Some(name.to_owned());
                }
            }
        }

        let mut fwd_target = HashMap::new();
        let mut fwds = HashMap::new();
        for (id, ty) in (0u32..).zip(types.iter()) {
            if let Kind::Fwd { .. } = ty.kind {
                let name = btf.str_at(ty.name_off);
                fwds.entry(name).or_insert(id);
                if let Some(&def) = canonical.get(&(Space::User, name.to_owned())) {
                    fwd_target.insert(id, def);
                }
                names[id as usize] = Some(if name.is_empty() {
                    format!("unnamed_fwd_btf{id}")
                } else {
                    name.to_owned()
                });
            }
        }

        let ptr_size = ["long unsigned int", "long int"].iter().find_map(|n| {
            match bases_by_name.get(n).map(|&id| &btf.get(id).kind) {
                Some(Kind::Int { size, .. }) => Some(u64::from(*size)),
                _ => None,
            }
        });
        let mut notes = BTreeSet::new();
        if ptr_size.is_none() {
            notes.insert("BTF has no long int: pointers taken to be 8 bytes".to_owned());
        }
        if btf.big_endian() {
            notes.insert(
                "big-endian BTF: bitfield positions follow the little-endian convention".to_owned(),
            );
        }
        Types {
            btf,
            names,
            naming: BTreeSet::new(),
            fwd_target,
            canonical,
            fwds,
            typedefs,
            bases_by_name,
            ptr_size: ptr_size.unwrap_or(8),
            endian: if btf.big_endian() { "big" } else { "little" },
            renamed,
            notes,
            unnamed_padding: 0,
        }
    }

    fn err(id: u32, reason: impl Into<String>) -> TypeError {
        TypeError {
            id,
            reason: reason.into(),
        }
    }

    /// Follows typedefs, qualifiers and tags to the type they name.
    pub fn strip(&self, mut id: u32) -> Result<u32, TypeError> {
        for _ in 0..MAX_DEPTH {
            match self.btf.get(id).kind {
                Kind::Typedef { target }
                | Kind::Qualified { target, .. }
                | Kind::DeclTag { target }
                | Kind::Var { target, .. } => id = target,
                _ => return Ok(id),
            }
        }
        Err(Self::err(id, "typedef or qualifier cycle"))
    }

    /// The ISF name of a struct, union or enum (computing an anonymous one's).
    fn name_of(&mut self, id: u32) -> Result<String, TypeError> {
        if let Some(name) = &self.names[id as usize] {
            return Ok(name.clone());
        }
        if !self.naming.insert(id) {
            // An anonymous type that contains itself (not possible in C): name it by id.
            return Ok(format!("unnamed_btf{id}"));
        }
        let mut h = Sha256::new();
        match self.btf.get(id).kind.clone() {
            Kind::Aggregate {
                union,
                size,
                members,
            } => {
                h.update(format!(
                    "{} {size}\n",
                    if union { "union" } else { "struct" }
                ));
                for m in &members {
                    let ty = self.type_ref(m.type_id)?;
                    let ty = serde_json::to_string(&ty).expect("type refs serialize");
                    h.update(format!(
                        "{} {} {} {ty}\n",
                        self.btf.str_at(m.name_off),
                        m.bit_offset,
                        m.bitfield_size
                    ));
                }
            }
            Kind::Enum {
                size,
                signed,
                values,
            } => {
                h.update(format!("enum {size} {signed}\n"));
                for v in &values {
                    h.update(format!("{} {:?}\n", self.btf.str_at(v.name_off), v.value));
                }
            }
            _ => return Err(Self::err(id, "not a struct, union or enum")),
        }
        let digest = h.finalize();
        let name = format!("unnamed_{}", hex::encode(&digest[..8]));
        self.naming.remove(&id);
        self.names[id as usize] = Some(name.clone());
        Ok(name)
    }

    /// The ISF type reference for a BTF type id.
    pub fn type_ref(&mut self, id: u32) -> Result<TypeRef, TypeError> {
        self.type_ref_at(id, 0)
    }

    fn type_ref_at(&mut self, id: u32, depth: u32) -> Result<TypeRef, TypeError> {
        if depth > MAX_DEPTH {
            return Err(Self::err(id, "type chain too deep (a cycle)"));
        }
        let btf = self.btf;
        Ok(match &btf.get(id).kind {
            Kind::Void | Kind::Datasec { .. } => TypeRef::void(),
            Kind::Int { size, signed, .. } => {
                let name = btf.type_name(id);
                if name.is_empty() {
                    TypeRef::Base(self.int_base(u64::from(*size), *signed))
                } else {
                    TypeRef::Base(name.to_owned())
                }
            }
            Kind::Float { .. } => TypeRef::Base(btf.type_name(id).to_owned()),
            Kind::Ptr { target } => {
                TypeRef::Pointer(Box::new(self.type_ref_at(*target, depth + 1)?))
            }
            Kind::Array { elem, count, .. } => TypeRef::Array {
                count: u64::from(*count),
                subtype: Box::new(self.type_ref_at(*elem, depth + 1)?),
            },
            Kind::Aggregate { union, .. } => {
                let name = self.name_of(id)?;
                if *union {
                    TypeRef::Union(name)
                } else {
                    TypeRef::Struct(name)
                }
            }
            Kind::Fwd { union } => {
                let name = self.names[id as usize].clone().unwrap_or_default();
                let union = match self.fwd_target.get(&id) {
                    Some(&def) => matches!(btf.get(def).kind, Kind::Aggregate { union: true, .. }),
                    None => *union,
                };
                if union {
                    TypeRef::Union(name)
                } else {
                    TypeRef::Struct(name)
                }
            }
            Kind::Enum { .. } => TypeRef::Enum(self.name_of(id)?),
            Kind::Typedef { target }
            | Kind::Qualified { target, .. }
            | Kind::DeclTag { target }
            | Kind::Var { target, .. } => self.type_ref_at(*target, depth + 1)?,
            Kind::Func { .. } | Kind::FuncProto { .. } => TypeRef::Function,
        })
    }

    /// Size in bytes of a type (0 for void and functions).
    pub fn size_of(&self, id: u32) -> Result<u64, TypeError> {
        let id = self.strip(id)?;
        Ok(match &self.btf.get(id).kind {
            Kind::Int { size, .. } | Kind::Float { size } | Kind::Enum { size, .. } => {
                u64::from(*size)
            }
            Kind::Aggregate { size, .. } => u64::from(*size),
            Kind::Ptr { .. } => self.ptr_size,
            Kind::Array { elem, count, .. } => u64::from(*count) * self.size_of(*elem)?,
            Kind::Fwd { .. } => match self.fwd_target.get(&id) {
                Some(&def) => self.size_of(def)?,
                None => 0,
            },
            _ => 0,
        })
    }

    /// Natural alignment of a type (BTF does not record `packed` or `aligned` attributes).
    pub fn align_of(&self, id: u32) -> Result<u64, TypeError> {
        let id = self.strip(id)?;
        Ok(match &self.btf.get(id).kind {
            Kind::Int { size, .. } | Kind::Float { size } | Kind::Enum { size, .. } => {
                u64::from(*size).clamp(1, 16)
            }
            Kind::Ptr { .. } => self.ptr_size,
            Kind::Array { elem, .. } => self.align_of(*elem)?,
            Kind::Aggregate { members, .. } => {
                let mut align = 1;
                for m in members {
                    align = align.max(self.align_of(m.type_id)?);
                }
                align
            }
            Kind::Fwd { .. } => match self.fwd_target.get(&id) {
                Some(&def) => self.align_of(def)?,
                None => 1,
            },
            _ => 1,
        })
    }

    /// The canonical struct or union of a name, else its forward declaration.
    pub fn aggregate(&self, name: &str) -> Option<u32> {
        self.canonical
            .get(&(Space::User, name.to_owned()))
            .or_else(|| self.fwds.get(name))
            .copied()
    }

    /// The canonical enum of a name.
    pub fn enumeration(&self, name: &str) -> Option<u32> {
        self.canonical.get(&(Space::Enum, name.to_owned())).copied()
    }

    /// The first typedef of a name.
    pub fn typedef(&self, name: &str) -> Option<u32> {
        self.typedefs.get(name).copied()
    }

    /// The `INT` or `FLOAT` of a name.
    pub fn base(&self, name: &str) -> Option<u32> {
        self.bases_by_name.get(name).copied()
    }

    /// The name of an integer base type of this size and signedness (standard C names; 1-byte
    /// integers that are not characters get `irf_u8`/`irf_s8`).
    fn int_base(&self, size: u64, signed: bool) -> String {
        match (size, signed) {
            (1, false) => "irf_u8",
            (1, true) => "irf_s8",
            (2, false) => "short unsigned int",
            (2, true) => "short int",
            (4, false) => "unsigned int",
            (4, true) => "int",
            (_, false) => "long unsigned int",
            (_, true) => "long int",
        }
        .to_owned()
    }

    /// The `base_types` section.
    pub fn base_types(&mut self) -> BTreeMap<String, BaseType> {
        let endian = self.endian.to_owned();
        let base = |kind: &str, signed: bool, size: u64| BaseType {
            endian: endian.clone(),
            kind: kind.to_owned(),
            signed,
            size,
        };
        let mut out = BTreeMap::new();
        for (&name, &id) in &self.bases_by_name {
            let bt = match self.btf.get(id).kind {
                Kind::Int {
                    size,
                    signed,
                    char,
                    bool,
                    ..
                } => {
                    let kind = if bool || name == "_Bool" {
                        "bool"
                    } else if char || name.ends_with("char") {
                        "char"
                    } else {
                        "int"
                    };
                    base(kind, signed, u64::from(size))
                }
                Kind::Float { size } => base("float", true, u64::from(size)),
                _ => continue,
            };
            out.insert(name.to_owned(), bt);
        }
        out.insert("pointer".to_owned(), base("int", false, self.ptr_size));
        out.insert("void".to_owned(), base("void", false, 0));
        let mut added = Vec::new();
        for (name, size, signed, kind) in STANDARD_BASES {
            if !out.contains_key(name) {
                out.insert(name.to_owned(), base(kind, signed, size));
                added.push(name);
            }
        }
        if !added.is_empty() {
            self.notes.insert(format!(
                "base types not in the BTF, added with their LP64 layout: {}",
                added.join(", ")
            ));
        }
        out
    }

    /// The `enums` section; needs the finished `base_types` to pick each enum's base.
    pub fn enums(
        &mut self,
        bases: &mut BTreeMap<String, BaseType>,
    ) -> Result<BTreeMap<String, Enum>, TypeError> {
        let btf = self.btf;
        let mut out = BTreeMap::new();
        for (id, ty) in (0u32..).zip(btf.types().iter()) {
            let Kind::Enum {
                size,
                signed,
                values,
            } = &ty.kind
            else {
                continue;
            };
            let name = self.name_of(id)?;
            if out.contains_key(&name) && values.is_empty() {
                continue;
            }
            let size = u64::from(*size);
            let base = bases
                .iter()
                .find(|(_, b)| b.kind == "int" && b.size == size && b.signed == *signed)
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| {
                    let n = self.int_base(size, *signed);
                    bases.entry(n.clone()).or_insert_with(|| BaseType {
                        endian: self.endian.to_owned(),
                        kind: "int".to_owned(),
                        signed: *signed,
                        size,
                    });
                    n
                });
            let constants = values
                .iter()
                .map(|v| {
                    let value = match v.value {
                        EnumValue::Signed(x) => Constant(i128::from(x)),
                        EnumValue::Unsigned(x) => Constant(i128::from(x)),
                    };
                    (btf.str_at(v.name_off).to_owned(), value)
                })
                .collect();
            out.insert(
                name,
                Enum {
                    base,
                    constants,
                    size,
                },
            );
        }
        Ok(out)
    }

    /// The `user_types` section.
    pub fn user_types(&mut self) -> Result<BTreeMap<String, UserType>, TypeError> {
        let btf = self.btf;
        let mut out = BTreeMap::new();
        for (id, ty) in (0u32..).zip(btf.types().iter()) {
            match &ty.kind {
                Kind::Aggregate { union, size, .. } => {
                    let name = self.name_of(id)?;
                    if out.contains_key(&name) {
                        // An anonymous type of the same layout as one already written.
                        continue;
                    }
                    let fields = self.fields(id)?;
                    out.insert(
                        name,
                        UserType {
                            fields,
                            kind: if *union { "union" } else { "struct" }.to_owned(),
                            size: u64::from(*size),
                        },
                    );
                }
                Kind::Fwd { union } if !self.fwd_target.contains_key(&id) => {
                    let name = self.names[id as usize].clone().unwrap_or_default();
                    out.entry(name).or_insert_with(|| UserType {
                        fields: BTreeMap::new(),
                        kind: if *union { "union" } else { "struct" }.to_owned(),
                        size: 0,
                    });
                }
                _ => {}
            }
        }
        if self.unnamed_padding > 0 {
            self.notes.insert(format!(
                "{} unnamed non-aggregate members (padding bitfields) left out",
                self.unnamed_padding
            ));
        }
        Ok(out)
    }

    /// The fields of struct or union `id`.
    fn fields(&mut self, id: u32) -> Result<BTreeMap<String, Field>, TypeError> {
        let btf = self.btf;
        let Kind::Aggregate { members, .. } = &btf.get(id).kind else {
            return Err(Self::err(id, "not a struct or union"));
        };
        let mut fields = BTreeMap::new();
        let mut unnamed = 0;
        for m in members {
            let target = self.strip(m.type_id)?;
            let (bits, bit_offset) = match btf.get(target).kind {
                _ if m.bitfield_size > 0 => (m.bitfield_size, m.bit_offset),
                Kind::Int {
                    size,
                    bits,
                    bit_offset,
                    ..
                } if u32::from(bits) != size * 8 || bit_offset != 0 => {
                    (u32::from(bits), m.bit_offset + u32::from(bit_offset))
                }
                _ => (0, m.bit_offset),
            };
            let mut name = btf.str_at(m.name_off).to_owned();
            let mut anonymous = false;
            if name.is_empty() {
                if bits == 0 && matches!(btf.get(target).kind, Kind::Aggregate { .. }) {
                    name = format!("unnamed_field_{unnamed:x}");
                    unnamed += 1;
                    anonymous = true;
                } else {
                    self.unnamed_padding += 1;
                    continue;
                }
            }
            let field = if bits > 0 {
                let base = self.type_ref(target)?;
                if !matches!(base, TypeRef::Base(_) | TypeRef::Enum(_)) {
                    let owner = self.name_of(id)?;
                    self.notes.insert(format!(
                        "bitfield {owner}.{name} of a non-integer type left out"
                    ));
                    continue;
                }
                let unit = self.size_of(target)?.max(1);
                let unit_bits = unit * 8;
                let at = u64::from(bit_offset);
                let (mut offset, mut position) = (at / unit_bits * unit, at % unit_bits);
                if position + u64::from(bits) > unit_bits {
                    // A packed bitfield that straddles its unit: read from its first byte.
                    (offset, position) = (at / 8, at % 8);
                }
                Field {
                    anonymous: false,
                    offset,
                    ty: TypeRef::Bitfield {
                        bit_length: bits,
                        // Less than the unit's bits (at most 64, or 8 when straddling).
                        bit_position: u32::try_from(position).expect("a bit position below 64"),
                        ty: Box::new(base),
                    },
                }
            } else {
                if bit_offset % 8 != 0 {
                    let owner = self.name_of(id)?;
                    self.notes.insert(format!(
                        "member {owner}.{name} at a bit offset that is not a byte left out"
                    ));
                    continue;
                }
                Field {
                    anonymous,
                    offset: u64::from(bit_offset / 8),
                    ty: self.type_ref(m.type_id)?,
                }
            };
            fields.insert(name, field);
        }
        Ok(fields)
    }
}
