//! `irf-isf`: Volatility 3 symbol tables (Intermediate Symbol Format) for the kernel a memory
//! image was taken from, without DWARF.
//!
//! Amazon Linux kernels are in no public symbol bank, and dwarf2json needs the kernel's DWARF
//! debuginfo (minutes and gigabytes of memory). Every kernel built with `CONFIG_DEBUG_INFO_BTF`
//! carries its own types as BTF, though, and the running kernel shows its symbols in
//! `/proc/kallsyms` and its banner in `/proc/version`. So the suspect host's kernel is asked for
//! those at capture time ([`bundle::collect`], run through `irf-memdump symbols`), and the ISF is
//! built from the [`bundle::Bundle`] afterwards, anywhere ([`build`]).
//!
//! - [`btf`]: the BTF reader (the format of the kernel's `Documentation/bpf/btf.rst`).
//! - [`types`]: BTF types as ISF `base_types`, `user_types` and `enums`.
//! - [`kallsyms`]: kernel symbols and their link-time addresses (the KASLR shift taken off).
//! - [`symbols`]: the C types of the globals Volatility reads, which BTF does not have.
//! - [`builder`]: putting it together, with the banner Volatility identifies the kernel by.
//! - [`image`]: the bundle of an installed kernel that is not running (vmlinuz, System.map).
//! - [`symbol_table`]: the kernel's own kallsyms tables, read out of its image.
//! - [`isf`]: the ISF document; [`xz`]: writing it as `.json.xz`.
//!
//! Without the default `build` feature the crate is only [`bundle`], which the static
//! `irf-memdump` uses on the suspect host.

pub mod bundle;

#[cfg(feature = "build")]
pub mod btf;
#[cfg(feature = "build")]
pub mod builder;
#[cfg(feature = "build")]
pub mod image;
#[cfg(feature = "build")]
pub mod isf;
#[cfg(feature = "build")]
pub mod kallsyms;
#[cfg(feature = "build")]
pub mod symbol_table;
#[cfg(feature = "build")]
pub mod symbols;
#[cfg(feature = "build")]
pub mod types;
#[cfg(feature = "build")]
pub mod xz;

#[cfg(feature = "build")]
pub use builder::{Options, build, build_with};
pub use bundle::{Bundle, BundleError, Manifest, Sources, collect};
#[cfg(feature = "build")]
pub use isf::Isf;

/// Why an ISF could not be built or written.
#[cfg(feature = "build")]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bundle could not be read or failed its manifest.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The BTF does not decode.
    #[error("BTF: {0}")]
    Btf(#[from] btf::BtfError),
    /// The BTF's types do not convert.
    #[error(transparent)]
    Types(#[from] types::TypeError),
    /// kallsyms is unusable.
    #[error(transparent)]
    Kallsyms(#[from] kallsyms::KallsymsError),
    /// Another input is malformed (the banner, the config, an ISF read back).
    #[error("{0}")]
    Input(String),
    /// Volatility could not use the ISF: it could not find the kernel in an image with it, or its
    /// Linux symbol table would refuse to load it.
    #[error(
        "Volatility could not use this ISF: {}{}{hint}",
        if missing_symbols.is_empty() { String::new() } else { format!("kallsyms lacks {}; ", missing_symbols.join(", ")) },
        if missing_types.is_empty() { String::new() } else { format!("BTF lacks {}; ", missing_types.join(", ")) },
    )]
    NotUsable {
        /// Symbols the stacker needs that kallsyms does not have.
        missing_symbols: Vec<String>,
        /// Types (or `task_struct` members) the kernel symbol table needs.
        missing_types: Vec<String>,
        /// What probably caused it.
        hint: String,
    },
    /// The ISF file could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

#[cfg(all(test, feature = "build"))]
mod tests;
