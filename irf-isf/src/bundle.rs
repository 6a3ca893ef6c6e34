//! The symbol bundle: what the suspect host's kernel exposes about itself, copied next to its
//! memory image so that an ISF can be built for it later, elsewhere.
//!
//! A bundle is a directory:
//!
//! | file | from | required |
//! | --- | --- | --- |
//! | `version` | `/proc/version` (the banner) | yes |
//! | `btf` | `/sys/kernel/btf/vmlinux` | yes |
//! | `kallsyms` | `/proc/kallsyms` (read as root) | yes |
//! | `osrelease` | `/proc/sys/kernel/osrelease` | yes |
//! | `config` or `config.gz` | `/boot/config-$(uname -r)`, else `/proc/config.gz` | no |
//! | `manifest.json` | [`Manifest`]: every other file's SHA-256 and size, `kptr_restrict`, the capture time, `uname` | yes |
//!
//! [`collect`] writes one (on the suspect host, through `irf-memdump symbols`: it needs only
//! `std`, `serde_json` and `sha2`), and [`Bundle::load`] reads one back, checking every file
//! against the manifest. The manifest is written last, so a directory without one is an
//! interrupted collection.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The bundle format version this crate writes and reads.
pub const BUNDLE_FORMAT: u32 = 1;

/// The banner (`/proc/version`).
pub const VERSION: &str = "version";
/// The kernel's BTF.
pub const BTF: &str = "btf";
/// `/proc/kallsyms`.
pub const KALLSYMS: &str = "kallsyms";
/// `/proc/sys/kernel/osrelease`.
pub const OSRELEASE: &str = "osrelease";
/// The kernel config as text.
pub const CONFIG: &str = "config";
/// The kernel config gzip-compressed (`/proc/config.gz`).
pub const CONFIG_GZ: &str = "config.gz";

const REQUIRED: [&str; 4] = [VERSION, BTF, KALLSYMS, OSRELEASE];
/// Every file a bundle may hold besides its manifest.
pub const KNOWN: [&str; 6] = [VERSION, BTF, KALLSYMS, OSRELEASE, CONFIG, CONFIG_GZ];

/// What can go wrong writing or reading a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// `manifest.json` is not a valid manifest.
    #[error("{}: not a bundle manifest: {source}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A manifest of another bundle format.
    #[error("bundle format {0} is not supported (irf-isf reads format {BUNDLE_FORMAT})")]
    Format(u32),
    /// A required file is not in the manifest.
    #[error("the bundle has no {0} file")]
    Missing(&'static str),
    /// The manifest lists a file this crate does not know (and will not open).
    #[error("the manifest lists an unknown file {0:?}")]
    UnknownFile(String),
    /// A file's size differs from the manifest's.
    #[error("bundle file {name}: {actual} bytes, but the manifest says {expected}")]
    Size {
        /// The file.
        name: String,
        /// The manifest's size.
        expected: u64,
        /// The file's size.
        actual: u64,
    },
    /// A file's SHA-256 differs from the manifest's.
    #[error("bundle file {name}: SHA-256 {actual}, but the manifest says {expected}")]
    Hash {
        /// The file.
        name: String,
        /// The manifest's digest.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// kallsyms shows only zero addresses.
    #[error(
        "every address in {} is 0 (kernel.kptr_restrict = {}): collect the bundle as root \
         (CAP_SYSLOG) with kernel.kptr_restrict at 0 or 1; at 2 even root sees zeros \
         (`sysctl -w kernel.kptr_restrict=1` for the capture, then set it back)",
        path.display(),
        kptr_restrict.map_or("unknown".to_owned(), |v| v.to_string())
    )]
    KallsymsHidden {
        /// The kallsyms file read.
        path: PathBuf,
        /// The sysctl's value, when readable.
        kptr_restrict: Option<i64>,
    },
    /// The BTF source does not start with BTF's magic number.
    #[error("{}: not BTF (the kernel needs CONFIG_DEBUG_INFO_BTF=y)", .0.display())]
    NotBtf(PathBuf),
    /// The banner source does not start with `Linux version `.
    #[error("{}: not a Linux banner (expected \"Linux version …\\n\")", .0.display())]
    NotBanner(PathBuf),
    /// The output directory already holds a bundle.
    #[error("{}: already holds a bundle manifest; collect into an empty directory", .0.display())]
    Exists(PathBuf),
}

