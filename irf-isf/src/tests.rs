//! End-to-end tests of the builder on a hand-made BTF blob and kallsyms text.

use std::collections::BTreeMap;

use base64::Engine;

use crate::btf::encode::Encoder;
use crate::builder::{Options, build, build_with, member_offset};
use crate::bundle::{self, Bundle, Uname};
use crate::isf::{Constant, Isf, TypeRef};
use crate::symbols::REQUIRED_TYPES;
use crate::{Error, xz};

const BANNER: &[u8] = b"Linux version 6.1.0-test (builder@host) (gcc (GCC) 11.4.1) #1 SMP PREEMPT_DYNAMIC Mon Jan 1 00:00:00 UTC 2024\n";

/// A running kernel with a KASLR shift of 0xa200000 (x86-64 defaults: link-time _text is
/// 0xffffffff81000000).
const KALLSYMS: &str = "\
0000000000000000 D __per_cpu_start
000000000001f9c0 D runqueues
000000000003b000 D __per_cpu_end
ffffffff8b200000 T _text
ffffffff8b300000 T do_fork
ffffffff8b300100 t helper
ffffffff8b300200 t helper
ffffffff8d610940 D init_task
ffffffff8d611000 D init_files
ffffffff8d612000 D init_mm
ffffffff8d613000 D init_top_pgt
ffffffff8d620000 D linux_banner
ffffffff8d621000 D taint_flags
ffffffff8d621040 D modules
ffffffff8d622000 D tk_core
ffffffff8d623000 D unknown_global
ffffffffc0001000 t mod_fn\t[mod]
";

const SHIFT: u64 = 0xa20_0000;

/// The BTF of a tiny kernel, and the ids tests look at.
struct Kernel {
    blob: Vec<u8>,
    console_popular: u32,
    console_other: u32,
}

