//! Validation of the raw config into the resolved [`Framework`].
//!
//! Every check reports the key path, what is wrong and how to fix it, and validation goes on
//! after a failure so that one run lists every problem in the file.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;

use super::diagnostic::{Diagnostic, join_key};
use super::raw::{RawMember, RawOrgConfig};
use super::suggest::closest;
use crate::contract;
use crate::model::{
    AccountId, AcquisitionPolicy, AmiId, Architecture, BuilderTypes, ContainmentPolicy, DiskMethod,
    EvidencePolicy, Framework, LambdaSettings, LockMode, Member, MemberTarget, MemoryMethod,
    ModuleFactory, Names, NetworkPlan, Notifications, OrgId, Organization, OuId, SiftImage,
    SlackTarget, VpcPlan, capacity, carve, check_bucket_name,
};
use crate::region::{Partition, Region};

/// CloudWatch Logs retention values the API accepts.
const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Longest S3 Object Lock retention (100 years).
const MAX_RETENTION_DAYS: i64 = 36_500;

/// Collects diagnostics while building the model.
#[derive(Default)]
struct Checker {
    diags: Vec<Diagnostic>,
}

impl Checker {
    fn error(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diags.push(Diagnostic::new(path, message, help));
    }

    /// Runs a parser; on failure records its message with `help` and returns `None`.
    fn parse<T>(&mut self, path: &str, r: Result<T, String>, help: &str) -> Option<T> {
        r.map_err(|m| self.error(path, m, help)).ok()
    }
}

/// Validates `raw` into a [`Framework`], or returns every diagnostic found.
pub(crate) fn validate(raw: RawOrgConfig) -> Result<Framework, Vec<Diagnostic>> {
    let mut c = Checker::default();

    let org = check_organization(&mut c, &raw);
    let security = c.parse(
        "security.account_id",
        AccountId::parse(&raw.security.account_id),
        "use the 12-digit id of the security account, quoted, e.g. account_id = \"111111111111\"",
    );
    let forensics = c.parse(
        "forensics.account_id",
        AccountId::parse(&raw.forensics.account_id),
        "use the 12-digit id of the forensics account, quoted, e.g. account_id = \"222222222222\"",
    );
    if let (Some(s), Some(f)) = (&security, &forensics)
        && s == f
    {
        c.error(
            "forensics.account_id",
            format!("account {f} is already the security account"),
            "the forensics account holds the evidence and must be a separate account from security",
        );
    }
    let partition = org.as_ref().map_or(Partition::Aws, |o| o.partition);
    let members = check_members(&mut c, &raw.members, partition, &security, &forensics);
    let network = check_network(&mut c, &raw, org.as_ref().map(|o| o.home_region));
    let evidence = check_evidence(&mut c, &raw);
    let acquisition = check_acquisition(&mut c, &raw);
    let notifications = check_notifications(&mut c, &raw, partition);
    let module_factory = check_module_factory(&mut c, &raw);
    let sift = check_sift(&mut c, &raw);
    let lambda = check_lambda(&mut c, &raw);
    check_tags(&mut c, &raw.tags);

    let (Some(org), Some(security), Some(forensics)) = (org, security, forensics) else {
        return Err(c.diags);
    };
    let names = Names::new(&org.prefix, &security, &forensics);
    check_bucket_names(&mut c, &org, &names, &security, &forensics, &members);
    let Some(network) = network else {
        return Err(c.diags);
    };
    let mut framework = Framework {
        org,
        security,
        forensics,
        members,
        network,
        evidence: evidence.unwrap_or(EvidencePolicy {
            retention_days: 1,
            lock_mode: LockMode::Governance,
            glacier_after_days: 0,
            expire_after_days: 1,
        }),
        acquisition,
        containment: ContainmentPolicy {
            disassociate_elastic_ips: raw.containment.disassociate_elastic_ips,
            revoke_role_sessions: raw.containment.revoke_role_sessions,
        },
        notifications,
        module_factory,
        sift,
        lambda,
        tags: raw.tags,
        names,
    };
    if c.diags.is_empty() {
        framework.members.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(framework)
    } else {
        Err(c.diags)
    }
}

