//! The `irf-runtime` Lambda asset: built for `provided.al2023` (static musl `bootstrap`, x86_64
//! or arm64), zipped deterministically, content-hashed, and uploaded to a private, encrypted,
//! versioned bucket per account and region.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, ChecksumAlgorithm, CreateBucketConfiguration,
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, VersioningConfiguration,
};
use irf_sdk_error::AwsErrorInfo;
use sha2::{Digest, Sha256};

use super::DeployError;

/// The runtime asset for one architecture, zipped and content-hashed.
#[derive(Clone, Debug)]
pub struct Asset {
    /// CPU architecture (`arm64` or `x86_64`).
    pub architecture: String,
    /// The deterministic zip holding `bootstrap`.
    pub zip: Vec<u8>,
    /// SHA-256 of the zip (hex).
    pub sha256: String,
}

impl Asset {
    /// Object key under `assets/`, named by the zip's hash (so an upload happens once).
    pub fn key(&self) -> String {
        format!(
            "assets/irf-runtime-{}-{}.zip",
            self.architecture, self.sha256
        )
    }
}

/// Where the asset comes from.
#[derive(Clone, Debug)]
pub enum AssetSource {
    /// Build from the workspace with cargo-zigbuild.
    Build {
        /// The workspace to build in (the directory of its `Cargo.toml`).
        workspace: PathBuf,
    },
    /// Prebuilt zips named `irf-runtime-<arch>.zip` (written by `irf-synth package`).
    Dir(PathBuf),
}

/// The Rust target triple of an architecture.
pub fn target_triple(architecture: &str) -> Result<&'static str, DeployError> {
    match architecture {
        "arm64" => Ok("aarch64-unknown-linux-musl"),
        "x86_64" => Ok("x86_64-unknown-linux-musl"),
        other => Err(DeployError::Asset(format!(
            "unknown architecture {other:?}"
        ))),
    }
}

/// Zips a `bootstrap` binary deterministically (fixed time and mode), so the same binary always
/// yields the same key and re-deploys are no-ops.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>, DeployError> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o755)
            .last_modified_time(zip::DateTime::default());
        zip.start_file("bootstrap", options)
            .map_err(|e| DeployError::Asset(format!("zip: {e}")))?;
        zip.write_all(binary)
            .map_err(|e| DeployError::Asset(format!("zip: {e}")))?;
        zip.finish()
            .map_err(|e| DeployError::Asset(format!("zip: {e}")))?;
    }
    Ok(buf.into_inner())
}

/// Packages the asset for `architecture`.
pub fn package(source: &AssetSource, architecture: &str) -> Result<Asset, DeployError> {
    let zip = match source {
        AssetSource::Dir(dir) => {
            let path = dir.join(format!("irf-runtime-{architecture}.zip"));
            std::fs::read(&path).map_err(|e| {
                DeployError::Asset(format!(
                    "cannot read {}: {e}; build it with `irf-synth package --out {}`",
                    path.display(),
                    dir.display()
                ))
            })?
        }
        AssetSource::Build { workspace } => {
            let binary = build_bootstrap(workspace, architecture)?;
            let bytes = std::fs::read(&binary).map_err(|e| {
                DeployError::Asset(format!("cannot read {}: {e}", binary.display()))
            })?;
            zip_bootstrap(&bytes)?
        }
    };
    let sha256 = hex::encode(Sha256::digest(&zip));
    Ok(Asset {
        architecture: architecture.to_owned(),
        zip,
        sha256,
    })
}

/// Cross-builds `irf-runtime`'s `bootstrap` with cargo-zigbuild from the tools virtualenv.
pub fn build_bootstrap(workspace: &Path, architecture: &str) -> Result<PathBuf, DeployError> {
    zigbuild(workspace, architecture, "irf-runtime", "bootstrap")
}

/// The memory streamer's name for an architecture (`uname -m` on the instance).
pub fn streamer_arch(architecture: &str) -> Result<&'static str, DeployError> {
    match architecture {
        "arm64" => Ok("aarch64"),
        "x86_64" => Ok("x86_64"),
        other => Err(DeployError::Asset(format!(
            "unknown architecture {other:?}"
        ))),
    }
}

/// The static binaries staged in the modules bucket for instances, one per architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaticTool {
    /// `irf-memdump`: the memory streamer the capture runs on suspect hosts.
    Streamer,
    /// `irf-isf`: the ISF builder the module factory's builders run.
    IsfBuilder,
}