fn kernel_btf() -> Kernel {
    let mut e = Encoder::new();
    let int = e.int("int", 4, true, false, false);
    let uint = e.int("unsigned int", 4, false, false, false);
    let ulong = e.int("long unsigned int", 8, false, false, false);
    e.int("long int", 8, true, false, false);
    let char_ = e.int("char", 1, false, false, false);
    let uchar = e.int("unsigned char", 1, false, false, false);
    let bool_ = e.int("_Bool", 1, false, false, true);
    // The older bitfield encoding: an INT of 3 bits.
    let uint3 = e.int_bits("unsigned int", 4, 0, 3);

    // struct list_head { struct list_head *next, *prev; } (a forward declaration first).
    let list_fwd = e.fwd("list_head", false);
    let list_ptr = e.ptr(list_fwd);
    let list = e.aggregate(
        false,
        "list_head",
        16,
        &[("next", list_ptr, 0, 0), ("prev", list_ptr, 64, 0)],
    );

    // typedef struct { long unsigned int pgd; } pgd_t;
    let pgd_anon = e.aggregate(false, "", 8, &[("pgd", ulong, 0, 0)]);
    e.typedef("pgd_t", pgd_anon);

    let mm = e.aggregate(false, "mm_struct", 8, &[("pgd", ulong, 0, 0)]);
    let mm_ptr = e.ptr(mm);
    let files_fwd = e.fwd("files_struct", false);
    let files_ptr = e.ptr(files_fwd);
    let comm = e.array(char_, int, 16);
    let anon_union = e.aggregate(true, "", 4, &[("a", int, 0, 0), ("b", uint, 0, 0)]);
    let task_fwd = e.fwd("task_struct", false);
    let task_ptr = e.ptr(task_fwd);
    // const volatile int *cv;  void (*fn)(int);
    let vint = e.qual(9, "", int);
    let cvint = e.qual(10, "", vint);
    let cv_ptr = e.ptr(cvint);
    let proto = e.func_proto(0, &[int]);
    let fn_ptr = e.ptr(proto);
    e.func("do_fork", proto);
    let rcu_ptr = e.qual(18, "rcu", task_ptr);
    e.aggregate(
        false,
        "task_struct",
        96,
        &[
            ("__state", uint, 0, 0),
            ("", anon_union, 32, 0),
            ("pid", int, 64, 0),
            ("tgid", int, 96, 0),
            ("tasks", list, 128, 0),
            ("comm", comm, 256, 0),
            ("mm", mm_ptr, 384, 0),
            ("active_mm", mm_ptr, 448, 0),
            ("files", files_ptr, 512, 0),
            ("real_parent", rcu_ptr, 576, 0),
            ("cv", cv_ptr, 640, 0),
            ("fn", fn_ptr, 704, 0),
        ],
    );

    // Bitfields with the kind flag, and one in the older encoding.
    e.aggregate(
        false,
        "bits",
        8,
        &[
            ("a", uint, 0, 3),
            ("b", uint, 3, 5),
            ("c", uchar, 35, 1),
            ("d", ulong, 60, 4),
        ],
    );
    e.aggregate(false, "old_bits", 4, &[("x", uint3, 8, 0)]);

    // Enums: signed, 64-bit, anonymous behind a typedef, anonymous, and forward-declared.
    e.enum32(
        "pid_type",
        4,
        true,
        &[("PIDTYPE_NEG", -1), ("PIDTYPE_TGID", 1)],
    );
    e.enum64("big", false, &[("BIG", u64::MAX)]);
    let state_anon = e.enum32("", 4, false, &[("S_RUN", 0), ("S_STOP", 4)]);
    e.typedef("state_t", state_anon);
    e.enum32("", 4, false, &[("LONELY", 7)]);
    e.enum32("pid_type", 4, false, &[]);

    // Two different struct console; the second is referenced twice, so it keeps the name.
    let console_other = e.aggregate(false, "console", 4, &[("x", int, 0, 0)]);
    let console_popular = e.aggregate(false, "console", 8, &[("flags", ulong, 0, 0)]);
    let cp = e.ptr(console_popular);
    e.aggregate(
        false,
        "console_user",
        16,
        &[("c1", cp, 0, 0), ("c2", cp, 64, 0)],
    );

    // tk_core before 6.13: an anonymous struct of these.
    let seq = e.aggregate(
        false,
        "seqcount_raw_spinlock",
        4,
        &[("sequence", uint, 0, 0)],
    );
    e.typedef("seqcount_raw_spinlock_t", seq);
    e.aggregate(false, "timekeeper", 8, &[("xtime_sec", ulong, 0, 0)]);
    // struct taint_flag { char c_true; char c_false; _Bool module; const char *desc; }
    let cchar = e.qual(10, "", char_);
    let desc = e.ptr(cchar);
    e.aggregate(
        false,
        "taint_flag",
        16,
        &[
            ("c_true", char_, 0, 0),
            ("c_false", char_, 8, 0),
            ("module", bool_, 16, 0),
            ("desc", desc, 64, 0),
        ],
    );

    // A per-CPU variable.
    let rq = e.var("runqueues", list);
    e.datasec(".data..percpu", &[(rq, 0, 16)]);
    e.decl_tag("tag", list, -1);
    e.float("double", 8);

    // The rest of what LinuxKernelIntermedSymbols needs, empty.
    for name in REQUIRED_TYPES {
        if !["list_head", "mm_struct", "task_struct", "files_struct"].contains(&name) {
            e.aggregate(false, name, 8, &[]);
        }
    }
    Kernel {
        blob: e.finish(),
        console_popular,
        console_other,
    }
}

fn bundle_with(btf: &[u8], kallsyms: &str, config: Option<&str>) -> Bundle {
    let mut files = BTreeMap::new();
    files.insert(bundle::VERSION.to_owned(), BANNER.to_vec());
    files.insert(bundle::BTF.to_owned(), btf.to_vec());
    files.insert(bundle::KALLSYMS.to_owned(), kallsyms.as_bytes().to_vec());
    files.insert(bundle::OSRELEASE.to_owned(), b"6.1.0-test\n".to_vec());
    if let Some(c) = config {
        files.insert(bundle::CONFIG.to_owned(), c.as_bytes().to_vec());
    }
    let uname = Uname {
        machine: "x86_64".into(),
        release: "6.1.0-test".into(),
        ..Uname::default()
    };
    Bundle::from_files(files, "2026-05-01T12:00:00Z", Some(0), uname).unwrap()
}

fn test_isf() -> Isf {
    build(&bundle_with(&kernel_btf().blob, KALLSYMS, None)).unwrap()
}

fn field<'a>(isf: &'a Isf, ty: &str, member: &str) -> &'a crate::isf::Field {
    isf.user_types
        .get(ty)
        .unwrap_or_else(|| panic!("no {ty}"))
        .fields
        .get(member)
        .unwrap_or_else(|| panic!("no {ty}.{member}"))
}