/// The bundle's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`BUNDLE_FORMAT`].
    pub bundle_format: u32,
    /// When the bundle was collected (RFC 3339, UTC).
    pub captured_at: String,
    /// Every file but the manifest, by name.
    pub files: BTreeMap<String, FileEntry>,
    /// `kernel.kptr_restrict` at collection (`None`: unreadable).
    pub kptr_restrict: Option<i64>,
    /// The host's `uname`.
    pub uname: Uname,
}

/// A file's digest and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The `uname` fields of the host (from `/proc/sys/kernel`; the machine is the collector's own
/// architecture, which can only run on a host of that architecture).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Uname {
    /// `uname -m`: `x86_64`, `aarch64`.
    pub machine: String,
    /// `uname -n`.
    pub nodename: String,
    /// `uname -r`.
    pub release: String,
    /// `uname -s`.
    pub sysname: String,
    /// `uname -v`.
    pub version: String,
}

/// A loaded and verified bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The manifest.
    pub manifest: Manifest,
    files: BTreeMap<String, Vec<u8>>,
}

impl Bundle {
    /// Reads the bundle in `dir`, checking every file the manifest lists against its size and
    /// SHA-256 (failing with the file's name) and that the required files are there.
    pub fn load(dir: &Path) -> Result<Bundle, BundleError> {
        let path = dir.join(MANIFEST);
        let text = fs::read(&path).map_err(|source| BundleError::Io {
            path: path.clone(),
            source,
        })?;
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|source| BundleError::Manifest { path, source })?;
        if manifest.bundle_format != BUNDLE_FORMAT {
            return Err(BundleError::Format(manifest.bundle_format));
        }
        let mut files = BTreeMap::new();
        for name in manifest.files.keys() {
            if !KNOWN.contains(&name.as_str()) {
                return Err(BundleError::UnknownFile(name.clone()));
            }
            let path = dir.join(name);
            let data = fs::read(&path).map_err(|source| BundleError::Io { path, source })?;
            files.insert(name.clone(), data);
        }
        Bundle::from_parts(manifest, files)
    }

    /// A bundle from its manifest and file contents (checked as [`Bundle::load`] checks them).
    pub fn from_parts(
        manifest: Manifest,
        files: BTreeMap<String, Vec<u8>>,
    ) -> Result<Bundle, BundleError> {
        if manifest.bundle_format != BUNDLE_FORMAT {
            return Err(BundleError::Format(manifest.bundle_format));
        }
        for name in REQUIRED {
            if !manifest.files.contains_key(name) {
                return Err(BundleError::Missing(name));
            }
        }
        for (name, entry) in &manifest.files {
            if !KNOWN.contains(&name.as_str()) {
                return Err(BundleError::UnknownFile(name.clone()));
            }
            let data = files.get(name).map(Vec::as_slice).unwrap_or_default();
            if data.len() as u64 != entry.size {
                return Err(BundleError::Size {
                    name: name.clone(),
                    expected: entry.size,
                    actual: data.len() as u64,
                });
            }
            let actual = sha256_hex(data);
            if !actual.eq_ignore_ascii_case(&entry.sha256) {
                return Err(BundleError::Hash {
                    name: name.clone(),
                    expected: entry.sha256.clone(),
                    actual,
                });
            }
        }
        let files = files
            .into_iter()
            .filter(|(name, _)| manifest.files.contains_key(name))
            .collect();
        Ok(Bundle { manifest, files })
    }

    /// A bundle made in memory from file contents, with a manifest computed for them (for tests,
    /// and for building an ISF straight from a live host's files).
    pub fn from_files(
        files: BTreeMap<String, Vec<u8>>,
        captured_at: &str,
        kptr_restrict: Option<i64>,
        uname: Uname,
    ) -> Result<Bundle, BundleError> {
        let manifest = Manifest {
            bundle_format: BUNDLE_FORMAT,
            captured_at: captured_at.to_owned(),
            files: files
                .iter()
                .map(|(name, data)| (name.clone(), entry(data)))
                .collect(),
            kptr_restrict,
            uname,
        };
        Bundle::from_parts(manifest, files)
    }

    /// A file's content, if the bundle has it.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    /// A required file's content.
    fn required(&self, name: &str) -> &[u8] {
        self.file(name).expect("required files are checked at load")
    }

    /// The banner exactly as `/proc/version` gave it.
    pub fn version(&self) -> &[u8] {
        self.required(VERSION)
    }

    /// The raw BTF.
    pub fn btf(&self) -> &[u8] {
        self.required(BTF)
    }

    /// The kallsyms text.
    pub fn kallsyms(&self) -> &[u8] {
        self.required(KALLSYMS)
    }

    /// The kernel release (`uname -r`), without the trailing newline.
    pub fn osrelease(&self) -> String {
        String::from_utf8_lossy(self.required(OSRELEASE))
            .trim_end()
            .to_owned()
    }
}