impl StaticTool {
    /// Both tools.
    pub const ALL: [StaticTool; 2] = [StaticTool::Streamer, StaticTool::IsfBuilder];

    /// The workspace package and binary.
    pub fn binary(self) -> &'static str {
        match self {
            StaticTool::Streamer => "irf-memdump",
            StaticTool::IsfBuilder => "irf-isf",
        }
    }

    /// What it is, for messages.
    pub fn what(self) -> &'static str {
        match self {
            StaticTool::Streamer => "memory streamer",
            StaticTool::IsfBuilder => "ISF builder",
        }
    }

    /// Its key in the modules bucket for `architecture` (its `.sha256` sidecar beside it).
    pub fn key(self, architecture: &str) -> Result<String, DeployError> {
        let arch = streamer_arch(architecture)?;
        Ok(match self {
            StaticTool::Streamer => irf_core::contract::module_keys::streamer(arch),
            StaticTool::IsfBuilder => irf_core::contract::module_keys::isf_builder(arch),
        })
    }

    /// File name in a package directory: `<binary>-<uname -m>`.
    pub fn file(self, architecture: &str) -> Result<String, DeployError> {
        Ok(format!(
            "{}-{}",
            self.binary(),
            streamer_arch(architecture)?
        ))
    }
}

/// A static tool for instances of `architecture`: read from a package directory, or
/// cross-built. `None` when a package directory lacks it.
pub fn static_tool(
    source: &AssetSource,
    tool: StaticTool,
    architecture: &str,
) -> Result<Option<Vec<u8>>, DeployError> {
    match source {
        AssetSource::Dir(dir) => {
            let path = dir.join(tool.file(architecture)?);
            match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(DeployError::Asset(format!(
                    "cannot read {}: {e}",
                    path.display()
                ))),
            }
        }
        AssetSource::Build { workspace } => {
            let binary = zigbuild(workspace, architecture, tool.binary(), tool.binary())?;
            std::fs::read(&binary)
                .map(Some)
                .map_err(|e| DeployError::Asset(format!("cannot read {}: {e}", binary.display())))
        }
    }
}

/// The static memory streamer (`irf-memdump`) for instances of `architecture`.
pub fn streamer(source: &AssetSource, architecture: &str) -> Result<Option<Vec<u8>>, DeployError> {
    static_tool(source, StaticTool::Streamer, architecture)
}

/// Cross-builds one binary of the workspace, static (musl), with cargo-zigbuild.
fn zigbuild(
    workspace: &Path,
    architecture: &str,
    package: &str,
    bin: &str,
) -> Result<PathBuf, DeployError> {
    let triple = target_triple(architecture)?;
    let venv_bin = workspace.join(".venv/bin");
    let path = match std::env::var_os("PATH") {
        Some(p) => {
            let mut paths = vec![venv_bin.clone()];
            paths.extend(std::env::split_paths(&p));
            std::env::join_paths(paths).unwrap_or(p)
        }
        None => venv_bin.clone().into_os_string(),
    };
    let status = Command::new("cargo")
        .current_dir(workspace)
        .env("PATH", path)
        .args([
            "zigbuild",
            "--locked",
            "--profile",
            "lambda",
            "--target",
            triple,
            "-p",
            package,
            "--bin",
            bin,
        ])
        .status()
        .map_err(|e| {
            DeployError::Asset(format!(
                "cannot run cargo zigbuild ({e}); run scripts/tools-venv to install it"
            ))
        })?;
    if !status.success() {
        return Err(DeployError::Asset(format!(
            "cargo zigbuild for {triple} failed ({status}); is the target installed (rustup target add {triple})?"
        )));
    }
    Ok(target_dir(workspace).join(format!("{triple}/lambda/{bin}")))
}

/// Cargo's target directory for `workspace`: `CARGO_TARGET_DIR` (relative to the workspace when
/// relative) or `target/`.
fn target_dir(workspace: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace.join(dir),
        _ => workspace.join("target"),
    }
}