fn base(n: &str) -> TypeRef {
    TypeRef::Base(n.to_owned())
}

#[test]
fn base_types_follow_btf_and_volatility() {
    let isf = test_isf();
    let b = &isf.base_types;
    assert_eq!(
        (
            b["pointer"].size,
            b["pointer"].kind.as_str(),
            b["pointer"].signed
        ),
        (8, "int", false)
    );
    assert_eq!((b["void"].size, b["void"].kind.as_str()), (0, "void"));
    assert_eq!(
        (b["int"].size, b["int"].signed, b["int"].kind.as_str()),
        (4, true, "int")
    );
    assert_eq!((b["char"].kind.as_str(), b["char"].signed), ("char", false));
    assert_eq!(b["_Bool"].kind, "bool");
    assert_eq!(b["double"].kind, "float");
    assert!(b.values().all(|t| t.endian == "little"));
    // Standard names the BTF lacks are added, and that is noted.
    assert_eq!(b["short int"].size, 2);
    let notes = &isf.metadata.producer.irf.notes;
    assert!(notes.iter().any(|n| n.contains("short int")), "{notes:?}");
}

#[test]
fn structs_have_byte_offsets_and_resolved_types() {
    let isf = test_isf();
    let task = &isf.user_types["task_struct"];
    assert_eq!((task.kind.as_str(), task.size), ("struct", 96));
    assert_eq!(field(&isf, "task_struct", "pid").offset, 8);
    assert_eq!(field(&isf, "task_struct", "pid").ty, base("int"));
    assert_eq!(field(&isf, "task_struct", "tasks").offset, 16);
    assert_eq!(
        field(&isf, "task_struct", "tasks").ty,
        TypeRef::Struct("list_head".into())
    );
    assert_eq!(
        field(&isf, "task_struct", "comm").ty,
        TypeRef::Array {
            count: 16,
            subtype: Box::new(base("char"))
        }
    );
    // Pointers through a forward declaration reach the definition, qualifiers and type tags
    // are dropped, function pointers point to a function.
    assert_eq!(
        field(&isf, "list_head", "next").ty,
        TypeRef::Pointer(Box::new(TypeRef::Struct("list_head".into())))
    );
    assert_eq!(
        field(&isf, "task_struct", "real_parent").ty,
        TypeRef::Pointer(Box::new(TypeRef::Struct("task_struct".into())))
    );
    assert_eq!(
        field(&isf, "task_struct", "cv").ty,
        TypeRef::Pointer(Box::new(base("int")))
    );
    assert_eq!(
        field(&isf, "task_struct", "fn").ty,
        TypeRef::Pointer(Box::new(TypeRef::Function))
    );
    // A forward declaration with no definition is an empty struct.
    let files = &isf.user_types["files_struct"];
    assert!(files.fields.is_empty() && files.size == 0);
    // A typedef's anonymous struct takes the typedef's name.
    assert_eq!(field(&isf, "pgd_t", "pgd").ty, base("long unsigned int"));
    assert_eq!(isf.user_types["pgd_t"].size, 8);
}

#[test]
fn anonymous_members_are_lifted_by_volatility() {
    let isf = test_isf();
    let f = field(&isf, "task_struct", "unnamed_field_0");
    assert!(f.anonymous);
    assert_eq!(f.offset, 4);
    let TypeRef::Union(name) = &f.ty else {
        panic!("{:?}", f.ty)
    };
    assert!(
        name.starts_with("unnamed_") && name.len() == "unnamed_".len() + 16,
        "{name}"
    );
    assert_eq!(isf.user_types[name].kind, "union");
    // Volatility 6.2 lifts the union's members into task_struct.
    assert_eq!(
        member_offset(&isf, "task_struct", "a"),
        Some((4, base("int")))
    );
    assert_eq!(
        member_offset(&isf, "task_struct", "b").map(|m| m.0),
        Some(4)
    );
}

