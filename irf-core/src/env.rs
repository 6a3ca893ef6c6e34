//! The environment of each Lambda handler: one struct per handler, whose fields are the
//! `IRF_*` variables the templates set and the handler reads.
//!
//! The stack builders fill a struct with template expressions (`DiskImagingEnv<Expr>`) and emit
//! [`variables`](DiskImagingEnv::variables); the handler reads the same struct from its process
//! environment ([`from_env`](DiskImagingEnv::from_env)), and a required variable that is not set
//! is an error naming it. A variable is *required* when the handler cannot work without it and
//! *optional* otherwise (a flag with a default, or a value the handler does not use but the
//! template sets for operators). Every function also gets [`keys::HANDLER`], `RUST_LOG` and
//! [`keys::PARTITION`] (`irf-synth`'s `add_function`).

use indexmap::IndexMap;

use crate::handler::Handler;

/// The names of the variables, each spelled once.
pub mod keys {
    /// Selects the handler (see [`crate::handler::Handler`]).
    pub const HANDLER: &str = crate::handler::HANDLER_ENV;
    /// Partition of the ARNs the handlers build (`${AWS::Partition}`; `aws` when unset).
    pub const PARTITION: &str = "IRF_PARTITION";
    /// The org prefix (`[organization] prefix`) that physical names start with.
    pub const PREFIX: &str = "IRF_PREFIX";
    /// The forensics account's evidence bucket.
    pub const EVIDENCE_BUCKET: &str = "IRF_EVIDENCE_BUCKET";
    /// The asymmetric KMS key (ARN) that signs custody ledgers.
    pub const CUSTODY_KEY_ARN: &str = "IRF_CUSTODY_KEY_ARN";
    /// The case workflow the incident trigger starts.
    pub const CASE_STATE_MACHINE_ARN: &str = "IRF_CASE_STATE_MACHINE_ARN";
    /// `true`/`false`: keep the security-account snapshot copies.
    pub const RETAIN_ARTEFACTS: &str = "IRF_RETAIN_ARTEFACTS";
    /// The security account's key for evidence snapshot copies.
    pub const SECURITY_KEY_ARN: &str = "IRF_SECURITY_KEY_ARN";
    /// `true`/`false`: gzip disk images.
    pub const COMPRESS_DISK_IMAGES: &str = "IRF_COMPRESS_DISK_IMAGES";
    /// Seconds one imaging run may take before it returns its cursor.
    pub const IMAGING_BUDGET_SECONDS: &str = "IRF_IMAGING_BUDGET_SECONDS";
    /// The bucket of memory tools (streamer binaries, LiME modules).
    pub const MODULES_BUCKET: &str = "IRF_MODULES_BUCKET";
    /// The forensics account's ingest buckets, one per member region other than the home region,
    /// as `region=bucket` pairs, comma-separated (`eu-west-1=irf-222222222222-ingest-eu-west-1`).
    pub const INGEST_BUCKETS: &str = "IRF_INGEST_BUCKETS";
    /// Memory methods in the order tried, comma-separated (`kcore,lime`).
    pub const MEMORY_METHODS: &str = "IRF_MEMORY_METHODS";
    /// The security account's case outcome topic.
    pub const OUTCOME_TOPIC_ARN: &str = "IRF_OUTCOME_TOPIC_ARN";
    /// Secrets Manager secret holding the Slack webhook URL.
    pub const SLACK_SECRET_ARN: &str = "IRF_SLACK_SECRET_ARN";
    /// Channel the notices are posted to (`#channel` or a channel id).
    pub const SLACK_CHANNEL: &str = "IRF_SLACK_CHANNEL";
    /// The member's name in the org config (in narration).
    pub const MEMBER_NAME: &str = "IRF_MEMBER_NAME";
    /// The security account's 12-digit id.
    pub const SECURITY_ACCOUNT: &str = "IRF_SECURITY_ACCOUNT";
    /// The security account's incident bus.
    pub const INCIDENT_BUS_ARN: &str = "IRF_INCIDENT_BUS_ARN";
    /// The member's narration topic.
    pub const NOTIFICATION_TOPIC_ARN: &str = "IRF_NOTIFICATION_TOPIC_ARN";
    /// The instance profile attached for analysis (SSM only).
    pub const IR_PROFILE_ARN: &str = "IRF_IR_PROFILE_ARN";
    /// The instance profile attached on containment (denies everything).
    pub const ISOLATION_PROFILE_ARN: &str = "IRF_ISOLATION_PROFILE_ARN";
    /// `true`/`false`: disassociate Elastic IPs on containment.
    pub const DISASSOCIATE_ELASTIC_IPS: &str = "IRF_DISASSOCIATE_ELASTIC_IPS";
    /// `true`/`false`: revoke the sessions the instance's role issued.
    pub const REVOKE_ROLE_SESSIONS: &str = "IRF_REVOKE_ROLE_SESSIONS";
    /// SSM parameter listing the AMIs the module factory builds for.
    pub const AMI_PARAMETER: &str = "IRF_AMI_PARAMETER";
    /// Id of the module builders' launch template.
    pub const LAUNCH_TEMPLATE_ID: &str = "IRF_LAUNCH_TEMPLATE_ID";
    /// Builder instance type for x86_64 AMIs.
    pub const X86_64_BUILDER_TYPE: &str = "IRF_X86_64_BUILDER_TYPE";
    /// Builder instance type for arm64 AMIs.
    pub const ARM64_BUILDER_TYPE: &str = "IRF_ARM64_BUILDER_TYPE";
    /// Minutes after which the watchdog terminates a builder.
    pub const BUILD_TIMEOUT_MINUTES: &str = "IRF_BUILD_TIMEOUT_MINUTES";
    /// Comma-separated SSM parameters whose AMI ids the factory adds to its list.
    pub const WATCH_PARAMETERS: &str = "IRF_WATCH_PARAMETERS";
}