fn check_region(c: &mut Checker, path: &str, name: &str, partition: Partition) -> Option<Region> {
    let Some(region) = Region::lookup(name) else {
        let known: Vec<&str> = partition.regions().map(|r| r.name).collect();
        let help = match closest(name, known.iter().copied()) {
            Some(s) => format!("did you mean {s:?}?"),
            None => format!(
                "use a region of partition {partition}: {}",
                known.join(", ")
            ),
        };
        c.error(path, format!("unknown region {name:?}"), help);
        return None;
    };
    if region.partition() != partition {
        c.error(
            path,
            format!(
                "region {name} is in partition {}, but organization.partition is {partition}",
                region.partition()
            ),
            format!(
                "every account and region must be in one partition; use a region of {partition} or change organization.partition"
            ),
        );
        return None;
    }
    Some(region)
}

fn check_organization(c: &mut Checker, raw: &RawOrgConfig) -> Option<Organization> {
    let o = &raw.organization;
    let id = c.parse(
        "organization.id",
        OrgId::parse(&o.id),
        "copy the id from AWS Organizations > Settings, e.g. id = \"o-a1b2c3d4e5\"",
    );
    let partition = match Partition::parse(&o.partition) {
        Some(p) => Some(p),
        None => {
            let names = Partition::ALL.map(Partition::as_str);
            let help = closest(&o.partition, names)
                .map_or_else(String::new, |s| format!("did you mean {s:?}? "));
            c.error(
                "organization.partition",
                format!("unknown partition {:?}", o.partition),
                format!("{help}use one of: {}", names.join(", ")),
            );
            None
        }
    };
    let home_region =
        partition.and_then(|p| check_region(c, "organization.home_region", &o.home_region, p));
    let prefix_ok = !o.prefix.is_empty()
        && o.prefix.starts_with(|ch: char| ch.is_ascii_lowercase())
        && !o.prefix.ends_with('-')
        && !o.prefix.contains("--")
        && o.prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !prefix_ok {
        c.error(
            "organization.prefix",
            format!(
                "prefix {:?} cannot start bucket, stack and function names",
                o.prefix
            ),
            "use lowercase letters, digits or single hyphens, starting with a letter, e.g. prefix = \"irf\"",
        );
    }
    Some(Organization {
        id: id?,
        partition: partition?,
        home_region: home_region?,
        prefix: prefix_ok.then(|| o.prefix.clone())?,
    })
}