#[test]
fn bitfields_sit_in_their_storage_unit() {
    let isf = test_isf();
    let bf = |m: &str| {
        let f = field(&isf, "bits", m);
        let TypeRef::Bitfield {
            bit_length,
            bit_position,
            ty,
        } = &f.ty
        else {
            panic!("{m}: {:?}", f.ty)
        };
        (f.offset, *bit_position, *bit_length, (**ty).clone())
    };
    assert_eq!(bf("a"), (0, 0, 3, base("unsigned int")));
    assert_eq!(bf("b"), (0, 3, 5, base("unsigned int")));
    assert_eq!(bf("c"), (4, 3, 1, base("unsigned char")));
    assert_eq!(bf("d"), (0, 60, 4, base("long unsigned int")));
    // The pre-kind-flag encoding: width from the INT, base type of the full-width name.
    let f = field(&isf, "old_bits", "x");
    assert_eq!(
        (f.offset, &f.ty),
        (
            0,
            &TypeRef::Bitfield {
                bit_length: 3,
                bit_position: 8,
                ty: Box::new(base("unsigned int"))
            }
        )
    );
}

#[test]
fn enums_have_a_base_of_their_size_and_sign() {
    let isf = test_isf();
    let e = &isf.enums["pid_type"];
    assert_eq!((e.base.as_str(), e.size), ("int", 4));
    assert_eq!(e.constants["PIDTYPE_NEG"], Constant(-1));
    // The forward declaration of pid_type did not replace the definition.
    assert_eq!(e.constants.len(), 2);
    let big = &isf.enums["big"];
    // The first base type of the size and sign in name order, as dwarf2json picks.
    assert_eq!((big.base.as_str(), big.size), ("long long unsigned int", 8));
    assert_eq!(big.constants["BIG"], Constant(i128::from(u64::MAX)));
    assert_eq!(isf.enums["state_t"].constants["S_STOP"], Constant(4));
    assert!(
        isf.enums
            .iter()
            .any(|(n, e)| n.starts_with("unnamed_") && e.constants.contains_key("LONELY"))
    );
}

#[test]
fn duplicate_names_are_resolved_and_recorded() {
    let k = kernel_btf();
    let isf = build(&bundle_with(&k.blob, KALLSYMS, None)).unwrap();
    assert_eq!(
        isf.user_types["console"].size, 8,
        "the more referenced console keeps the name"
    );
    let other = format!("console__btf{}", k.console_other);
    assert_eq!(isf.user_types[&other].size, 4);
    assert_eq!(
        isf.metadata.producer.irf.renamed["console"],
        vec![other.clone()]
    );
    assert_eq!(
        field(&isf, "console_user", "c1").ty,
        TypeRef::Pointer(Box::new(TypeRef::Struct("console".into())))
    );
    assert!(k.console_popular > k.console_other);
    let notes = &isf.metadata.producer.irf.notes;
    assert!(
        notes.iter().any(|n| n.contains("1 names more than once")),
        "{notes:?}"
    );
}

#[test]
fn symbols_are_link_time_addresses_with_types() {
    let isf = test_isf();
    let s = &isf.symbols;
    assert_eq!(s["_text"].address, 0xffffffff81000000);
    assert_eq!(s["init_task"].address, 0xffffffff8d610940 - SHIFT);
    assert_eq!(
        s["init_task"].ty,
        Some(TypeRef::Struct("task_struct".into()))
    );
    assert_eq!(
        s["init_files"].ty,
        Some(TypeRef::Struct("files_struct".into()))
    );
    assert_eq!(s["modules"].ty, Some(TypeRef::Struct("list_head".into())));
    assert_eq!(
        s["init_top_pgt"].ty,
        Some(TypeRef::Array {
            count: 512,
            subtype: Box::new(TypeRef::Struct("pgd_t".into()))
        })
    );
    // taint_flags: as many 16-byte entries as fit before the next symbol (0x40 bytes).
    assert_eq!(
        s["taint_flags"].ty,
        Some(TypeRef::Array {
            count: 4,
            subtype: Box::new(TypeRef::Struct("taint_flag".into()))
        })
    );
    // The per-CPU variable: typed from BTF, address not shifted.
    assert_eq!(s["runqueues"].address, 0x1f9c0);
    assert_eq!(s["runqueues"].ty, Some(TypeRef::Struct("list_head".into())));
    // Everything else is void, as dwarf2json writes System.map symbols; modules are left out.
    assert_eq!(s["unknown_global"].ty, Some(TypeRef::void()));
    assert_eq!(s["helper"].address, 0xffffffff8b300100 - SHIFT);
    assert!(!s.contains_key("mod_fn"));
    let kaslr = &isf.metadata.producer.irf.kaslr;
    assert_eq!(
        (
            kaslr.shift.as_str(),
            kaslr.link_text.as_deref(),
            kaslr.link_text_source.as_str()
        ),
        ("0xa200000", Some("0xffffffff81000000"), "default")
    );
    assert_eq!(kaslr.unshifted_symbols, 3);
}