/// Creates the asset bucket if missing: encrypted, versioned, private, owner-enforced, TLS only.
/// `plain_http` (an emulator endpoint without TLS) leaves out the TLS-only statement, which no
/// request over such an endpoint could satisfy. `org_readers` lets every account of that
/// organization read the objects (StackSet instances fetch their Lambda code from here).
pub async fn ensure_bucket(
    s3: &Client,
    bucket: &str,
    region: &str,
    plain_http: bool,
    org_readers: Option<&str>,
) -> Result<(), DeployError> {
    if s3.head_bucket().bucket(bucket).send().await.is_ok() {
        return Ok(());
    }
    let mut create = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    if let Err(e) = create.send().await {
        let info = AwsErrorInfo::of(&e);
        if !info.is("BucketAlreadyOwnedByYou") {
            return Err(DeployError::from_aws_info(
                &format!("s3:CreateBucket {bucket}"),
                info,
            ));
        }
    }
    let ctx = |op: &str| format!("{op} {bucket}");
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| DeployError::aws(&ctx("s3:PutPublicAccessBlock"), e))?;
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::Aes256)
                                .build()
                                .map_err(|e| DeployError::Asset(e.to_string()))?,
                        )
                        .build(),
                )
                .build()
                .map_err(|e| DeployError::Asset(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| DeployError::aws(&ctx("s3:PutBucketEncryption"), e))?;
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| DeployError::aws(&ctx("s3:PutBucketVersioning"), e))?;
    s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                        .build()
                        .map_err(|e| DeployError::Asset(e.to_string()))?,
                )
                .build()
                .map_err(|e| DeployError::Asset(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| DeployError::aws(&ctx("s3:PutBucketOwnershipControls"), e))?;
    let mut statements = Vec::new();
    if !plain_http {
        statements.push(serde_json::json!({
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } },
        }));
    }
    if let Some(org) = org_readers {
        statements.push(serde_json::json!({
            "Sid": "OrganizationReadsAssets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/assets/*"),
            "Condition": { "StringEquals": { "aws:PrincipalOrgID": org } },
        }));
    }
    if statements.is_empty() {
        return Ok(());
    }
    let policy = serde_json::json!({ "Version": "2012-10-17", "Statement": statements });
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|e| DeployError::aws(&ctx("s3:PutBucketPolicy"), e))?;
    Ok(())
}

/// Uploads `body` under `key` unless an object is already there (keys are content-hashed).
/// Returns true when it uploaded.
pub async fn upload(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<bool, DeployError> {
    if s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
    {
        return Ok(false);
    }
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| DeployError::aws(&format!("s3:PutObject s3://{bucket}/{key}"), e))?;
    Ok(true)
}

/// Stages a static tool for `architecture` in the modules bucket with its `sha256sum` sidecar
/// (what the capture and the builders check before running it); false when the same binary is
/// there.
pub async fn stage_tool(
    s3: &Client,
    bucket: &str,
    tool: StaticTool,
    architecture: &str,
    binary: Vec<u8>,
) -> Result<bool, DeployError> {
    let key = tool.key(architecture)?;
    let sidecar = format!("{key}.sha256");
    let sha = hex::encode(Sha256::digest(&binary));
    let listed = match s3.get_object().bucket(bucket).key(&sidecar).send().await {
        Ok(o) => o
            .body
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.into_bytes()).into_owned())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if listed.split_whitespace().next() == Some(sha.as_str()) {
        return Ok(false);
    }
    let name = key.rsplit('/').next().unwrap_or(&key).to_owned();
    for (k, body) in [
        (key.clone(), binary),
        (sidecar, format!("{sha}  {name}\n").into_bytes()),
    ] {
        s3.put_object()
            .bucket(bucket)
            .key(&k)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| DeployError::aws(&format!("s3:PutObject s3://{bucket}/{k}"), e))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_deterministic() {
        let a = zip_bootstrap(b"binary").unwrap();
        let b = zip_bootstrap(b"binary").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, zip_bootstrap(b"other").unwrap());
    }
}

/// What the `bootstrap` in a package directory was built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssetBuild {
    /// A static musl `bootstrap` for `provided.al2023`, cross-built with the `lambda` profile:
    /// what AWS Lambda runs.
    Lambda,
    /// The host's own dev build of `bootstrap`: the same handler code, built by the cargo
    /// invocation that built the tests and CLIs, so it costs no second compilation of the AWS
    /// SDK. The local emulator stores Lambda code but never executes it. AWS could not run this
    /// binary, so `deploy` refuses such a directory for any endpoint but the emulator.
    Emulator,
}

/// File in a package directory recording how its `bootstrap` was built ([`AssetManifest`]).
pub const MANIFEST_FILE: &str = "asset-manifest.json";