/// A required variable of a handler is not set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub &'static str);

/// A `true`/`false` flag: `true` only when the value is `true`; `default` when unset.
pub fn flag(value: Option<&str>, default: bool) -> bool {
    value.map_or(default, |v| v == "true")
}

macro_rules! handler_env {
    (@ty required $v:ident) => { $v };
    (@ty optional $v:ident) => { Option<$v> };
    (@put required $vars:ident, $key:expr, $value:expr) => {
        $vars.insert($key.to_owned(), $value);
    };
    (@put optional $vars:ident, $key:expr, $value:expr) => {
        if let Some(v) = $value {
            $vars.insert($key.to_owned(), v);
        }
    };
    (@get required $lookup:ident, $key:expr) => { $lookup($key).ok_or(MissingEnv($key))? };
    (@get optional $lookup:ident, $key:expr) => { $lookup($key) };
    (
        $(#[$meta:meta])*
        $name:ident for $handler:ident {
            $($(#[$fmeta:meta])* $field:ident: $key:ident $kind:ident,)+
        }
    ) => {
        $(#[$meta])*
        ///
        /// `V` is a value: a template expression when a stack builder fills it, the variable's
        /// text when the handler reads it.
        pub struct $name<V = String> {
            $($(#[$fmeta])* pub $field: handler_env!(@ty $kind V),)+
        }

        // By hand: `derive` does not take fields whose type is a macro.
        impl<V: Clone> Clone for $name<V> {
            fn clone(&self) -> Self {
                $name { $($field: self.$field.clone(),)+ }
            }
        }

        impl<V: std::fmt::Debug> std::fmt::Debug for $name<V> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($field), &self.$field))+
                    .finish()
            }
        }

        impl<V: PartialEq> PartialEq for $name<V> {
            fn eq(&self, other: &Self) -> bool {
                true $(&& self.$field == other.$field)+
            }
        }

        impl<V: Eq> Eq for $name<V> {}

        impl<V> $name<V> {
            /// The handler these variables configure.
            pub const HANDLER: Handler = Handler::$handler;

            /// Every variable, in the order [`Self::variables`] renders them.
            pub const KEYS: &'static [&'static str] = &[$(keys::$key,)+];

            /// The variables for the function's `Environment.Variables`, in declaration order;
            /// unset optional ones are left out.
            pub fn variables(self) -> IndexMap<String, V> {
                let mut vars = IndexMap::new();
                $(handler_env!(@put $kind vars, keys::$key, self.$field);)+
                vars
            }
        }

        impl $name {
            /// From `lookup` (a variable's value by name); a required variable it does not
            /// have is an error naming it.
            pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MissingEnv> {
                Ok($name {
                    $($field: handler_env!(@get $kind lookup, keys::$key),)+
                })
            }

            /// From the process environment.
            pub fn from_env() -> Result<Self, MissingEnv> {
                Self::read(|k| std::env::var(k).ok())
            }
        }
    };
}

handler_env! {
    /// The incident trigger's environment.
    IncidentTriggerEnv for IncidentTrigger {
        /// Not read by the handler.
        prefix: PREFIX optional,
        /// Not read by the handler.
        evidence_bucket: EVIDENCE_BUCKET optional,
        /// Not read by the handler.
        custody_key_arn: CUSTODY_KEY_ARN optional,
        /// The case workflow to start.
        case_state_machine_arn: CASE_STATE_MACHINE_ARN required,
        /// The cases' `RetainArtefacts` (a flag, `true` when unset).
        retain_artefacts: RETAIN_ARTEFACTS optional,
    }
}

handler_env! {
    /// The disk-snapshot function's environment (the handler finds the keys by alias and reads
    /// none of these; they name the deployment for operators).
    DiskSnapshotEnv for DiskSnapshot {
        /// The org prefix.
        prefix: PREFIX optional,
        /// Name of the evidence bucket.
        evidence_bucket: EVIDENCE_BUCKET optional,
        /// ARN of the custody signing key.
        custody_key_arn: CUSTODY_KEY_ARN optional,
        /// The key behind `alias/ir/sec`, which the copies use.
        security_key_arn: SECURITY_KEY_ARN optional,
        /// The org's `retain_artefacts` (each case carries its own).
        retain_artefacts: RETAIN_ARTEFACTS optional,
    }
}

handler_env! {
    /// The disk-imaging function's environment.
    DiskImagingEnv for DiskImaging {
        /// Not read by the handler.
        prefix: PREFIX optional,
        /// Where images go.
        evidence_bucket: EVIDENCE_BUCKET required,
        /// Signs the custody ledger.
        custody_key_arn: CUSTODY_KEY_ARN required,
        /// Gzip images (a flag, `false` when unset).
        compress_disk_images: COMPRESS_DISK_IMAGES optional,
        /// Seconds per imaging run (600 when unset or not a number).
        imaging_budget_seconds: IMAGING_BUDGET_SECONDS optional,
    }
}

handler_env! {
    /// The memory-acquisition function's environment.
    MemoryAcquisitionEnv for MemoryAcquisition {
        /// Names the member's SSM documents.
        prefix: PREFIX required,
        /// Where memory images go.
        evidence_bucket: EVIDENCE_BUCKET required,
        /// Signs the custody ledger.
        custody_key_arn: CUSTODY_KEY_ARN required,
        /// Streamer binaries and LiME modules.
        modules_bucket: MODULES_BUCKET required,
        /// Methods in the order tried, comma-separated.
        memory_methods: MEMORY_METHODS required,
        /// Where captures of instances outside the home region land (`region=bucket,...`);
        /// unset when every member is in the home region.
        ingest_buckets: INGEST_BUCKETS optional,
    }
}

/// Parses [`keys::INGEST_BUCKETS`] (`region=bucket,...`) into bucket by region; the error names
/// the malformed pair.
pub fn parse_ingest_buckets(
    value: &str,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((region, bucket)) if !region.is_empty() && !bucket.is_empty() => {
                Ok((region.to_owned(), bucket.to_owned()))
            }
            _ => Err(format!(
                "{} holds {pair:?}, not region=bucket",
                keys::INGEST_BUCKETS
            )),
        })
        .collect()
}