#[test]
fn tk_core_gets_a_laid_out_struct_before_tk_data() {
    let isf = test_isf();
    assert_eq!(
        isf.symbols["tk_core"].ty,
        Some(TypeRef::Struct("irf_tk_core".into()))
    );
    let tk = &isf.user_types["irf_tk_core"];
    assert_eq!(tk.fields["seq"].offset, 0);
    assert_eq!(
        tk.fields["seq"].ty,
        TypeRef::Struct("seqcount_raw_spinlock".into())
    );
    assert_eq!(tk.fields["timekeeper"].offset, 8);
    assert_eq!(tk.size, 16);
}

#[test]
fn the_banner_is_proc_version_and_its_nul() {
    let isf = test_isf();
    let sym = &isf.symbols["linux_banner"];
    let data = base64::engine::general_purpose::STANDARD
        .decode(sym.constant_data.as_deref().unwrap())
        .unwrap();
    let mut expected = BANNER.to_vec();
    expected.push(0);
    assert_eq!(data, expected);
    assert!(data.ends_with(b"\n\0"));
    assert_eq!(
        sym.ty,
        Some(TypeRef::Array {
            count: expected.len() as u64,
            subtype: Box::new(base("char"))
        })
    );
    assert_eq!(sym.address, 0xffffffff8d620000 - SHIFT);
}

