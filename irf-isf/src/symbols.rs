//! Types for the kernel's global variables.
//!
//! BTF describes types, not variables: vmlinux BTF has `VAR` records only for per-CPU variables
//! (those get their type from BTF). Volatility dereferences a handful of other globals, and an
//! untyped symbol is `void` to it (`init_task.tasks` would fail), so [`TYPED_SYMBOLS`] gives those
//! their C type, as the kernel source declares them. Each entry is checked against the BTF when
//! the ISF is built: a type the BTF does not have leaves the symbol `void` and says so in the
//! ISF's notes.
//!
//! The list comes from reading Volatility 3 2.28.2: the automagic that finds the kernel
//! (`framework/automagic/linux.py`), the kernel symbol table class
//! (`framework/symbols/linux/__init__.py` and its extensions), and the plugins.

/// `TAINT_FLAGS_COUNT` of a kernel release (`uname -r`): how many entries `taint_flags` has. The
/// kernel declares the array with that length, which kallsyms cannot tell (the gap to the next
/// symbol holds padding and other data: 42 entries' worth on Debian's 6.1, which has 19). Mainline
/// (`include/linux/panic.h`): 18 from 4.15 (`TAINT_AUX`, `TAINT_RANDSTRUCT`), 19 from 6.0
/// (`TAINT_TEST`), 20 from 6.15 (`TAINT_FWCTL`); Red Hat's kernels (`.el` releases) reserve 32.
/// `None` for a release this table does not know (older than 4.15, 7 and later, or not
/// `MAJOR.MINOR…`): the builder then keeps the gap and says so in the ISF's notes.
pub fn taint_flags_count(release: &str) -> Option<u64> {
    if release
        .split(['.', '-', '_'])
        .any(|part| part.starts_with("el"))
    {
        return Some(32);
    }
    let mut numbers = release.split(['.', '-']);
    let major: u64 = numbers.next()?.parse().ok()?;
    let minor: u64 = numbers.next()?.parse().ok()?;
    match (major, minor) {
        (4, 15..) | (5, _) => Some(18),
        (6, 0..=14) => Some(19),
        (6, 15..) => Some(20),
        _ => None,
    }
}

/// A global variable's C type, and who reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypedSymbol {
    /// The symbol.
    pub symbol: &'static str,
    /// Its C type, alternatives in order (the first one the BTF has wins). The syntax is a base
    /// (`struct NAME`, `union NAME`, `enum NAME`, a typedef or an integer type name), then `*`s,
    /// then optionally `[N]` (an array of N) or `[..N]` (an array as long as the gap to the next
    /// kallsyms symbol allows, at most N). `@tk_core` is the anonymous struct of `tk_core` before
    /// Linux 6.13, laid out from its members.
    pub types: &'static [&'static str],
    /// What in Volatility reads it.
    pub used_by: &'static str,
}