handler_env! {
    /// The case-record function's environment.
    CaseRecordEnv for CaseRecord {
        /// Not read by the handler.
        prefix: PREFIX optional,
        /// Holds the custody ledger.
        evidence_bucket: EVIDENCE_BUCKET required,
        /// Signs the custody ledger.
        custody_key_arn: CUSTODY_KEY_ARN required,
    }
}

handler_env! {
    /// The notification function's environment, in the security account (outcome topic, and
    /// Slack when configured) and in members (Slack only).
    NotifyEnv for Notify {
        /// Not read by the handler.
        prefix: PREFIX optional,
        /// Not read by the handler (member functions).
        member_name: MEMBER_NAME optional,
        /// Not read by the handler (security account).
        evidence_bucket: EVIDENCE_BUCKET optional,
        /// Not read by the handler (security account).
        custody_key_arn: CUSTODY_KEY_ARN optional,
        /// Where case notices go (security account).
        outcome_topic_arn: OUTCOME_TOPIC_ARN optional,
        /// The Slack webhook's secret; Slack is used when it and the channel are set.
        slack_secret_arn: SLACK_SECRET_ARN optional,
        /// Channel the notices are posted to (`#channel` or a channel id).
        slack_channel: SLACK_CHANNEL optional,
    }
}

handler_env! {
    /// The member tag handler's environment.
    MemberTagEnv for MemberTag {
        /// Names the prior-state parameters.
        prefix: PREFIX required,
        /// The member's name in narration (empty when unset).
        member_name: MEMBER_NAME optional,
        /// Not read by the handler.
        security_account: SECURITY_ACCOUNT optional,
        /// Where acquisition requests go (none are sent when unset).
        incident_bus_arn: INCIDENT_BUS_ARN optional,
        /// Where narration goes (logged only when unset).
        notification_topic_arn: NOTIFICATION_TOPIC_ARN optional,
        /// The analysis profile (the profile is left alone when unset).
        ir_profile_arn: IR_PROFILE_ARN optional,
        /// The isolation profile (the profile is removed when unset).
        isolation_profile_arn: ISOLATION_PROFILE_ARN optional,
        /// A flag, `false` when unset.
        disassociate_elastic_ips: DISASSOCIATE_ELASTIC_IPS optional,
        /// A flag, `true` when unset.
        revoke_role_sessions: REVOKE_ROLE_SESSIONS optional,
    }
}