/// Where [`collect`] reads from. [`Sources::live`] is the running kernel; tests point the paths
/// at files of their own.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The banner: `/proc/version`.
    pub version: PathBuf,
    /// The BTF: `/sys/kernel/btf/vmlinux`.
    pub btf: PathBuf,
    /// `/proc/kallsyms`.
    pub kallsyms: PathBuf,
    /// `/proc/sys/kernel/osrelease`.
    pub osrelease: PathBuf,
    /// Kernel config candidates, first existing wins; a name ending in `.gz` is stored as
    /// `config.gz`, any other as `config`.
    pub configs: Vec<PathBuf>,
    /// `/proc/sys/kernel/kptr_restrict`.
    pub kptr_restrict: PathBuf,
    /// `/proc/sys/kernel/ostype` (`uname -s`).
    pub ostype: PathBuf,
    /// `/proc/sys/kernel/hostname` (`uname -n`).
    pub hostname: PathBuf,
    /// `/proc/sys/kernel/version` (`uname -v`).
    pub kernel_version: PathBuf,
    /// `uname -m`.
    pub machine: String,
    /// The capture time to record; `None`: now.
    pub captured_at: Option<String>,
}

impl Sources {
    /// The running kernel's files.
    pub fn live() -> Sources {
        Sources::under(Path::new("/"))
    }