/// The typed globals. Addresses come from kallsyms, which has variables only in kernels built
/// with `CONFIG_KALLSYMS_ALL=y`.
pub const TYPED_SYMBOLS: &[TypedSymbol] = &[
    TypedSymbol {
        symbol: "init_task",
        types: &["struct task_struct"],
        used_by: "automagic LinuxIntelStacker.find_aslr (KASLR shift: comm, pid, state, active_mm, tasks, files); linux.pslist, linux.pstree, linux.bash, linux.sockstat (task list from init_task.tasks)",
    },
    TypedSymbol {
        symbol: "init_files",
        types: &["struct files_struct"],
        used_by: "automagic LinuxIntelStacker.find_aslr (virtual shift: init_task.files - &init_files)",
    },
    TypedSymbol {
        symbol: "init_mm",
        types: &["struct mm_struct"],
        used_by: "automagic LinuxIntelStacker.find_aslr (rejects an unrelocated init_task copy)",
    },
    TypedSymbol {
        symbol: "init_top_pgt",
        types: &["pgd_t[512]"],
        used_by: "automagic LinuxIntelStacker (kernel page tables, x86-64 since 4.13)",
    },
    TypedSymbol {
        symbol: "init_level4_pgt",
        types: &["pgd_t[512]"],
        used_by: "automagic LinuxIntelStacker (kernel page tables, x86-64 before 4.13)",
    },
    TypedSymbol {
        symbol: "swapper_pg_dir",
        types: &["pgd_t[..4096]"],
        used_by: "automagic LinuxIntelStacker (kernel page tables, other architectures)",
    },
    TypedSymbol {
        symbol: "modules",
        types: &["struct list_head"],
        used_by: "linux.lsmod (Modules.list_modules walks modules as a list of struct module)",
    },
    TypedSymbol {
        symbol: "taint_flags",
        types: &["struct taint_flag[..64]"],
        used_by: "linux.lsmod (Tainting: the kernel's taint characters, Linux >= 4.10)",
    },
    TypedSymbol {
        symbol: "module_kset",
        types: &["struct kset *"],
        used_by: "linux.check_modules, linux.hidden_modules (Modules.get_kset_modules)",
    },
    TypedSymbol {
        symbol: "mod_tree",
        types: &["struct mod_tree_root"],
        used_by: "Modules (module address ranges), linux.hidden_modules",
    },
    TypedSymbol {
        symbol: "net_namespace_list",
        types: &["struct list_head"],
        used_by: "linux.sockstat (interface names per namespace), linux.ip.Addr",
    },
    TypedSymbol {
        symbol: "socket_file_ops",
        types: &["struct file_operations"],
        used_by: "linux.sockstat (which open files are sockets)",
    },
    TypedSymbol {
        symbol: "sockfs_dentry_operations",
        types: &["struct dentry_operations"],
        used_by: "linux.sockstat (which open files are sockets)",
    },
    TypedSymbol {
        symbol: "tk_core",
        types: &["struct tk_data", "@tk_core"],
        used_by: "linux.pslist, linux.pstree (creation time: boot time from tk_core.timekeeper)",
    },
    TypedSymbol {
        symbol: "init_net",
        types: &["struct net"],
        used_by: "network plugins (the initial network namespace)",
    },
    TypedSymbol {
        symbol: "init_pid_ns",
        types: &["struct pid_namespace"],
        used_by: "linux.pidhashtable",
    },
    TypedSymbol {
        symbol: "init_uts_ns",
        types: &["struct uts_namespace"],
        used_by: "host name and release of the image",
    },
    TypedSymbol {
        symbol: "prb",
        types: &["struct printk_ringbuffer *"],
        used_by: "linux.kmsg (Linux >= 5.10)",
    },
    TypedSymbol {
        symbol: "prog_idr",
        types: &["struct idr"],
        used_by: "linux.ebpf",
    },
    TypedSymbol {
        symbol: "iomem_resource",
        types: &["struct resource"],
        used_by: "linux.iomem",
    },
    TypedSymbol {
        symbol: "tty_drivers",
        types: &["struct list_head"],
        used_by: "linux.tty_check",
    },
    TypedSymbol {
        symbol: "keyboard_notifier_list",
        types: &["struct atomic_notifier_head"],
        used_by: "linux.keyboard_notifiers",
    },
    TypedSymbol {
        symbol: "ftrace_ops_list",
        types: &["struct ftrace_ops *"],
        used_by: "linux.tracing.ftrace",
    },
    TypedSymbol {
        symbol: "ftrace_list_end",
        types: &["struct ftrace_ops"],
        used_by: "linux.tracing.ftrace",
    },
    TypedSymbol {
        symbol: "cap_last_cap",
        types: &["int"],
        used_by: "linux.capabilities, linux.check_creds",
    },
    TypedSymbol {
        symbol: "vmemmap_base",
        types: &["long unsigned int"],
        used_by: "page cache plugins (struct page addresses)",
    },
    TypedSymbol {
        symbol: "idt_table",
        types: &["gate_desc[256]"],
        used_by: "linux.check_idt (x86)",
    },
];

/// The symbols Volatility cannot find the kernel without (automagic `LinuxIntelStacker`): the
/// ISF is refused when kallsyms lacks one, unless the build is told to go on.
pub const REQUIRED_SYMBOLS: [&str; 3] = ["init_task", "init_files", "init_mm"];

/// The data symbols the ISF's plugins need that `/proc/kallsyms` lists only on a kernel built
/// with `CONFIG_KALLSYMS_ALL` (distribution kernels are; some CI hosts' are not). Tests that
/// build an ISF from such a host's own bundle add them with made-up addresses.
pub const KALLSYMS_ALL_VARIABLES: [&str; 11] = [
    "init_task",
    "init_files",
    "init_mm",
    "init_top_pgt",
    "modules",
    "taint_flags",
    "net_namespace_list",
    "socket_file_ops",
    "sockfs_dentry_operations",
    "tk_core",
    "linux_banner",
];

/// One of these is the kernel's page-table root the stacker starts from.
pub const PAGE_TABLE_SYMBOLS: [&str; 3] = ["init_top_pgt", "init_level4_pgt", "swapper_pg_dir"];