fn check_members(
    c: &mut Checker,
    raw: &[RawMember],
    partition: Partition,
    security: &Option<AccountId>,
    forensics: &Option<AccountId>,
) -> Vec<Member> {
    if raw.is_empty() {
        c.error(
            "members",
            "no [[members]] entry: the framework would protect no account",
            "add at least one [[members]] table with name, account_id (or ou) and regions",
        );
    }
    let mut by_account: BTreeMap<AccountId, usize> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    let mut members = Vec::new();
    for (i, m) in raw.iter().enumerate() {
        let at = |k: &str| format!("members[{i}].{k}");
        let name_ok = (1..=24).contains(&m.name.len())
            && m.name.starts_with(|ch: char| ch.is_ascii_lowercase())
            && m.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            c.error(
                at("name"),
                format!("member name {:?} cannot be used in stack names", m.name),
                "use 1 to 24 lowercase letters, digits or hyphens, starting with a letter, e.g. name = \"payments\"",
            );
        } else if let Some(prev) = by_name.insert(&m.name, i) {
            c.error(
                at("name"),
                format!(
                    "member name {:?} is already used by members[{prev}]",
                    m.name
                ),
                "give every [[members]] entry a distinct name",
            );
        }
        let target = match (&m.account_id, &m.ou) {
            (Some(a), None) => c
                .parse(
                    &at("account_id"),
                    AccountId::parse(a),
                    "use the member's 12-digit account id, quoted, e.g. account_id = \"333333333333\"",
                )
                .and_then(|a| {
                    let role = if Some(&a) == security.as_ref() {
                        Some("security")
                    } else if Some(&a) == forensics.as_ref() {
                        Some("forensics")
                    } else {
                        None
                    };
                    if let Some(role) = role {
                        c.error(
                            at("account_id"),
                            format!("account {a} is already the {role} account"),
                            "an account has exactly one role; the security and forensics accounts cannot be members",
                        );
                        return None;
                    }
                    if let Some(prev) = by_account.insert(a.clone(), i) {
                        c.error(
                            at("account_id"),
                            format!("account {a} is already listed as members[{prev}]"),
                            "list each member account once; put all its regions in one entry",
                        );
                        return None;
                    }
                    Some(MemberTarget::Account(a))
                }),
            (None, Some(ou)) => c
                .parse(
                    &at("ou"),
                    OuId::parse(ou),
                    "copy the OU id from AWS Organizations, e.g. ou = \"ou-ab12-cd34ef56\"",
                )
                .map(MemberTarget::Ou),
            (Some(_), Some(_)) => {
                c.error(
                    at("ou"),
                    "a member names either one account or one OU, not both",
                    "remove ou to deploy to the account directly, or account_id to target the OU through a StackSet",
                );
                None
            }
            (None, None) => {
                c.error(
                    format!("members[{i}]"),
                    format!("member {:?} names neither account_id nor ou", m.name),
                    "add account_id = \"<12 digits>\" or ou = \"ou-...\"",
                );
                None
            }
        };
        let mut regions = Vec::new();
        if m.regions.is_empty() {
            c.error(
                at("regions"),
                "a member needs at least one region",
                "list the regions whose instances the framework covers, e.g. regions = [\"us-east-1\"]",
            );
        }
        for (j, r) in m.regions.iter().enumerate() {
            if let Some(region) =
                check_region(c, &format!("members[{i}].regions[{j}]"), r, partition)
            {
                if regions.contains(&region) {
                    c.error(
                        format!("members[{i}].regions[{j}]"),
                        format!("region {r} is listed twice"),
                        "list each region once",
                    );
                } else {
                    regions.push(region);
                }
            }
        }
        if let Some(target) = target
            && !regions.is_empty()
            && regions.len() == m.regions.len()
        {
            members.push(Member {
                name: m.name.clone(),
                target,
                regions,
            });
        }
    }
    members
}

fn check_cidr(c: &mut Checker, key: &str, value: &str) -> Option<Ipv4Net> {
    let path = format!("network.{key}");
    let Ok(net) = value.parse::<Ipv4Net>() else {
        c.error(
            path,
            format!("{value:?} is not an IPv4 CIDR block"),
            "write it as address/prefix, e.g. \"10.66.0.0/16\"",
        );
        return None;
    };
    if net.trunc() != net {
        c.error(
            path,
            format!("{value} has host bits set"),
            format!("did you mean \"{}\"?", net.trunc()),
        );
        return None;
    }
    if !(16..=28).contains(&net.prefix_len()) {
        c.error(
            path,
            format!(
                "a VPC CIDR must be between /16 and /28, got /{}",
                net.prefix_len()
            ),
            "pick a block between /16 and /28, e.g. \"10.66.0.0/16\"",
        );
        return None;
    }
    Some(net)
}