#[test]
fn metadata_is_what_volatility_reads() {
    let isf = test_isf();
    let m = &isf.metadata;
    assert_eq!(m.format, "6.2.0");
    assert_eq!(m.producer.name, "irf-isf");
    assert_eq!(m.producer.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(m.producer.datetime.as_deref(), Some("2026-05-01T12:00:00Z"));
    assert_eq!(m.linux.symbols.len(), 1);
    assert_eq!(m.linux.symbols[0].kind, "system-map");
    assert_eq!(m.linux.symbols[0].name, "kallsyms");
    assert_eq!(m.linux.symbols[0].hash_value.len(), 64);
    assert!(m.linux.types.is_empty());
}

/// Every JSON object's keys in sorted order, recursively.
fn assert_sorted(v: &serde_json::Value, path: &str) {
    match v {
        serde_json::Value::Object(m) => {
            let keys: Vec<&String> = m.keys().collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "keys of {path}");
            for (k, v) in m {
                assert_sorted(v, &format!("{path}/{k}"));
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| assert_sorted(v, path)),
        _ => {}
    }
}

#[test]
fn output_is_deterministic_with_sorted_keys() {
    let k = kernel_btf();
    let a = xz::to_json(&build(&bundle_with(&k.blob, KALLSYMS, None)).unwrap());
    let b = xz::to_json(&build(&bundle_with(&k.blob, KALLSYMS, None)).unwrap());
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_sorted(&v, "");
    assert_eq!(
        xz::compress(&a, xz::XZ_PRESET).unwrap(),
        xz::compress(&b, xz::XZ_PRESET).unwrap()
    );
}

#[test]
fn json_xz_reads_back_to_the_same_isf() {
    let isf = test_isf();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kernel.json.xz");
    xz::write_json_xz(&isf, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\xfd7zXZ\0"));
    assert_eq!(xz::read(&path).unwrap(), isf);
    let plain = dir.path().join("kernel.json");
    std::fs::write(&plain, xz::to_json(&isf)).unwrap();
    assert_eq!(xz::read(&plain).unwrap(), isf);
}

#[test]
fn the_config_sets_the_link_address() {
    let config = "CONFIG_PHYSICAL_START=0x1000000\nCONFIG_PHYSICAL_ALIGN=0x1000000\n";
    let isf = build(&bundle_with(&kernel_btf().blob, KALLSYMS, Some(config))).unwrap();
    let kaslr = &isf.metadata.producer.irf.kaslr;
    assert_eq!(kaslr.link_text_source, "config");
    assert_eq!(kaslr.shift, "0xa200000");
    // A gzipped config (as /proc/config.gz) works the same.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, b"CONFIG_PHYSICAL_START=0x2000000\n").unwrap();
    let mut files = BTreeMap::new();
    let b = bundle_with(&kernel_btf().blob, KALLSYMS, None);
    for name in [
        bundle::VERSION,
        bundle::BTF,
        bundle::KALLSYMS,
        bundle::OSRELEASE,
    ] {
        files.insert(name.to_owned(), b.file(name).unwrap().to_vec());
    }
    files.insert(bundle::CONFIG_GZ.to_owned(), gz.finish().unwrap());
    let uname = Uname {
        machine: "x86_64".into(),
        ..Uname::default()
    };
    let b = Bundle::from_files(files, "t", None, uname).unwrap();
    let isf = build(&b).unwrap();
    assert_eq!(
        isf.metadata.producer.irf.kaslr.link_text.as_deref(),
        Some("0xffffffff82000000")
    );
}

#[test]
fn kernels_without_kallsyms_all_are_refused_with_the_reason() {
    let text: String = KALLSYMS
        .lines()
        .filter(|l| !l.ends_with(" init_task") && !l.ends_with(" init_files"))
        .map(|l| format!("{l}\n"))
        .collect();
    let b = bundle_with(&kernel_btf().blob, &text, None);
    let err = build(&b).unwrap_err();
    let Error::NotUsable {
        missing_symbols,
        missing_types,
        hint,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(missing_symbols, &["init_task", "init_files"]);
    assert!(missing_types.is_empty());
    assert!(hint.contains("CONFIG_KALLSYMS_ALL"), "{hint}");
    // Told to go on, the builder writes the ISF and notes what Volatility will miss.
    let isf = build_with(&b, &Options { strict: false }).unwrap();
    assert!(
        isf.metadata
            .producer
            .irf
            .notes
            .iter()
            .any(|n| n.contains("init_task"))
    );
}

#[test]
fn hidden_kallsyms_fail_with_the_fix() {
    let text = "0000000000000000 T _text\n0000000000000000 D init_task\n";
    let err = build(&bundle_with(&kernel_btf().blob, text, None)).unwrap_err();
    assert!(err.to_string().contains("kptr_restrict"), "{err}");
}

#[test]
fn a_banner_that_is_not_proc_version_is_refused() {
    let mut files = BTreeMap::new();
    let b = bundle_with(&kernel_btf().blob, KALLSYMS, None);
    for name in [bundle::BTF, bundle::KALLSYMS, bundle::OSRELEASE] {
        files.insert(name.to_owned(), b.file(name).unwrap().to_vec());
    }
    files.insert(
        bundle::VERSION.to_owned(),
        b"Linux version 6.1.0-test (no newline)".to_vec(),
    );
    let b = Bundle::from_files(files, "t", None, Uname::default()).unwrap();
    assert!(matches!(build(&b), Err(Error::Input(m)) if m.contains("/proc/version")));
}

#[test]
fn typedef_cycles_are_an_error_not_a_hang() {
    let mut e = Encoder::new();
    // typedef a -> typedef b -> typedef a, used by a struct member.
    let a = e.typedef("a", 2);
    e.typedef("b", a);
    e.aggregate(false, "s", 4, &[("m", a, 0, 0)]);
    let blob = e.finish();
    let b = bundle_with(&blob, KALLSYMS, None);
    let err = build_with(&b, &Options { strict: false }).unwrap_err();
    assert!(matches!(err, Error::Types(_)), "{err}");
}

/// The tools venv's Volatility 3 Python (`scripts/tools-venv`), or `None` with a message; with
/// `IRF_REQUIRE_TOOLS` set (as `.ci/run` does) a missing one fails the test.
fn volatility_python() -> Option<std::path::PathBuf> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = std::env::var_os("IRF_VENV").map_or_else(|| root.join(".venv"), Into::into);
    let python = venv.join("volatility/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var_os("IRF_REQUIRE_TOOLS").is_none(),
        "IRF_REQUIRE_TOOLS is set but {} is missing: run scripts/tools-venv",
        python.display()
    );
    eprintln!(
        "skipping: no Volatility 3 at {} (run scripts/tools-venv)",
        python.display()
    );
    None
}

#[test]
fn the_pinned_volatility_validates_and_loads_the_isf() {
    let Some(python) = volatility_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kernel.json.xz");
    xz::write_json_xz(&test_isf(), &path).unwrap();
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/validate-isf");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("valid ISF 6.2.0"), "{stdout}");
    assert!(stdout.contains("reader Version8Format"), "{stdout}");
    assert!(
        stdout.contains("'pid': 8") && stdout.contains("'tasks': 16"),
        "{stdout}"
    );
    assert!(stdout.contains("'init_task': 'task_struct'"), "{stdout}");
}