handler_env! {
    /// The Security Hub custom action's environment.
    SecurityHubActionEnv for SecurityHubAction {
        /// Not read by the handler.
        prefix: PREFIX optional,
    }
}

handler_env! {
    /// The module factory's environment.
    ModuleFactoryEnv for ModuleFactory {
        /// Where builders put modules, and their manifests.
        modules_bucket: MODULES_BUCKET required,
        /// Name of the SSM parameter holding the AMI list.
        ami_parameter: AMI_PARAMETER required,
        /// Id of the builders' launch template.
        launch_template_id: LAUNCH_TEMPLATE_ID required,
        /// Builder type for x86_64 AMIs.
        x86_64_builder_type: X86_64_BUILDER_TYPE required,
        /// Builder type for arm64 AMIs.
        arm64_builder_type: ARM64_BUILDER_TYPE required,
        /// Minutes after which the watchdog terminates a builder.
        build_timeout_minutes: BUILD_TIMEOUT_MINUTES required,
        /// Comma-separated SSM parameter names to watch (none when unset).
        watch_parameters: WATCH_PARAMETERS optional,
    }
}

/// The `IRF_*` variables a handler's functions may have, beyond [`keys::HANDLER`] and
/// [`keys::PARTITION`].
pub fn keys_of(handler: Handler) -> &'static [&'static str] {
    match handler {
        Handler::IncidentTrigger => IncidentTriggerEnv::<()>::KEYS,
        Handler::DiskSnapshot => DiskSnapshotEnv::<()>::KEYS,
        Handler::DiskImaging => DiskImagingEnv::<()>::KEYS,
        Handler::MemoryAcquisition => MemoryAcquisitionEnv::<()>::KEYS,
        Handler::CaseRecord => CaseRecordEnv::<()>::KEYS,
        Handler::Notify => NotifyEnv::<()>::KEYS,
        Handler::MemberTag => MemberTagEnv::<()>::KEYS,
        Handler::SecurityHubAction => SecurityHubActionEnv::<()>::KEYS,
        Handler::ModuleFactory => ModuleFactoryEnv::<()>::KEYS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handler_has_its_own_distinct_irf_keys() {
        for h in Handler::ALL {
            let keys = keys_of(*h);
            let mut sorted = keys.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), keys.len(), "{h}: a key twice");
            for k in keys {
                assert!(k.starts_with("IRF_"), "{h}: {k}");
                assert!(
                    ![keys::HANDLER, keys::PARTITION].contains(k),
                    "{h}: {k} is set on every function"
                );
            }
        }
    }

    #[test]
    fn rendered_variables_read_back() {
        let env = DiskImagingEnv {
            prefix: Some("irf".to_owned()),
            evidence_bucket: "irf-evidence".to_owned(),
            custody_key_arn: "arn:aws:kms:us-east-1:1:key/k".to_owned(),
            compress_disk_images: Some("true".to_owned()),
            imaging_budget_seconds: None,
        };
        let vars = env.clone().variables();
        assert_eq!(
            vars.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                keys::PREFIX,
                keys::EVIDENCE_BUCKET,
                keys::CUSTODY_KEY_ARN,
                keys::COMPRESS_DISK_IMAGES
            ],
            "declaration order, unset optional ones left out"
        );
        assert_eq!(DiskImagingEnv::read(|k| vars.get(k).cloned()), Ok(env));
    }

    #[test]
    fn a_missing_required_variable_is_named() {
        let err = MemoryAcquisitionEnv::read(|k| (k != keys::MODULES_BUCKET).then(String::new))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable IRF_MODULES_BUCKET is not set"
        );
        let env = MemberTagEnv::read(|k| (k == keys::PREFIX).then(|| "irf".to_owned())).unwrap();
        assert_eq!(env.prefix, "irf");
        assert_eq!(env.incident_bus_arn, None);
    }

    #[test]
    fn flags() {
        assert!(flag(Some("true"), false));
        assert!(!flag(Some("TRUE"), true));
        assert!(flag(None, true));
        assert!(!flag(None, false));
    }

    #[test]
    fn ingest_buckets_parse_by_region_and_a_bad_pair_is_named() {
        let buckets =
            parse_ingest_buckets("eu-west-1=irf-2-ingest-eu-west-1, ap-south-1=b2,").unwrap();
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets["eu-west-1"], "irf-2-ingest-eu-west-1");
        assert_eq!(buckets["ap-south-1"], "b2");
        assert!(parse_ingest_buckets("").unwrap().is_empty());
        assert_eq!(
            parse_ingest_buckets("eu-west-1=b,oops").unwrap_err(),
            "IRF_INGEST_BUCKETS holds \"oops\", not region=bucket"
        );
        assert!(parse_ingest_buckets("=b").is_err());
    }
}