/// The types `LinuxKernelIntermedSymbols.__init__` attaches classes to with `set_type_class`,
/// which raises when the ISF lacks one.
pub const REQUIRED_TYPES: [&str; 23] = [
    "file",
    "list_head",
    "hlist_head",
    "mm_struct",
    "super_block",
    "task_struct",
    "vm_area_struct",
    "qstr",
    "dentry",
    "fs_struct",
    "files_struct",
    "kobject",
    "cred",
    "inode",
    "idr",
    "address_space",
    "page",
    "vfsmount",
    "net",
    "socket",
    "sock",
    "inet_sock",
    "unix_sock",
];

/// Members of `task_struct` the stacker and `linux.pslist` read (after anonymous members are
/// lifted); `state` may be `__state` (Linux >= 5.14).
pub const TASK_STRUCT_MEMBERS: [&str; 8] = [
    "comm",
    "pid",
    "tgid",
    "tasks",
    "active_mm",
    "mm",
    "files",
    "real_parent",
];

/// A parsed type expression of [`TypedSymbol::types`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeExpr<'a> {
    /// `struct`, `union`, `enum` or "" (a typedef or base type name).
    pub(crate) keyword: &'a str,
    /// The name.
    pub(crate) name: &'a str,
    /// Number of `*`.
    pub(crate) pointers: usize,
    /// The array part.
    pub(crate) array: Option<ArrayLen>,
}

/// How long an array is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrayLen {
    /// Exactly this many elements.
    Fixed(u64),
    /// As many as fit before the next symbol, at most this many.
    UpTo(u64),
}

/// Parses a type expression (the table is checked by a test, so `None` only for bad input).
pub(crate) fn parse_type_expr(s: &str) -> Option<TypeExpr<'_>> {
    let (base, array) = match s.split_once('[') {
        Some((base, rest)) => {
            let inner = rest.strip_suffix(']')?;
            let len = match inner.strip_prefix("..") {
                Some(n) => ArrayLen::UpTo(n.parse().ok()?),
                None => ArrayLen::Fixed(inner.parse().ok()?),
            };
            (base, Some(len))
        }
        None => (s, None),
    };
    let stars = base.trim_end().len() - base.trim_end().trim_end_matches('*').len();
    let base = base.trim_end().trim_end_matches('*').trim();
    let (keyword, name) = match base.split_once(' ') {
        Some((kw @ ("struct" | "union" | "enum"), name)) => (kw, name.trim()),
        _ => ("", base),
    };
    if name.is_empty() {
        return None;
    }
    Some(TypeExpr {
        keyword,
        name,
        pointers: stars,
        array,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn taint_flag_counts_follow_the_kernel_release() {
        for (release, count) in [
            ("6.1.0-27-cloud-amd64", Some(19)),
            ("6.1.102-111.182.amzn2023.x86_64", Some(19)),
            ("5.10.225-213.878.amzn2.x86_64", Some(18)),
            ("6.8.0-1015-aws", Some(19)),
            ("6.15.2-arch1-1", Some(20)),
            ("5.14.0-427.13.1.el9_4.x86_64", Some(32)),
            ("4.14.352-267.564.amzn2.x86_64", None),
            ("7.0.0", None),
            ("rolling", None),
        ] {
            assert_eq!(taint_flags_count(release), count, "{release}");
        }
    }

    use super::*;

    #[test]
    fn every_table_type_parses() {
        for entry in TYPED_SYMBOLS {
            for ty in entry.types {
                if !ty.starts_with('@') {
                    assert!(parse_type_expr(ty).is_some(), "{}: {ty}", entry.symbol);
                }
            }
        }
    }

    #[test]
    fn parses_type_expressions() {
        assert_eq!(
            parse_type_expr("struct kset *"),
            Some(TypeExpr {
                keyword: "struct",
                name: "kset",
                pointers: 1,
                array: None
            })
        );
        assert_eq!(
            parse_type_expr("pgd_t[512]"),
            Some(TypeExpr {
                keyword: "",
                name: "pgd_t",
                pointers: 0,
                array: Some(ArrayLen::Fixed(512))
            })
        );
        assert_eq!(
            parse_type_expr("struct taint_flag[..64]"),
            Some(TypeExpr {
                keyword: "struct",
                name: "taint_flag",
                pointers: 0,
                array: Some(ArrayLen::UpTo(64))
            })
        );
        assert_eq!(
            parse_type_expr("long unsigned int"),
            Some(TypeExpr {
                keyword: "",
                name: "long unsigned int",
                pointers: 0,
                array: None
            })
        );
        assert_eq!(parse_type_expr("x[abc]"), None);
        assert_eq!(parse_type_expr("*"), None);
    }
}
