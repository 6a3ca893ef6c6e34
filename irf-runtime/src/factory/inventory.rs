//! The kernels installed on the member accounts' instances, as SSM Inventory records them
//! (`AWS:Application`): an instance updated since its AMI was built may boot a kernel the AMI's
//! manifest does not have, or one that another AMI's build covers.
//!
//! Inventory lists packages, not the running kernel: the newest installed kernel is the one an
//! instance boots after its next restart, and usually the one it runs. Coverage says which it
//! judged by.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_ssm::types::{InventoryFilter, InventoryQueryOperatorType};

use super::coverage::RunningInstance;
use crate::aws::Aws;
use crate::error::{self, HandlerError, Result};

/// The kernel packages SSM Inventory lists for instances.
pub trait KernelInventory: Send + Sync {
    /// The kernel releases (`uname -r` strings) installed on `instance` of `account` and
    /// `region`; empty when Inventory has no packages for it (no agent, no association).
    fn kernels(
        &self,
        account: &str,
        region: &str,
        instance: &str,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
}

/// What Inventory says about the instances surveyed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InventoryKernels {
    /// Installed kernel releases by instance id (instances with none recorded are absent).
    pub by_instance: BTreeMap<String, Vec<String>>,
    /// Account-regions whose Inventory could not be read, with the error: their instances are
    /// judged by their AMI.
    pub unreadable: BTreeMap<String, String>,
}

impl InventoryKernels {
    /// The newest installed kernel of `instance`, when Inventory knows it.
    pub fn newest(&self, instance: &str) -> Option<&str> {
        self.by_instance
            .get(instance)?
            .iter()
            .max_by(|a, b| compare_versions(a, b))
            .map(String::as_str)
    }
}

/// Asks `inventory` about every instance; an account-region whose first call fails is recorded
/// as unreadable (with the error) and not asked again.
pub async fn survey(
    inventory: &impl KernelInventory,
    instances: &[RunningInstance],
) -> InventoryKernels {
    let mut out = InventoryKernels::default();
    for i in instances {
        let place = format!("{}/{}", i.account, i.region);
        if out.unreadable.contains_key(&place) {
            continue;
        }
        match inventory
            .kernels(&i.account, &i.region, &i.instance_id)
            .await
        {
            Ok(kernels) if kernels.is_empty() => {}
            Ok(kernels) => {
                out.by_instance.insert(i.instance_id.clone(), kernels);
            }
            Err(e) => {
                tracing::warn!(%place, error = %e, "SSM Inventory unreadable: instances judged by their AMI");
                out.unreadable.insert(place, e.to_string());
            }
        }
    }
    out
}

/// SSM Inventory of the member accounts, through the IRF role.
#[derive(Debug)]
pub struct SsmInventory<'a> {
    /// The SDK configuration and credentials.
    pub aws: &'a Aws,
    /// The role assumed in each member account.
    pub role: &'a str,
}

impl KernelInventory for SsmInventory<'_> {
    async fn kernels(&self, account: &str, region: &str, instance: &str) -> Result<Vec<String>> {
        let conf = self.aws.account(account, self.role, region).await?;
        let ssm = self.aws.ssm(&conf);
        let filter = InventoryFilter::builder()
            .key("Name")
            .values("kernel")
            .values("linux-image-")
            .r#type(InventoryQueryOperatorType::BeginWith)
            .build()
            .map_err(HandlerError::fatal)?;
        let mut kernels = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = ssm
                .list_inventory_entries()
                .instance_id(instance)
                .type_name("AWS:Application")
                .filters(filter.clone())
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    error::aws(
                        &format!("ssm:ListInventoryEntries {instance} in {account} {region}"),
                        e,
                    )
                })?;
            kernels.extend(out.entries().iter().filter_map(kernel_release));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        kernels.sort_by(|a, b| compare_versions(a, b));
        kernels.dedup();
        Ok(kernels)
    }
}

/// The kernel release an Inventory package entry installs, when it is a kernel image: RPM's
/// `kernel` (and Amazon Linux 2023's `kernel6.12`-style) as `VERSION-RELEASE.ARCH`, and
/// Debian's and Ubuntu's `linux-image-RELEASE` (not the `linux-image-FLAVOUR` meta-packages).
pub fn kernel_release(entry: &std::collections::HashMap<String, String>) -> Option<String> {
    let name = entry.get("Name")?;
    if let Some(release) = name.strip_prefix("linux-image-") {
        let release = release.strip_prefix("unsigned-").unwrap_or(release);
        return release
            .starts_with(|c: char| c.is_ascii_digit())
            .then(|| release.to_owned());
    }
    let suffix = name.strip_prefix("kernel")?;
    if !suffix.is_empty() && !suffix.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None; // kernel-devel, kernel-tools, kernel-headers, ...
    }
    let version = entry.get("Version").filter(|v| !v.is_empty())?;
    let release = entry.get("Release").filter(|v| !v.is_empty())?;
    let arch = entry.get("Architecture").filter(|v| !v.is_empty())?;
    Some(format!("{version}-{release}.{arch}"))
}

