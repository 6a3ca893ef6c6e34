//! The builder on this host's own kernel: its real BTF, kallsyms and banner, collected with
//! `collect(Sources::live())` as `irf-memdump symbols` will on a suspect host.
//!
//! It needs `/sys/kernel/btf/vmlinux` and a kallsyms with addresses (root, kptr_restrict <= 1);
//! on a machine without them it says so and passes.

use std::collections::BTreeMap;
use std::path::Path;

use irf_isf::btf::{Btf, Kind};
use irf_isf::builder::member_offset;
use irf_isf::bundle::{self, Bundle};
use irf_isf::isf::{Isf, TypeRef};
use irf_isf::{Error, Options, Sources, build, build_with, collect, xz};

/// This host's bundle, or `None` (with the reason printed) when the host cannot give one.
fn host_bundle(dir: &Path) -> Option<Bundle> {
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("skipped: this kernel has no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF)");
        return None;
    }
    match collect(&dir.join("bundle"), &Sources::live()) {
        Ok(_) => Some(Bundle::load(&dir.join("bundle")).expect("a bundle just collected loads")),
        Err(e @ irf_isf::BundleError::KallsymsHidden { .. }) => {
            eprintln!("skipped: {e}");
            None
        }
        Err(e) => panic!("collecting this host's bundle failed: {e}"),
    }
}

/// The bundle with kallsyms lines added for the variables a kernel without
/// `CONFIG_KALLSYMS_ALL` does not list (made-up addresses past the last symbol), so that the
/// curated types are checked against this kernel's real BTF.
fn with_variables(b: &Bundle) -> Bundle {
    let mut kallsyms = String::from_utf8(b.kallsyms().to_vec()).unwrap();
    let mut addr = 0xffff_ffff_bf00_0000_u64;
    for name in irf_isf::symbols::KALLSYMS_ALL_VARIABLES {
        if !kallsyms
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some(name))
        {
            kallsyms.push_str(&format!("{addr:016x} D {name}\n"));
            addr += 0x10000;
        }
    }
    let mut files = BTreeMap::new();
    for name in b.manifest.files.keys() {
        files.insert(name.clone(), b.file(name).unwrap().to_vec());
    }
    files.insert(bundle::KALLSYMS.to_owned(), kallsyms.into_bytes());
    let m = &b.manifest;
    Bundle::from_files(files, &m.captured_at, m.kptr_restrict, m.uname.clone()).unwrap()
}

/// Every struct, union, enum and base type a field or symbol refers to exists.
fn assert_references_resolve(isf: &Isf) {
    fn check(isf: &Isf, t: &TypeRef, at: &str) {
        match t {
            TypeRef::Base(n) => assert!(isf.base_types.contains_key(n), "{at}: base {n}"),
            TypeRef::Struct(n) | TypeRef::Union(n) => {
                assert!(isf.user_types.contains_key(n), "{at}: type {n}")
            }
            TypeRef::Enum(n) => assert!(isf.enums.contains_key(n), "{at}: enum {n}"),
            TypeRef::Pointer(s) | TypeRef::Array { subtype: s, .. } => check(isf, s, at),
            TypeRef::Bitfield { ty, .. } => {
                assert!(
                    matches!(**ty, TypeRef::Base(_) | TypeRef::Enum(_)),
                    "{at}: bitfield of {ty:?}"
                );
                check(isf, ty, at)
            }
            TypeRef::Function => {}
        }
    }
    for (tname, ty) in &isf.user_types {
        for (fname, f) in &ty.fields {
            check(isf, &f.ty, &format!("{tname}.{fname}"));
            if f.anonymous {
                assert!(
                    matches!(f.ty, TypeRef::Struct(_) | TypeRef::Union(_)),
                    "{tname}.{fname}"
                );
            }
        }
    }
    for (sname, s) in &isf.symbols {
        if let Some(t) = &s.ty {
            check(isf, t, sname);
        }
    }
    for (ename, e) in &isf.enums {
        assert!(
            isf.base_types.contains_key(&e.base),
            "enum {ename} base {}",
            e.base
        );
    }
}

/// The byte offset of a task_struct member straight from the BTF records (lifting unnamed
/// members), independent of the ISF conversion.
fn btf_offset(btf: &Btf<'_>, ty: u32, member: &str) -> Option<u64> {
    let mut id = ty;
    while let Kind::Typedef { target } | Kind::Qualified { target, .. } = btf.get(id).kind {
        id = target;
    }
    let Kind::Aggregate { members, .. } = &btf.get(id).kind else {
        return None;
    };
    for m in members {
        let name = btf.str_at(m.name_off);
        if name == member {
            return Some(u64::from(m.bit_offset / 8));
        }
        if name.is_empty()
            && let Some(inner) = btf_offset(btf, m.type_id, member)
        {
            return Some(u64::from(m.bit_offset / 8) + inner);
        }
    }
    None
}