    /// The same files under `root` instead of `/` (`root/proc/version`, `root/sys/kernel/btf/
    /// vmlinux`, ...): a kernel's files copied or mounted elsewhere.
    pub fn under(root: &Path) -> Sources {
        let at = |path: &str| root.join(path);
        let release = fs::read_to_string(at("proc/sys/kernel/osrelease")).unwrap_or_default();
        let mut configs = Vec::new();
        if !release.trim().is_empty() {
            configs.push(at(&format!("boot/config-{}", release.trim())));
        }
        configs.push(at("proc/config.gz"));
        Sources {
            version: at("proc/version"),
            btf: at("sys/kernel/btf/vmlinux"),
            kallsyms: at("proc/kallsyms"),
            osrelease: at("proc/sys/kernel/osrelease"),
            configs,
            kptr_restrict: at("proc/sys/kernel/kptr_restrict"),
            ostype: at("proc/sys/kernel/ostype"),
            hostname: at("proc/sys/kernel/hostname"),
            kernel_version: at("proc/sys/kernel/version"),
            machine: std::env::consts::ARCH.to_owned(),
            captured_at: None,
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, BundleError> {
    fs::read(path).map_err(|source| BundleError::Io {
        path: path.to_owned(),
        source,
    })
}

fn read_line(path: &Path) -> Result<String, BundleError> {
    Ok(String::from_utf8_lossy(&read(path)?).trim_end().to_owned())
}

/// Whether any kallsyms line has a non-zero address.
fn kallsyms_has_addresses(text: &[u8]) -> bool {
    text.split(|&b| b == b'\n').any(|line| {
        let addr = line.split(|&b| b == b' ').next().unwrap_or_default();
        addr.iter().any(|&b| b != b'0')
    })
}

/// Collects a bundle from `sources` into `out_dir` (created if missing; it must hold no bundle
/// yet). Everything is read and checked before anything is written (see [`collect_files`]).
/// Returns the manifest written.
pub fn collect(out_dir: &Path, sources: &Sources) -> Result<Manifest, BundleError> {
    let manifest_path = out_dir.join(MANIFEST);
    if manifest_path.exists() {
        return Err(BundleError::Exists(out_dir.to_owned()));
    }
    let (manifest, files) = collect_files(sources)?;
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| BundleError::Io { path, source }
    };
    fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    for (name, data) in &files {
        let path = out_dir.join(name);
        fs::write(&path, data).map_err(io_err(&path))?;
    }
    fs::write(&manifest_path, manifest_json(&manifest)).map_err(io_err(&manifest_path))?;
    Ok(manifest)
}

/// The manifest as the bundle stores it (pretty JSON and a newline).
pub fn manifest_json(manifest: &Manifest) -> Vec<u8> {
    let mut json = serde_json::to_vec_pretty(manifest).expect("a manifest serializes");
    json.push(b'\n');
    json
}

/// Reads a bundle from `sources` into memory: its manifest and its files by name (the manifest
/// not among them). kallsyms with only zero addresses (kptr_restrict) fails with how to fix it,
/// and so do a BTF without BTF's magic and a banner that is not one.
pub fn collect_files(
    sources: &Sources,
) -> Result<(Manifest, BTreeMap<&'static str, Vec<u8>>), BundleError> {
    let version = read(&sources.version)?;
    if !version.starts_with(b"Linux version ") {
        return Err(BundleError::NotBanner(sources.version.clone()));
    }
    let kptr_restrict = read_line(&sources.kptr_restrict)
        .ok()
        .and_then(|v| v.parse().ok());
    let kallsyms = read(&sources.kallsyms)?;
    if !kallsyms_has_addresses(&kallsyms) {
        return Err(BundleError::KallsymsHidden {
            path: sources.kallsyms.clone(),
            kptr_restrict,
        });
    }
    let btf = read(&sources.btf)?;
    if !(btf.starts_with(&[0x9f, 0xeb]) || btf.starts_with(&[0xeb, 0x9f])) {
        return Err(BundleError::NotBtf(sources.btf.clone()));
    }
    let osrelease = read(&sources.osrelease)?;
    let mut files: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    for path in &sources.configs {
        match fs::read(path) {
            Ok(data) => {
                let name = if path.extension().is_some_and(|e| e == "gz") {
                    CONFIG_GZ
                } else {
                    CONFIG
                };
                files.insert(name, data);
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(BundleError::Io {
                    path: path.clone(),
                    source,
                });
            }
        }
    }
    let uname = Uname {
        machine: sources.machine.clone(),
        nodename: read_line(&sources.hostname).unwrap_or_default(),
        release: String::from_utf8_lossy(&osrelease).trim_end().to_owned(),
        sysname: read_line(&sources.ostype).unwrap_or_default(),
        version: read_line(&sources.kernel_version).unwrap_or_default(),
    };
    files.insert(VERSION, version);
    files.insert(KALLSYMS, kallsyms);
    files.insert(BTF, btf);
    files.insert(OSRELEASE, osrelease);

    let entries = files
        .iter()
        .map(|(name, data)| ((*name).to_owned(), entry(data)))
        .collect();
    let manifest = Manifest {
        bundle_format: BUNDLE_FORMAT,
        captured_at: sources
            .captured_at
            .clone()
            .unwrap_or_else(|| rfc3339(SystemTime::now())),
        files: entries,
        kptr_restrict,
        uname,
    };
    Ok((manifest, files))
}

/// What the streamer reports about the symbol bundle it uploaded beside a memory image (the
/// `symbols` of its receipts). The bundle never decides whether memory is captured: a host whose
/// kernel hides its symbols still gets its memory taken, and the receipt says why no bundle came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SymbolsReceipt {
    /// The manifest and every file it lists were uploaded.
    Uploaded {
        /// SHA-256 of `manifest.json` as uploaded, computed on the host.
        manifest_sha256: String,
        /// Size of `manifest.json` in bytes.
        manifest_size: u64,
        /// The files the manifest lists (its own digests of them).
        files: BTreeMap<String, FileEntry>,
        /// The kernel release (`uname -r`).
        release: String,
    },
    /// No usable bundle: why (collection refused, or an upload failed).
    Failed {
        /// `collect` or `upload`.
        stage: String,
        /// The error.
        error: String,
    },
}

fn entry(data: &[u8]) -> FileEntry {
    FileEntry {
        sha256: sha256_hex(data),
        size: data.len() as u64,
    }
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `t` as RFC 3339 UTC with whole seconds (`2026-05-01T12:00:00Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const BTF_HEAD: &[u8] = &[0x9f, 0xeb, 1, 0, 24, 0, 0, 0];

    /// A fake kernel's files in `dir`.
    fn fake_sources(dir: &Path, kallsyms: &str) -> Sources {
        let write = |name: &str, data: &[u8]| {
            let p = dir.join(name);
            fs::write(&p, data).unwrap();
            p
        };
        Sources {
            version: write("version", b"Linux version 6.1.0-test (b@h) (gcc) #1 SMP\n"),
            btf: write("btf", BTF_HEAD),
            kallsyms: write("kallsyms", kallsyms.as_bytes()),
            osrelease: write("osrelease", b"6.1.0-test\n"),
            configs: vec![
                dir.join("missing-config"),
                write("config-6.1.0-test", b"CONFIG_X=y\n"),
            ],
            kptr_restrict: write("kptr_restrict", b"1\n"),
            ostype: write("ostype", b"Linux\n"),
            hostname: write("hostname", b"suspect\n"),
            kernel_version: write("kversion", b"#1 SMP\n"),
            machine: "x86_64".into(),
            captured_at: Some("2026-05-01T12:00:00Z".into()),
        }
    }

    #[test]
    fn collects_and_loads_a_bundle() {
        let src = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().join("bundle");
        let sources = fake_sources(src.path(), "ffffffff81000000 T _text\n");
        let manifest = collect(&out_dir, &sources).unwrap();
        assert_eq!(
            manifest.files.keys().collect::<Vec<_>>(),
            ["btf", "config", "kallsyms", "osrelease", "version"]
        );
        assert_eq!(manifest.kptr_restrict, Some(1));
        assert_eq!(manifest.uname.release, "6.1.0-test");
        assert_eq!(manifest.uname.nodename, "suspect");
        let bundle = Bundle::load(&out_dir).unwrap();
        assert_eq!(bundle.manifest, manifest);
        assert_eq!(
            bundle.version(),
            b"Linux version 6.1.0-test (b@h) (gcc) #1 SMP\n"
        );
        assert_eq!(bundle.osrelease(), "6.1.0-test");
        assert_eq!(bundle.file(CONFIG), Some(&b"CONFIG_X=y\n"[..]));
        // A second collection into the same directory is refused.
        assert!(matches!(
            collect(&out_dir, &sources),
            Err(BundleError::Exists(_))
        ));
    }

    #[test]
    fn a_gzipped_config_keeps_its_compression() {
        let src = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut sources = fake_sources(src.path(), "ffffffff81000000 T _text\n");
        let gz = src.path().join("config.gz");
        fs::write(&gz, b"\x1f\x8b...").unwrap();
        sources.configs = vec![gz];
        let manifest = collect(out.path(), &sources).unwrap();
        assert!(manifest.files.contains_key(CONFIG_GZ));
        sources.configs.clear();
        let out2 = tempfile::tempdir().unwrap();
        let manifest = collect(out2.path(), &sources).unwrap();
        assert!(!manifest.files.contains_key(CONFIG) && !manifest.files.contains_key(CONFIG_GZ));
    }

    #[test]
    fn load_names_the_file_that_does_not_match() {
        let src = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        collect(
            out.path(),
            &fake_sources(src.path(), "ffffffff81000000 T _text\n"),
        )
        .unwrap();
        fs::write(out.path().join("kallsyms"), b"ffffffff81000000 T _TEXT\n").unwrap();
        let err = Bundle::load(out.path()).unwrap_err();
        assert!(
            matches!(&err, BundleError::Hash { name, .. } if name == "kallsyms"),
            "{err}"
        );
        assert!(err.to_string().contains("kallsyms"));
        fs::write(out.path().join("btf"), b"short").unwrap();
        let err = Bundle::load(out.path()).unwrap_err();
        assert!(
            matches!(&err, BundleError::Size { name, .. } if name == "btf"),
            "{err}"
        );
        fs::remove_file(out.path().join("btf")).unwrap();
        let err = Bundle::load(out.path()).unwrap_err();
        assert!(
            matches!(&err, BundleError::Io { path, .. } if path.ends_with("btf")),
            "{err}"
        );
    }

    #[test]
    fn load_refuses_unknown_and_missing_files() {
        let out = tempfile::tempdir().unwrap();
        let mut files = BTreeMap::new();
        for name in REQUIRED {
            files.insert(name.to_owned(), b"x".to_vec());
        }
        let bundle = Bundle::from_files(files.clone(), "t", None, Uname::default()).unwrap();
        let mut manifest = bundle.manifest.clone();
        manifest.files.insert("../../etc/passwd".into(), entry(b""));
        fs::write(
            out.path().join(MANIFEST),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
        assert!(
            matches!(Bundle::load(out.path()), Err(BundleError::UnknownFile(n)) if n == "../../etc/passwd")
        );
        files.remove(BTF);
        assert!(matches!(
            Bundle::from_files(files, "t", None, Uname::default()),
            Err(BundleError::Missing("btf"))
        ));
        let mut manifest = bundle.manifest.clone();
        manifest.bundle_format = 2;
        fs::write(
            out.path().join(MANIFEST),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            Bundle::load(out.path()),
            Err(BundleError::Format(2))
        ));
        fs::write(out.path().join(MANIFEST), b"{").unwrap();
        assert!(matches!(
            Bundle::load(out.path()),
            Err(BundleError::Manifest { .. })
        ));
    }

    #[test]
    fn collect_refuses_hidden_kallsyms_before_writing() {
        let src = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().join("b");
        let sources = fake_sources(
            src.path(),
            "0000000000000000 T _text\n0000000000000000 D init_task\n",
        );
        let err = collect(&out_dir, &sources).unwrap_err();
        assert!(matches!(
            err,
            BundleError::KallsymsHidden {
                kptr_restrict: Some(1),
                ..
            }
        ));
        let msg = err.to_string();
        assert!(
            msg.contains("kptr_restrict = 1") && msg.contains("root"),
            "{msg}"
        );
        assert!(!out_dir.exists());
    }

    #[test]
    fn collect_refuses_what_is_not_btf_or_a_banner() {
        let src = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut sources = fake_sources(src.path(), "ffffffff81000000 T _text\n");
        fs::write(&sources.btf, b"\x7fELF").unwrap();
        assert!(matches!(
            collect(out.path(), &sources),
            Err(BundleError::NotBtf(_))
        ));
        sources.version = sources.osrelease.clone();
        assert!(matches!(
            collect(out.path(), &sources),
            Err(BundleError::NotBanner(_))
        ));
    }

    #[test]
    fn formats_utc_times() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096); // a leap day
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56Z");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_799);
        assert_eq!(rfc3339(t), "2099-12-31T23:59:59Z");
    }
}