fn check_network(c: &mut Checker, raw: &RawOrgConfig, home: Option<Region>) -> Option<NetworkPlan> {
    let n = &raw.network;
    let analysis = check_cidr(c, "analysis_vpc_cidr", &n.analysis_vpc_cidr);
    let maintenance = check_cidr(c, "maintenance_vpc_cidr", &n.maintenance_vpc_cidr);
    let ir = check_cidr(c, "ir_vpc_cidr", &n.ir_vpc_cidr);
    let factory = check_cidr(c, "factory_vpc_cidr", &n.factory_vpc_cidr);

    let named = [
        ("analysis_vpc_cidr", analysis),
        ("maintenance_vpc_cidr", maintenance),
        ("ir_vpc_cidr", ir),
        ("factory_vpc_cidr", factory),
    ];
    for (i, (ka, a)) in named.iter().enumerate() {
        for (kb, b) in &named[i + 1..] {
            if let (Some(a), Some(b)) = (a, b)
                && (a.contains(&b.network()) || b.contains(&a.network()))
            {
                c.error(
                    format!("network.{kb}"),
                    format!("{b} overlaps network.{ka} ({a})"),
                    "give every framework VPC its own block; overlapping VPCs cannot be peered or routed later",
                );
            }
        }
    }

    let count = n.analysis_subnets;
    let prefix = n.analysis_subnet_prefix;
    if !(1..=200).contains(&count) {
        c.error(
            "network.analysis_subnets",
            format!("{count} analysis subnets requested; a VPC allows 1 to 200"),
            "use a number between 1 and 200 (the default is 3)",
        );
    }
    if !(16..=28).contains(&prefix) {
        c.error(
            "network.analysis_subnet_prefix",
            format!("subnet prefix /{prefix} is outside /16../28"),
            "use a prefix between 16 and 28, e.g. 24",
        );
    }
    let azs = home.map_or(3, Region::spread_azs);
    let analysis_plan = match (analysis, usize::try_from(count), u8::try_from(prefix)) {
        (Some(vpc), Ok(count @ 1..=200), Ok(prefix @ 16..=28)) => {
            match carve(vpc, prefix, count, azs) {
                Some(subnets) => Some(VpcPlan { cidr: vpc, subnets }),
                None => {
                    c.error(
                        "network.analysis_subnets",
                        format!(
                            "{count} subnets of /{prefix} do not fit in {vpc} (room for {})",
                            capacity(vpc, prefix)
                        ),
                        "use fewer subnets, a longer analysis_subnet_prefix, or a larger analysis_vpc_cidr",
                    );
                    None
                }
            }
        }
        _ => None,
    };

    let halves = |c: &mut Checker, key: &str, vpc: Option<Ipv4Net>| -> Option<VpcPlan> {
        let vpc = vpc?;
        let sub = (vpc.prefix_len() + 1).clamp(24, 28);
        match carve(vpc, sub, 2, azs) {
            Some(subnets) => Some(VpcPlan { cidr: vpc, subnets }),
            None => {
                c.error(
                    format!("network.{key}"),
                    format!("{vpc} is too small for two subnets"),
                    "use a /27 or larger block",
                );
                None
            }
        }
    };
    let maintenance_plan = halves(c, "maintenance_vpc_cidr", maintenance);
    let ir_plan = halves(c, "ir_vpc_cidr", ir);
    let factory_plan = factory.map(|vpc| VpcPlan {
        cidr: vpc,
        subnets: vec![crate::model::SubnetPlan {
            cidr: vpc,
            az_index: 0,
        }],
    });
    Some(NetworkPlan {
        analysis: analysis_plan?,
        maintenance: maintenance_plan?,
        ir: ir_plan?,
        factory: factory_plan?,
    })
}

fn check_evidence(c: &mut Checker, raw: &RawOrgConfig) -> Option<EvidencePolicy> {
    let e = &raw.evidence;
    let mut ok = true;
    if !(1..=MAX_RETENTION_DAYS).contains(&e.retention_days) {
        c.error(
            "evidence.retention_days",
            format!("retention of {} days is out of range", e.retention_days),
            format!("S3 Object Lock accepts 1 to {MAX_RETENTION_DAYS} days; the default is 90"),
        );
        ok = false;
    }
    let lock_mode = match e.lock_mode.as_str() {
        "governance" => Some(LockMode::Governance),
        "compliance" => Some(LockMode::Compliance),
        other => {
            let help = closest(&other.to_ascii_lowercase(), ["governance", "compliance"])
                .map_or_else(String::new, |s| format!("did you mean {s:?}? "));
            c.error(
                "evidence.lock_mode",
                format!("unknown lock mode {other:?}"),
                format!(
                    "{help}use \"governance\" (privileged users may delete) or \"compliance\" (nobody may delete before retention ends)"
                ),
            );
            None
        }
    };
    if !(0..=MAX_RETENTION_DAYS).contains(&e.glacier_after_days) {
        c.error(
            "evidence.glacier_after_days",
            format!("{} days is out of range", e.glacier_after_days),
            format!("use 0 to {MAX_RETENTION_DAYS} days"),
        );
        ok = false;
    }
    if e.expire_after_days <= e.glacier_after_days {
        c.error(
            "evidence.expire_after_days",
            format!(
                "evidence would expire after {} days, before it is archived after {} days",
                e.expire_after_days, e.glacier_after_days
            ),
            "make expire_after_days larger than glacier_after_days (the defaults are 395 and 2555)",
        );
        ok = false;
    } else if e.expire_after_days < e.retention_days {
        c.error(
            "evidence.expire_after_days",
            format!(
                "evidence would expire after {} days, while Object Lock keeps it for {} days",
                e.expire_after_days, e.retention_days
            ),
            "make expire_after_days at least retention_days",
        );
        ok = false;
    } else if e.expire_after_days > MAX_RETENTION_DAYS * 2 {
        c.error(
            "evidence.expire_after_days",
            format!("{} days is out of range", e.expire_after_days),
            format!("use at most {} days", MAX_RETENTION_DAYS * 2),
        );
        ok = false;
    }
    let days = |v: i64| u32::try_from(v).ok();
    if !ok {
        return None;
    }
    Some(EvidencePolicy {
        retention_days: days(e.retention_days)?,
        lock_mode: lock_mode?,
        glacier_after_days: days(e.glacier_after_days)?,
        expire_after_days: days(e.expire_after_days)?,
    })
}