/// How the assets of a package directory were built, written by `irf-synth package`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AssetManifest {
    /// What the `bootstrap` binaries are for.
    pub build: AssetBuild,
    /// Rust target triple the `bootstrap` binaries were compiled for.
    pub bootstrap_target: String,
    /// Architectures with an `irf-runtime-<arch>.zip` in the directory.
    pub architectures: Vec<String>,
}

impl AssetManifest {
    /// Writes the manifest into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), DeployError> {
        let path = dir.join(MANIFEST_FILE);
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| DeployError::Asset(format!("cannot encode {}: {e}", path.display())))?;
        std::fs::write(&path, json + "\n")
            .map_err(|e| DeployError::Asset(format!("cannot write {}: {e}", path.display())))
    }

    /// Reads the manifest of `dir`; `None` when the directory has none (written before
    /// manifests existed: such directories only ever held Lambda builds).
    pub fn read(dir: &Path) -> Result<Option<Self>, DeployError> {
        let path = dir.join(MANIFEST_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                DeployError::Asset(format!(
                    "{} is not an asset manifest ({e}); re-create the directory with `irf-synth package`",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DeployError::Asset(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Refuses a package directory whose `bootstrap` the target cannot run: an
/// [`AssetBuild::Emulator`] build anywhere but the local emulator.
pub fn ensure_deployable(dir: &Path, to_emulator: bool) -> Result<(), DeployError> {
    match AssetManifest::read(dir)? {
        Some(m) if m.build == AssetBuild::Emulator && !to_emulator => {
            Err(DeployError::Asset(format!(
                "{} holds an emulator build of bootstrap ({}), which AWS Lambda cannot run; build the real asset with `irf-synth package --out {} --build lambda`",
                dir.display(),
                m.bootstrap_target,
                dir.display()
            )))
        }
        _ => Ok(()),
    }
}

/// The host's `bootstrap` beside the running executable (the dev build `irf-synth` came from),
/// zipped like a Lambda build.
pub fn package_host_bootstrap(architecture: &str) -> Result<Asset, DeployError> {
    target_triple(architecture)?;
    let exe = std::env::current_exe()
        .map_err(|e| DeployError::Asset(format!("cannot locate the running executable: {e}")))?;
    let binary = exe.with_file_name("bootstrap");
    let bytes = std::fs::read(&binary).map_err(|e| {
        DeployError::Asset(format!(
            "cannot read {} ({e}); build it beside irf-synth with `cargo build -p irf-runtime --bin bootstrap`",
            binary.display()
        ))
    })?;
    let zip = zip_bootstrap(&bytes)?;
    let sha256 = hex::encode(Sha256::digest(&zip));
    Ok(Asset {
        architecture: architecture.to_owned(),
        zip,
        sha256,
    })
}

/// The host's Rust target triple (what an [`AssetBuild::Emulator`] `bootstrap` is built for).
pub fn host_triple() -> String {
    format!(
        "{}-unknown-{}-{}",
        std::env::consts::ARCH,
        std::env::consts::OS,
        if cfg!(target_env = "musl") {
            "musl"
        } else {
            "gnu"
        }
    )
}

#[cfg(test)]
mod build_kind_tests {
    use super::*;

    #[test]
    fn emulator_builds_are_refused_outside_the_emulator() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            ensure_deployable(dir.path(), false).is_ok(),
            "no manifest: a Lambda build"
        );
        let manifest = AssetManifest {
            build: AssetBuild::Emulator,
            bootstrap_target: host_triple(),
            architectures: vec!["arm64".into()],
        };
        manifest.write(dir.path()).unwrap();
        assert_eq!(AssetManifest::read(dir.path()).unwrap(), Some(manifest));
        assert!(ensure_deployable(dir.path(), true).is_ok());
        let err = ensure_deployable(dir.path(), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--build lambda"), "{err}");
        AssetManifest {
            build: AssetBuild::Lambda,
            bootstrap_target: "aarch64-unknown-linux-musl".into(),
            architectures: vec!["arm64".into()],
        }
        .write(dir.path())
        .unwrap();
        assert!(ensure_deployable(dir.path(), false).is_ok());
    }

    #[test]
    fn a_broken_manifest_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), "{").unwrap();
        let err = ensure_deployable(dir.path(), true).unwrap_err().to_string();
        assert!(err.contains(MANIFEST_FILE), "{err}");
    }
}