/// Orders version strings by their runs of digits as numbers and the rest as text (enough for
/// kernel releases: `6.1.158-180.294.amzn2023.x86_64`, `6.1.0-50-cloud-amd64`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(&rb) {
        let o = match (x, y) {
            ((true, p), (true, q)) => {
                let (p, q) = (p.trim_start_matches('0'), q.trim_start_matches('0'));
                p.len().cmp(&q.len()).then_with(|| p.cmp(q))
            }
            ((_, p), (_, q)) => p.cmp(q),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    ra.len().cmp(&rb.len())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use irf_core::factory::{
        Artifact, BuildOutcome, BuilderInstance, FORMAT, FactoryManifest, IsfArtifact, IsfSource,
        KernelBuild, OsRelease, RequestSource,
    };

    use super::*;
    use crate::factory::StoredManifest;
    use crate::factory::coverage::{Fallback, uncovered};

    /// A stand-in for SSM Inventory: the emulator (moto) implements no Inventory API, so the
    /// survey and the verdicts are tested against this fake; the real client's calls are made
    /// against the emulator in the e2e suite, where they are reported unreadable.
    struct FakeInventory {
        kernels: BTreeMap<String, Vec<String>>,
        failing: Vec<String>,
        calls: Mutex<Vec<String>>,
    }

    impl KernelInventory for FakeInventory {
        async fn kernels(
            &self,
            account: &str,
            region: &str,
            instance: &str,
        ) -> Result<Vec<String>> {
            self.calls.lock().unwrap().push(instance.to_owned());
            if self.failing.contains(&format!("{account}/{region}")) {
                return Err(HandlerError::fatal("AccessDeniedException: not authorized"));
            }
            Ok(self.kernels.get(instance).cloned().unwrap_or_default())
        }
    }

    fn entry(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn kernel_packages_give_kernel_releases_and_other_packages_none() {
        let rpm = |name| {
            entry(&[
                ("Name", name),
                ("Version", "6.1.158"),
                ("Release", "180.294.amzn2023"),
                ("Architecture", "x86_64"),
            ])
        };
        assert_eq!(
            kernel_release(&rpm("kernel")).as_deref(),
            Some("6.1.158-180.294.amzn2023.x86_64")
        );
        assert_eq!(
            kernel_release(&rpm("kernel6.12")).as_deref(),
            Some("6.1.158-180.294.amzn2023.x86_64")
        );
        assert_eq!(kernel_release(&rpm("kernel-devel")), None);
        assert_eq!(kernel_release(&rpm("kernel-headers")), None);
        assert_eq!(
            kernel_release(&entry(&[("Name", "linux-image-6.1.0-50-cloud-amd64")])).as_deref(),
            Some("6.1.0-50-cloud-amd64")
        );
        assert_eq!(
            kernel_release(&entry(&[("Name", "linux-image-unsigned-6.8.0-1021-aws")])).as_deref(),
            Some("6.8.0-1021-aws")
        );
        assert_eq!(
            kernel_release(&entry(&[("Name", "linux-image-cloud-amd64")])),
            None
        );
        assert_eq!(kernel_release(&entry(&[("Name", "linux-image-aws")])), None);
    }

    #[test]
    fn versions_compare_by_their_numbers() {
        assert_eq!(
            compare_versions(
                "6.1.158-180.294.amzn2023.x86_64",
                "6.1.97-104.177.amzn2023.x86_64"
            ),
            Ordering::Greater
        );
        assert_eq!(
            compare_versions("6.1.0-9-cloud-amd64", "6.1.0-50-cloud-amd64"),
            Ordering::Less
        );
        assert_eq!(compare_versions("5.10.1", "5.10.1"), Ordering::Equal);
        assert_eq!(compare_versions("5.10", "5.10.1"), Ordering::Less);
    }

    fn instance(account: &str, region: &str, id: &str, ami: &str) -> RunningInstance {
        RunningInstance {
            account: account.to_owned(),
            region: region.to_owned(),
            instance_id: id.to_owned(),
            ami_id: ami.to_owned(),
        }
    }

    fn built(release: &str, boot: bool, isf: bool) -> KernelBuild {
        KernelBuild {
            release: release.to_owned(),
            boot,
            module: Some(Artifact {
                key: format!("amzn/2023/{release}/lime-{release}.ko"),
                sha256: "a".repeat(64),
            }),
            isf: if isf {
                vec![IsfArtifact {
                    artifact: Artifact {
                        key: format!("amzn/2023/{release}/{release}.isf.json.xz"),
                        sha256: "b".repeat(64),
                    },
                    source: IsfSource::Btf,
                }]
            } else {
                Vec::new()
            },
            kcore: Some(true),
            error: None,
        }
    }

    fn manifest(ami: &str, kernels: Vec<KernelBuild>) -> StoredManifest {
        StoredManifest {
            manifest: FactoryManifest {
                version: FORMAT,
                ami_id: ami.to_owned(),
                builder: BuilderInstance {
                    instance_id: "i-builder".to_owned(),
                    instance_type: "t3.large".to_owned(),
                    architecture: "x86_64".to_owned(),
                },
                os: OsRelease::default(),
                lime_commit: None,
                started_at: "2026-12-04T00:00:00Z".to_owned(),
                ended_at: "2026-12-04T00:10:00Z".to_owned(),
                outcome: BuildOutcome::Built,
                reason: None,
                log_key: None,
                kernels,
            },
            stored_at: 0,
        }
    }

    #[tokio::test]
    async fn inventory_kernels_decide_coverage_where_known_and_failures_are_reported() {
        const OLD: &str = "6.1.100-1.amzn2023.x86_64";
        const NEW: &str = "6.1.158-180.294.amzn2023.x86_64";
        const HALF: &str = "6.1.160-1.amzn2023.x86_64";
        let built_ami = "ami-0000000000000aaaa";
        let other_ami = "ami-0000000000000bbbb";
        let instances = vec![
            // The AMI's boot kernel is covered, but the instance was updated to one that is not.
            instance("111111111111", "us-east-1", "i-updated", built_ami),
            // Not updated: Inventory lists the boot kernel only.
            instance("111111111111", "us-east-1", "i-current", built_ami),
            // An AMI nobody listed whose kernel another AMI's build covers.
            instance("111111111111", "us-east-1", "i-sibling", other_ami),
            // A kernel with a module but no ISF.
            instance("111111111111", "us-east-1", "i-half", other_ami),
            // Inventory unreadable there: judged by the AMI (unlisted: uncovered).
            instance("222222222222", "eu-west-1", "i-dark-1", other_ami),
            instance("222222222222", "eu-west-1", "i-dark-2", other_ami),
        ];
        let fake = FakeInventory {
            kernels: BTreeMap::from([
                (
                    "i-updated".to_owned(),
                    vec![OLD.to_owned(), "6.1.170-1.amzn2023.x86_64".to_owned()],
                ),
                ("i-current".to_owned(), vec![OLD.to_owned()]),
                ("i-sibling".to_owned(), vec![NEW.to_owned()]),
                ("i-half".to_owned(), vec![HALF.to_owned()]),
            ]),
            failing: vec!["222222222222/eu-west-1".to_owned()],
            calls: Mutex::new(Vec::new()),
        };
        let kernels = survey(&fake, &instances).await;
        assert_eq!(
            *fake.calls.lock().unwrap(),
            ["i-updated", "i-current", "i-sibling", "i-half", "i-dark-1"],
            "an unreadable account-region is asked once"
        );
        assert!(kernels.unreadable["222222222222/eu-west-1"].contains("AccessDenied"));
        assert_eq!(
            kernels.newest("i-updated"),
            Some("6.1.170-1.amzn2023.x86_64")
        );

        let manifests = vec![
            manifest(built_ami, vec![built(OLD, true, true)]),
            manifest(
                "ami-0000000000000cccc",
                vec![built(NEW, true, true), built(HALF, false, false)],
            ),
        ];
        let list = vec![(built_ami.to_owned(), RequestSource::Cli)];
        let out = uncovered(&list, &manifests, &instances, "us-east-1", &kernels);
        let verdicts: Vec<(&str, Option<&str>, Fallback, Vec<&str>)> = out
            .iter()
            .map(|u| {
                (
                    u.ami_id.as_str(),
                    u.kernel.as_deref(),
                    u.fallback,
                    u.instances.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            verdicts,
            [
                (
                    built_ami,
                    Some("6.1.170-1.amzn2023.x86_64"),
                    Fallback::Kcore,
                    vec!["i-updated"]
                ),
                (
                    other_ami,
                    None,
                    Fallback::Kcore,
                    vec!["i-dark-1", "i-dark-2"]
                ),
                (
                    other_ami,
                    Some(HALF),
                    Fallback::IsfFromBundle,
                    vec!["i-half"]
                ),
            ]
        );
        assert!(
            out[0].reason.contains("from SSM Inventory")
                && out[0].reason.contains("modules build --ami")
        );
        assert!(
            out[1].reason.contains("--region eu-west-1"),
            "an AMI of another region is built with --region: {}",
            out[1].reason
        );
    }
}