fn check_acquisition(c: &mut Checker, raw: &RawOrgConfig) -> AcquisitionPolicy {
    let a = &raw.acquisition;
    let mut methods = Vec::new();
    if a.memory_methods.is_empty() {
        c.error(
            "acquisition.memory_methods",
            "no memory acquisition method",
            "list methods in order of preference: memory_methods = [\"kcore\", \"lime\"]",
        );
    }
    for (i, m) in a.memory_methods.iter().enumerate() {
        let path = format!("acquisition.memory_methods[{i}]");
        let method = match m.as_str() {
            "kcore" => MemoryMethod::Kcore,
            "lime" => MemoryMethod::Lime,
            other => {
                let help = closest(other, ["kcore", "lime"])
                    .map_or_else(String::new, |s| format!("did you mean {s:?}? "));
                c.error(
                    path,
                    format!("unknown memory method {other:?}"),
                    format!("{help}use \"kcore\" (no kernel module) and/or \"lime\""),
                );
                continue;
            }
        };
        if methods.contains(&method) {
            c.error(
                path,
                format!("memory method {m:?} is listed twice"),
                "list each method once",
            );
        } else {
            methods.push(method);
        }
    }
    if a.disk_method != "ebs-direct" {
        c.error(
            "acquisition.disk_method",
            format!("unknown disk method {:?}", a.disk_method),
            "use \"ebs-direct\": snapshots are imaged to S3 with the EBS direct APIs, without a worker instance",
        );
    }
    AcquisitionPolicy {
        retain_artefacts: a.retain_artefacts,
        memory_methods: methods,
        disk_method: DiskMethod::EbsDirect,
        compress_disk_images: a.compress_disk_images,
    }
}

fn check_notifications(c: &mut Checker, raw: &RawOrgConfig, partition: Partition) -> Notifications {
    let n = &raw.notifications;
    let slack = n.slack.as_ref().and_then(|s| {
        let arn_ok = check_secret_arn(c, &s.webhook_secret_arn, partition);
        let channel_ok = is_slack_channel(&s.channel);
        if !channel_ok {
            c.error(
                "notifications.slack.channel",
                format!("{:?} is not a Slack channel", s.channel),
                "use a channel name starting with '#', e.g. channel = \"#security-incidents\", or a channel id such as \"C0123456789\"",
            );
        }
        (arn_ok && channel_ok).then(|| SlackTarget {
            webhook_secret_arn: s.webhook_secret_arn.clone(),
            channel: s.channel.clone(),
        })
    });
    for (i, e) in n.emails.iter().enumerate() {
        let ok = e.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !host.starts_with('.') && !e.contains(' ')
        });
        if !ok {
            c.error(
                format!("notifications.emails[{i}]"),
                format!("{e:?} is not an email address"),
                "write addresses as name@example.com",
            );
        }
    }
    Notifications {
        slack,
        emails: n.emails.clone(),
    }
}

