//! `irf-isf`: Volatility 3 symbol tables (Intermediate Symbol Format) for the kernel a memory
//! image was taken from, without DWARF.
//!
//! Amazon Linux kernels are in no public symbol bank, and dwarf2json needs the kernel's DWARF
//! debuginfo (minutes and gigabytes of memory). Every kernel built with `CONFIG_DEBUG_INFO_BTF`
//! carries its own types as BTF, though, and the running kernel shows its symbols in
//! `/proc/kallsyms` and its banner in `/proc/version`. So the suspect host's kernel is asked for
//! those at capture time ([`bundle::collect`], run through `irf-memdump symbols`), and the ISF is
//! built from the [`bundle::Bundle`] afterwards, anywhere.

pub mod bundle;

#[cfg(feature = "build")]
pub mod btf;
#[cfg(feature = "build")]
pub mod kallsyms;

pub use bundle::{Bundle, BundleError, Manifest, Sources, collect};