#[test]
fn this_hosts_kernel_gives_a_usable_isf() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bundle) = host_bundle(dir.path()) else {
        return;
    };
    let kallsyms = String::from_utf8_lossy(bundle.kallsyms()).into_owned();
    let has_variables = kallsyms.lines().any(|l| l.ends_with(" init_task"));

    // Strict: fine with CONFIG_KALLSYMS_ALL; without it, refused with the reason.
    match build(&bundle) {
        Ok(_) => assert!(has_variables),
        Err(Error::NotUsable {
            missing_symbols,
            missing_types,
            hint,
        }) => {
            assert!(
                !has_variables,
                "refused though kallsyms has init_task: {missing_symbols:?}"
            );
            assert!(missing_symbols.iter().any(|s| s == "init_task"));
            assert!(
                missing_types.is_empty(),
                "this kernel's BTF lacks {missing_types:?}"
            );
            assert!(hint.contains("CONFIG_KALLSYMS_ALL"), "{hint}");
        }
        Err(e) => panic!("{e}"),
    }

    let bundle = with_variables(&bundle);
    let isf = build(&bundle).unwrap();
    assert_references_resolve(&isf);

    // task_struct's members where the BTF has them.
    let btf = Btf::parse(bundle.btf()).unwrap();
    let task_id = (0..u32::try_from(btf.types().len()).unwrap())
        .find(|&id| {
            btf.type_name(id) == "task_struct" && matches!(btf.get(id).kind, Kind::Aggregate { .. })
        })
        .unwrap();
    let task = &isf.user_types["task_struct"];
    let Kind::Aggregate { size, .. } = btf.get(task_id).kind else {
        unreachable!()
    };
    assert_eq!(task.size, u64::from(size));
    for member in [
        "pid",
        "tgid",
        "comm",
        "tasks",
        "mm",
        "active_mm",
        "files",
        "real_parent",
        "cred",
    ] {
        let (offset, _) = member_offset(&isf, "task_struct", member)
            .unwrap_or_else(|| panic!("task_struct.{member}"));
        assert_eq!(
            Some(offset),
            btf_offset(&btf, task_id, member),
            "task_struct.{member}"
        );
        assert!(offset < task.size);
    }
    let (_, comm) = member_offset(&isf, "task_struct", "comm").unwrap();
    assert_eq!(
        comm,
        TypeRef::Array {
            count: 16,
            subtype: Box::new(TypeRef::Base("char".into()))
        }
    );
    assert_eq!(
        member_offset(&isf, "task_struct", "pid").unwrap().1,
        TypeRef::Base("int".into())
    );
    assert_eq!(
        member_offset(&isf, "task_struct", "tasks").unwrap().1,
        TypeRef::Struct("list_head".into())
    );
    assert!(
        member_offset(&isf, "task_struct", "__state").is_some()
            || member_offset(&isf, "task_struct", "state").is_some()
    );

    // The typed globals.
    let s = &isf.symbols;
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
        s["socket_file_ops"].ty,
        Some(TypeRef::Struct("file_operations".into()))
    );
    assert!(matches!(
        &s["init_top_pgt"].ty,
        Some(TypeRef::Array { count: 512, .. })
    ));
    assert!(
        matches!(&s["tk_core"].ty, Some(TypeRef::Struct(n)) if n == "tk_data" || n == "irf_tk_core")
    );

    // The banner: /proc/version's bytes and the NUL that ends linux_banner in memory.
    let version = std::fs::read("/proc/version").unwrap();
    let mut expected = version.clone();
    expected.push(0);
    let sym = &s["linux_banner"];
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD
        .decode(sym.constant_data.as_deref().unwrap())
        .unwrap();
    assert_eq!(data, expected);

    // The same bundle gives the same bytes, and the .json.xz reads back to the same ISF.
    let json = xz::to_json(&isf);
    assert_eq!(json, xz::to_json(&build(&bundle).unwrap()));
    let path = dir.path().join("host.json.xz");
    xz::write_json_xz(&isf, &path).unwrap();
    assert_eq!(xz::read(&path).unwrap(), isf);

    // Lenient on the real kallsyms: written, with what is missing in the notes.
    let real = Bundle::load(&dir.path().join("bundle")).unwrap();
    let isf = build_with(&real, &Options { strict: false }).unwrap();
    assert_references_resolve(&isf);
    let notes = &isf.metadata.producer.irf.notes;
    if !has_variables {
        assert!(
            notes.iter().any(|n| n.contains("CONFIG_KALLSYMS_ALL")),
            "{notes:?}"
        );
    }
    assert_eq!(isf.metadata.producer.irf.kaslr.arch, std::env::consts::ARCH);
}