fn check_secret_arn(c: &mut Checker, arn: &str, partition: Partition) -> bool {
    let path = "notifications.slack.webhook_secret_arn";
    if arn.starts_with("https://") || arn.starts_with("http://") {
        c.error(
            path,
            "this is a webhook URL; a URL in org.toml ends up in templates and Lambda code",
            "store the URL in Secrets Manager and give the secret's ARN: aws secretsmanager create-secret --name irf/slack-webhook --secret-string '<url>'",
        );
        return false;
    }
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let shape_ok = parts.len() == 7
        && parts[0] == "arn"
        && parts[2] == "secretsmanager"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5] == "secret"
        && !parts[6].is_empty();
    if !shape_ok {
        c.error(
            path,
            format!("{arn:?} is not a Secrets Manager secret ARN"),
            "use the secret's full ARN, e.g. \"arn:aws:secretsmanager:us-east-1:111111111111:secret:irf/slack-webhook-AbCdEf\"",
        );
        return false;
    }
    if parts[1] != partition.as_str() {
        c.error(
            path,
            format!(
                "the secret is in partition {}, but organization.partition is {partition}",
                parts[1]
            ),
            "use a secret in the organization's partition",
        );
        return false;
    }
    if Region::lookup(parts[3]).is_none() {
        c.error(
            path,
            format!("the secret's region {:?} is unknown", parts[3]),
            "check the region part of the ARN",
        );
        return false;
    }
    true
}

fn is_slack_channel(s: &str) -> bool {
    if let Some(name) = s.strip_prefix('#') {
        (1..=80).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    } else {
        (9..=12).contains(&s.len())
            && s.starts_with(['C', 'G', 'D'])
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    }
}

fn is_instance_type(s: &str) -> bool {
    s.split_once('.').is_some_and(|(family, size)| {
        !family.is_empty()
            && !size.is_empty()
            && family.starts_with(|ch: char| ch.is_ascii_lowercase())
            && family
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && size
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

fn check_module_factory(c: &mut Checker, raw: &RawOrgConfig) -> ModuleFactory {
    let f = &raw.module_factory;
    let mut amis: Vec<AmiId> = Vec::new();
    for (i, a) in f.amis.iter().enumerate() {
        let path = format!("module_factory.amis[{i}]");
        if let Some(ami) = c.parse(
            &path,
            AmiId::parse(a),
            "use the AMI id of an image your instances run, e.g. \"ami-0123456789abcdef0\"",
        ) {
            if amis.contains(&ami) {
                c.error(
                    path,
                    format!("AMI {a} is listed twice"),
                    "list each AMI once",
                );
            } else {
                amis.push(ami);
            }
        }
    }
    if let Some(old) = &f.instance_type {
        c.error(
            "module_factory.instance_type",
            format!(
                "one builder type for every AMI ({old:?}) cannot build arm64 AMIs; the factory now picks a type per architecture"
            ),
            format!(
                "replace it with [module_factory.instance_types] x86_64 = {old:?} and arm64 = \"t4g.large\""
            ),
        );
    }
    let types = &f.instance_types;
    for (arch, ty, want_graviton, example) in [
        ("x86_64", &types.x86_64, false, "t3.large"),
        ("arm64", &types.arm64, true, "t4g.large"),
    ] {
        let path = format!("module_factory.instance_types.{arch}");
        if !is_instance_type(ty) {
            c.error(
                path,
                format!("{ty:?} is not an EC2 instance type"),
                format!("use an instance type such as \"{example}\""),
            );
        } else if is_graviton(ty) != want_graviton {
            c.error(
                path,
                format!(
                    "{ty:?} is {} type, so {arch} AMIs cannot boot on it",
                    if want_graviton {
                        "an x86"
                    } else {
                        "a Graviton (arm64)"
                    }
                ),
                format!(
                    "use {} type such as \"{example}\"",
                    if want_graviton {
                        "a Graviton"
                    } else {
                        "an x86"
                    }
                ),
            );
        }
    }
    if !(1..=20).contains(&f.kernels) {
        c.error(
            "module_factory.kernels",
            format!("{} kernels per AMI is outside 1..=20", f.kernels),
            "build the newest few kernels of the stream, e.g. kernels = 3",
        );
    }
    if !(15..=720).contains(&f.build_timeout_minutes) {
        c.error(
            "module_factory.build_timeout_minutes",
            format!("{} minutes is outside 15..=720", f.build_timeout_minutes),
            "give builders between 15 minutes and 12 hours, e.g. build_timeout_minutes = 90",
        );
    }
    let mut watch_parameters: Vec<String> = Vec::new();
    for (i, name) in f.watch_parameters.iter().enumerate() {
        let path = format!("module_factory.watch_parameters[{i}]");
        let valid = name.starts_with('/')
            && name.len() <= 2048
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_.-".contains(&b));
        if !valid {
            c.error(
                path,
                format!("{name:?} is not an SSM parameter name"),
                "give a full parameter name such as \"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\"",
            );
        } else if watch_parameters.contains(name) {
            c.error(
                path,
                format!("{name} is listed twice"),
                "list each parameter once",
            );
        } else {
            watch_parameters.push(name.clone());
        }
    }
    ModuleFactory {
        watch_parameters,
        amis,
        builder_types: BuilderTypes {
            x86_64: types.x86_64.clone(),
            arm64: types.arm64.clone(),
        },
        kernels: f.kernels,
        build_timeout_minutes: f.build_timeout_minutes,
    }
}

/// Whether an EC2 instance type runs on Graviton (arm64): its family's attribute letters (after
/// the generation digit) hold a `g` (`t4g`, `m6gd`, `c7gn`, `g5g`, `is4gen`), or it is `a1`.
fn is_graviton(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or("");
    if family == "a1" {
        return true;
    }
    let attributes = family
        .trim_start_matches(|c: char| c.is_ascii_lowercase())
        .trim_start_matches(|c: char| c.is_ascii_digit());
    attributes.split('-').next().unwrap_or("").contains('g')
}

fn check_schedule(s: &str) -> Result<(), String> {
    let Some(body) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) else {
        return Err(format!("{s:?} is not a cron(...) expression"));
    };
    let fields: Vec<&str> = body.split_whitespace().collect();
    if !(5..=6).contains(&fields.len()) {
        return Err(format!(
            "cron expression has {} fields; Image Builder expects 6 (minutes hours day-of-month month day-of-week year)",
            fields.len()
        ));
    }
    let allowed = |f: &str| {
        f.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "*?,-/#".contains(ch))
    };
    if let Some(bad) = fields.iter().find(|f| !allowed(f)) {
        return Err(format!(
            "cron field {bad:?} has characters cron does not allow"
        ));
    }
    if fields[2] != "?" && fields[4] != "?" {
        return Err("cron expression must use '?' in day-of-month or day-of-week".into());
    }
    Ok(())
}

fn check_sift(c: &mut Checker, raw: &RawOrgConfig) -> SiftImage {
    let s = &raw.sift;
    if let Err(m) = check_schedule(&s.schedule) {
        c.error(
            "sift.schedule",
            m,
            "write it like schedule = \"cron(0 9 ? * sun *)\" (Sundays 09:00 UTC)",
        );
    }
    let version_ok = s.cast_version.strip_prefix('v').is_some_and(|v| {
        let parts: Vec<&str> = v.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    if !version_ok {
        c.error(
            "sift.cast_version",
            format!("{:?} is not a cast release tag", s.cast_version),
            "use a release tag such as \"v0.14.0\"",
        );
    }
    let sha_ok = s.cast_sha256.len() == 64
        && s.cast_sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !sha_ok {
        let what = if s.cast_sha256.is_empty() {
            "sift.cast_sha256 is not set: the SIFT build would install an unverified download"
                .to_owned()
        } else {
            format!(
                "{:?} is not a SHA-256 (64 lowercase hex digits)",
                s.cast_sha256
            )
        };
        c.error(
            "sift.cast_sha256",
            what,
            "copy the SHA-256 of cast-<version>-linux-amd64.deb from the release's checksums file",
        );
    }
    if s.instance_types.is_empty() {
        c.error(
            "sift.instance_types",
            "no instance type for Image Builder",
            "list at least one, e.g. instance_types = [\"t3.large\"]",
        );
    }
    for (i, t) in s.instance_types.iter().enumerate() {
        if !is_instance_type(t) {
            c.error(
                format!("sift.instance_types[{i}]"),
                format!("{t:?} is not an EC2 instance type"),
                "use an instance type such as \"t3.large\"",
            );
        }
    }
    SiftImage {
        schedule: s.schedule.clone(),
        cast_version: s.cast_version.clone(),
        cast_sha256: s.cast_sha256.clone(),
        instance_types: s.instance_types.clone(),
    }
}

fn check_lambda(c: &mut Checker, raw: &RawOrgConfig) -> LambdaSettings {
    let l = &raw.lambda;
    let architecture = match l.architecture.as_str() {
        "arm64" => Architecture::Arm64,
        "x86_64" => Architecture::X86_64,
        other => {
            let help = closest(other, ["arm64", "x86_64"])
                .map_or_else(String::new, |s| format!("did you mean {s:?}? "));
            c.error(
                "lambda.architecture",
                format!("unknown architecture {other:?}"),
                format!("{help}use \"arm64\" (Graviton, the default) or \"x86_64\""),
            );
            Architecture::Arm64
        }
    };
    if !LOG_RETENTION_DAYS.contains(&l.log_retention_days) {
        let nearest = LOG_RETENTION_DAYS
            .iter()
            .min_by_key(|d| (*d - l.log_retention_days).abs())
            .copied()
            .unwrap_or(365);
        c.error(
            "lambda.log_retention_days",
            format!(
                "CloudWatch Logs does not accept a retention of {} days",
                l.log_retention_days
            ),
            format!("the nearest accepted value is {nearest}"),
        );
    }
    LambdaSettings {
        architecture,
        log_retention_days: u32::try_from(l.log_retention_days).unwrap_or(365),
    }
}

fn check_tags(c: &mut Checker, tags: &BTreeMap<String, String>) {
    let reserved: BTreeSet<&str> = [
        contract::INCIDENT_STATUS_TAG,
        contract::ACQUISITION_TAG,
        contract::CASE_ID_TAG,
    ]
    .into_iter()
    .collect();
    if tags.len() > 40 {
        c.error(
            "tags",
            format!(
                "{} tags given; AWS allows 50 per resource and the framework needs room",
                tags.len()
            ),
            "keep at most 40 tags",
        );
    }
    let tag_chars = |s: &str| {
        s.chars()
            .all(|ch| ch.is_alphanumeric() || ch == ' ' || "_.:/=+-@".contains(ch))
    };
    for (k, v) in tags {
        let path = join_key("tags", k);
        if k.to_ascii_lowercase().starts_with("aws:") {
            c.error(
                path,
                format!("tag key {k:?} uses the reserved aws: prefix"),
                "AWS reserves keys starting with aws:; pick another key, e.g. \"org:owner\"",
            );
        } else if reserved.contains(k.as_str()) {
            c.error(
                path,
                format!("tag key {k:?} is part of the incident-response protocol"),
                "the framework reads this tag to act on resources; use another key",
            );
        } else if k.is_empty() || k.chars().count() > 128 || !tag_chars(k) {
            c.error(
                path,
                format!("tag key {k:?} is not a valid AWS tag key"),
                "use 1 to 128 letters, digits, spaces or _ . : / = + - @",
            );
        } else if v.chars().count() > 256 || !tag_chars(v) {
            c.error(
                path,
                format!("tag value {v:?} is not a valid AWS tag value"),
                "use at most 256 letters, digits, spaces or _ . : / = + - @",
            );
        }
    }
}

fn check_bucket_names(
    c: &mut Checker,
    org: &Organization,
    names: &Names,
    security: &AccountId,
    forensics: &AccountId,
    members: &[Member],
) {
    let mut targets = vec![(security, org.home_region), (forensics, org.home_region)];
    for m in members {
        if let Some(a) = m.account() {
            targets.extend(m.regions.iter().map(|r| (a, *r)));
        }
    }
    let mut ingest: Vec<Region> = members
        .iter()
        .flat_map(|m| m.regions.iter().copied())
        .filter(|r| *r != org.home_region)
        .collect();
    ingest.sort();
    ingest.dedup();
    for name in names.all_buckets(targets, ingest) {
        if let Err(m) = check_bucket_name(&name) {
            c.error(
                "organization.prefix",
                format!("prefix {:?} makes an invalid bucket name: {m}", org.prefix),
                "use a shorter prefix (at most 28 characters) of lowercase letters, digits and hyphens",
            );
            return;
        }
    }
}
