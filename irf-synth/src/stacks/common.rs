//! Building blocks shared by the stacks: hardened buckets, KMS keys, VPCs with flow logs,
//! endpoints, and Lambda functions running the `irf-runtime` asset with encrypted logs and, when
//! invoked asynchronously, an encrypted dead-letter queue.

use indexmap::IndexMap;
use irf_core::cfn::resources::{Tag, ec2, iam, kms, lambda, logs, s3, sqs};
use irf_core::cfn::{CheckovCheck, Expr, Parameter, Template, Validator};
use irf_core::contract;
use irf_core::env::keys;
use irf_core::handler::{HANDLER_ENV, Handler};
use irf_core::iam::{PolicyDocument, Principal, Statement};
use irf_core::model::{Framework, VpcPlan};

/// Name of the template parameter carrying the asset bucket.
pub(crate) const ASSET_BUCKET: &str = "AssetBucket";
/// Name of the template parameter carrying the asset key.
pub(crate) const ASSET_KEY: &str = "AssetKey";

/// VPC flow-log record format: the default (version 2) fields, then the VPC, subnet and instance
/// ids, TCP flags, packet-level addresses, region, AWS service and flow direction.
pub(crate) const FLOW_LOG_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${pkt-src-aws-service} ${flow-direction}";

/// `arn:${AWS::Partition}:s3:::<bucket>` for a bucket-name expression.
pub(crate) fn bucket_arn(bucket: &Expr) -> Expr {
    match bucket.to_sub_fragment() {
        Some(b) => Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{b}")),
        None => Expr::join(
            "",
            vec![Expr::sub("arn:${AWS::Partition}:s3:::"), bucket.clone()],
        ),
    }
}

/// Objects under `prefix` (`*` for all) of a bucket-name expression.
pub(crate) fn objects_arn(bucket: &Expr, prefix: &str) -> Expr {
    match bucket.to_sub_fragment() {
        Some(b) => Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{b}/{prefix}")),
        None => Expr::join(
            "",
            vec![
                Expr::sub("arn:${AWS::Partition}:s3:::"),
                bucket.clone(),
                Expr::s(format!("/{prefix}")),
            ],
        ),
    }
}

/// Denies any S3 request not made over TLS.
pub(crate) fn deny_insecure_transport(bucket: &Expr) -> Statement {
    Statement::deny(&["s3:*"])
        .sid("DenyInsecureTransport")
        .principal(Principal::Anyone)
        .on([bucket_arn(bucket), objects_arn(bucket, "*")])
        .when("Bool", "aws:SecureTransport", Expr::s("false"))
}

/// The account root of the stack's own account.
pub(crate) fn account_root() -> Expr {
    Expr::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
}

/// The account root of another account.
pub(crate) fn root_of(account: &Expr) -> Expr {
    match account.to_sub_fragment() {
        Some(a) => Expr::sub(format!("arn:${{AWS::Partition}}:iam::{a}:root")),
        None => Expr::join(
            "",
            vec![
                Expr::sub("arn:${AWS::Partition}:iam::"),
                account.clone(),
                Expr::s(":root"),
            ],
        ),
    }
}

/// A role ARN in another account by contract name.
pub(crate) fn role_in(account: &Expr, role: &str) -> Expr {
    let a = account.to_sub_fragment().unwrap_or_default();
    Expr::sub(format!("arn:${{AWS::Partition}}:iam::{a}:role/{role}"))
}

/// Key administration by the owning account (IAM policies then decide who administers); without
/// it a key can become unmanageable.
pub(crate) fn key_admin() -> Statement {
    Statement::allow(&["kms:*"])
        .sid("AccountAdministersKey")
        .principal(Principal::Aws(vec![account_root()]))
        .on_all()
}

/// Adds a symmetric KMS key with rotation and an alias (`<id>Alias`).
pub(crate) fn add_key(
    t: &mut Template,
    id: &str,
    alias: &str,
    description: &str,
    statements: Vec<Statement>,
) {
    let mut all = vec![key_admin()];
    all.extend(statements);
    let policy = PolicyDocument::new(all)
        .to_sub_json()
        .expect("key policies use only Sub-compatible values");
    t.add(
        id,
        kms::Key {
            description: description.to_owned(),
            enable_key_rotation: Some(true),
            key_policy: policy,
            key_spec: None,
            key_usage: None,
            pending_window_in_days: Some(30),
            tags: Vec::new(),
        },
    )
    .retain();
    t.add(
        &format!("{id}Alias"),
        kms::Alias {
            alias_name: alias.to_owned(),
            target_key_id: Expr::r#ref(id),
        },
    );
}

/// Options of a hardened bucket.
pub(crate) struct BucketSpec<'a> {
    /// Logical id.
    pub(crate) id: &'a str,
    /// Physical name.
    pub(crate) name: Expr,
    /// SSE-KMS key, or SSE-S3 when `None` (log-delivery targets that cannot use a CMK).
    pub(crate) key: Option<Expr>,
    /// Server-access-log target: bucket name and prefix.
    pub(crate) access_logs: Option<(Expr, String)>,
    /// Lifecycle rules beyond aborting stale multipart uploads.
    pub(crate) lifecycle: Vec<s3::LifecycleRule>,
    /// Object Lock default retention.
    pub(crate) object_lock: Option<s3::DefaultRetention>,
    /// Keep the bucket when the stack goes.
    pub(crate) retain: bool,
}

/// Adds a bucket with encryption, versioning, Block Public Access, owner-enforced ownership and
/// optional access logging and Object Lock.
pub(crate) fn add_bucket(t: &mut Template, spec: BucketSpec<'_>) {
    let mut rules = spec.lifecycle;
    rules.push(s3::LifecycleRule {
        id: "AbortIncompleteUploads".to_owned(),
        status: "Enabled".to_owned(),
        expiration_in_days: None,
        transitions: Vec::new(),
        noncurrent_version_expiration: None,
        abort_incomplete_multipart_upload: Some(s3::AbortIncompleteMultipartUpload {
            days_after_initiation: 7,
        }),
    });
    let entry = t.add(
        spec.id,
        s3::Bucket {
            bucket_name: Some(spec.name),
            bucket_encryption: Some(match spec.key {
                Some(k) => s3::BucketEncryption::kms(k),
                None => s3::BucketEncryption::s3_managed(),
            }),
            lifecycle_configuration: Some(s3::LifecycleConfiguration { rules }),
            logging_configuration: spec.access_logs.map(|(bucket, prefix)| {
                s3::LoggingConfiguration {
                    destination_bucket_name: bucket,
                    log_file_prefix: prefix,
                }
            }),
            object_lock_enabled: spec.object_lock.as_ref().map(|_| true),
            object_lock_configuration: spec.object_lock.map(|r| s3::ObjectLockConfiguration {
                object_lock_enabled: "Enabled".to_owned(),
                rule: s3::ObjectLockRule {
                    default_retention: r,
                },
            }),
            ownership_controls: Some(s3::OwnershipControls::owner_enforced()),
            public_access_block_configuration: Some(s3::PublicAccessBlockConfiguration::all()),
            versioning_configuration: Some(s3::VersioningConfiguration::enabled()),
            tags: Vec::new(),
        },
    );
    if spec.retain {
        entry.retain();
    }
}

/// Adds an S3 server-access-log bucket (SSE-S3: log delivery cannot use a CMK; not logged into
/// itself) and its policy: TLS only, log delivery from `source_accounts` (an account id or a list).
pub(crate) fn add_access_log_bucket(
    t: &mut Template,
    id: &str,
    name: &Expr,
    expire_after_days: u32,
    source_accounts: Expr,
) {
    add_bucket(
        t,
        BucketSpec {
            id,
            name: name.clone(),
            key: None,
            access_logs: None,
            lifecycle: vec![s3::LifecycleRule {
                id: "ExpireLogs".to_owned(),
                status: "Enabled".to_owned(),
                expiration_in_days: Some(expire_after_days),
                transitions: Vec::new(),
                noncurrent_version_expiration: Some(s3::NoncurrentVersionExpiration {
                    noncurrent_days: 30,
                }),
                abort_incomplete_multipart_upload: None,
            }],
            object_lock: None,
            retain: true,
        },
    );
    t.resources
        .get_mut(id)
        .expect("just added")
        .suppress(
            Validator::Guard,
            "s3_kms_encrypted",
            "S3 server access logging only delivers to SSE-S3 buckets",
        )
        .suppress(
            Validator::Guard,
            "s3_access_logged",
            "this is the access-log bucket; logging it into itself would loop",
        )
        .skip_checkov(
            CheckovCheck::S3AccessLogging,
            "this is the access-log bucket; logging it into itself would loop",
        );
    t.add(
        &format!("{id}Policy"),
        s3::BucketPolicy {
            bucket: Expr::r#ref(id),
            policy_document: PolicyDocument::new([
                deny_insecure_transport(name),
                Statement::allow(&["s3:PutObject"])
                    .sid("S3ServerAccessLogDelivery")
                    .principal(Principal::Service(vec![Expr::s(
                        "logging.s3.amazonaws.com",
                    )]))
                    .on([objects_arn(name, "*")])
                    .when("StringEquals", "aws:SourceAccount", source_accounts),
            ]),
        },
    );
}

/// The evidence Object Lock default retention of `[evidence]` (mode and days), for every bucket
/// that holds evidence.
pub(crate) fn evidence_lock(fw: &Framework) -> s3::DefaultRetention {
    s3::DefaultRetention {
        mode: fw.evidence.lock_mode.as_cfn().to_owned(),
        days: fw.evidence.retention_days,
    }
}

/// What protects locked evidence in a bucket policy: nobody deletes object versions, bypasses
/// governance retention or changes retention, legal holds, the bucket's lock or the bucket,
/// unless tagged as the evidence custodian.
pub(crate) fn custodian_only_statements(bucket: &Expr) -> [Statement; 2] {
    let custodian_tag = format!("aws:PrincipalTag/{}", contract::EVIDENCE_CUSTODIAN_TAG);
    [
        Statement::deny(&[
            "s3:DeleteObjectVersion",
            "s3:BypassGovernanceRetention",
            "s3:PutObjectRetention",
            "s3:PutObjectLegalHold",
        ])
        .sid("NoDeletionOrRetentionChanges")
        .principal(Principal::Anyone)
        .on([objects_arn(bucket, "*")])
        .when("StringNotEquals", &custodian_tag, Expr::s("true")),
        Statement::deny(&["s3:PutBucketObjectLockConfiguration", "s3:DeleteBucket"])
            .sid("NoLockOrBucketChanges")
            .principal(Principal::Anyone)
            .on([bucket_arn(bucket)])
            .when("StringNotEquals", &custodian_tag, Expr::s("true")),
    ]
}

/// Ids of a VPC's resources.
pub(crate) struct VpcIds {
    /// Logical id of the VPC.
    pub(crate) vpc: String,
    /// Subnets in plan order.
    pub(crate) subnets: Vec<String>,
    /// Route tables (one per routing domain).
    pub(crate) route_tables: Vec<String>,
}

/// Adds a VPC with the planned subnets, one private route table (or one per subnet when
/// `table_per_subnet`), and flow logs of every packet to the central flow-log bucket.
pub(crate) fn add_vpc(
    t: &mut Template,
    prefix: &str,
    name: &str,
    plan: &VpcPlan,
    flow_logs_bucket_arn: &Expr,
    table_per_subnet: bool,
    public_subnets: &[usize],
) -> VpcIds {
    let vpc = format!("{prefix}Vpc");
    t.add(
        &vpc,
        ec2::Vpc {
            cidr_block: plan.cidr.to_string(),
            enable_dns_hostnames: true,
            enable_dns_support: true,
            tags: Tag::name(name),
        },
    );
    let mut subnets = Vec::new();
    let mut route_tables = Vec::new();
    let shared_table = format!("{prefix}RouteTable");
    if !table_per_subnet {
        t.add(
            &shared_table,
            ec2::RouteTable {
                vpc_id: Expr::r#ref(&vpc),
                tags: Tag::name(format!("{name}-private")),
            },
        );
        route_tables.push(shared_table.clone());
    }
    for (i, s) in plan.subnets.iter().enumerate() {
        let id = format!("{prefix}Subnet{}", i + 1);
        let public = public_subnets.contains(&i);
        t.add(
            &id,
            ec2::Subnet {
                vpc_id: Expr::r#ref(&vpc),
                cidr_block: s.cidr.to_string(),
                availability_zone: Expr::az(s.az_index),
                map_public_ip_on_launch: false,
                tags: Tag::name(format!(
                    "{name}-{}-{}",
                    if public { "public" } else { "private" },
                    i + 1
                )),
            },
        );
        let table = if table_per_subnet {
            let rt = format!("{prefix}RouteTable{}", i + 1);
            t.add(
                &rt,
                ec2::RouteTable {
                    vpc_id: Expr::r#ref(&vpc),
                    tags: Tag::name(format!("{name}-{}", i + 1)),
                },
            );
            route_tables.push(rt.clone());
            rt
        } else {
            shared_table.clone()
        };
        t.add(
            &format!("{prefix}Subnet{}Routes", i + 1),
            ec2::SubnetRouteTableAssociation {
                route_table_id: Expr::r#ref(&table),
                subnet_id: Expr::r#ref(&id),
            },
        );
        subnets.push(id);
    }
    t.add(
        &format!("{prefix}FlowLog"),
        ec2::FlowLog {
            log_destination_type: "s3".to_owned(),
            // The bucket itself: AWS writes under AWSLogs/<account>/vpcflowlogs/<region>/, and
            // every record carries the VPC id.
            log_destination: flow_logs_bucket_arn.clone(),
            log_format: FLOW_LOG_FORMAT.to_owned(),
            resource_id: Expr::r#ref(&vpc),
            resource_type: "VPC".to_owned(),
            traffic_type: "ALL".to_owned(),
            max_aggregation_interval: 60,
        },
    );
    VpcIds {
        vpc,
        subnets,
        route_tables,
    }
}

/// Adds an internet gateway, attaches it and routes `route_table` to it (`<prefix>InternetGateway`,
/// `<prefix>GatewayAttachment`, `<prefix>PublicRoute`).
pub(crate) fn add_internet_gateway(
    t: &mut Template,
    prefix: &str,
    name: &str,
    ids: &VpcIds,
    route_table: &str,
) {
    let igw = format!("{prefix}InternetGateway");
    let attachment = format!("{prefix}GatewayAttachment");
    t.add(
        &igw,
        ec2::InternetGateway {
            tags: Tag::name(name),
        },
    );
    t.add(
        &attachment,
        ec2::VpcGatewayAttachment {
            vpc_id: Expr::r#ref(&ids.vpc),
            internet_gateway_id: Expr::r#ref(&igw),
        },
    );
    t.add(
        &format!("{prefix}PublicRoute"),
        ec2::Route {
            route_table_id: Expr::r#ref(route_table),
            destination_cidr_block: "0.0.0.0/0".to_owned(),
            gateway_id: Some(Expr::r#ref(&igw)),
            nat_gateway_id: None,
        },
    )
    .depends_on(&attachment);
}

/// Adds the S3 gateway endpoint on every route table of the VPC, limited by `statement`
/// (`<prefix>S3Endpoint`).
pub(crate) fn add_s3_gateway_endpoint(
    t: &mut Template,
    prefix: &str,
    ids: &VpcIds,
    statement: Statement,
) {
    t.add(
        &format!("{prefix}S3Endpoint"),
        ec2::VpcEndpoint {
            vpc_id: Expr::r#ref(&ids.vpc),
            service_name: Expr::sub("com.amazonaws.${AWS::Region}.s3"),
            vpc_endpoint_type: "Gateway".to_owned(),
            policy_document: Some(PolicyDocument::new([statement
                .principal(Principal::Anyone)
                .when(
                    "StringEquals",
                    "aws:PrincipalAccount",
                    Expr::r#ref("AWS::AccountId"),
                )])),
            private_dns_enabled: None,
            route_table_ids: ids.route_tables.iter().map(Expr::r#ref).collect(),
            security_group_ids: Vec::new(),
            subnet_ids: Vec::new(),
        },
    );
}

/// Parameters of the Slack target, declared only when Slack is configured: (secret, channel).
pub(crate) fn slack_parameters(t: &mut Template, fw: &Framework) -> Option<(Expr, Expr)> {
    fw.notifications.slack.as_ref().map(|_| {
        (
            t.parameter(
                SLACK_SECRET,
                Parameter::string("Secrets Manager ARN of the Slack webhook URL."),
            ),
            t.parameter(SLACK_CHANNEL, Parameter::string("Slack channel.")),
        )
    })
}

/// Binds the Slack parameters declared by [`slack_parameters`].
pub(crate) fn bind_slack(
    fw: &Framework,
    b: &mut std::collections::BTreeMap<String, super::Binding>,
) {
    if let Some(s) = &fw.notifications.slack {
        b.insert(
            SLACK_SECRET.to_owned(),
            super::Binding::value(&s.webhook_secret_arn),
        );
        b.insert(SLACK_CHANNEL.to_owned(), super::Binding::value(&s.channel));
    }
}

/// Parameter carrying the Slack webhook secret ARN.
pub(crate) const SLACK_SECRET: &str = "SlackWebhookSecretArn";
/// Parameter carrying the Slack channel.
pub(crate) const SLACK_CHANNEL: &str = "SlackChannel";

/// Interface endpoints for `services`, in the first subnet of each availability zone (an
/// interface endpoint takes one subnet per AZ and serves the whole VPC).
pub(crate) fn add_interface_endpoints(
    t: &mut Template,
    prefix: &str,
    ids: &VpcIds,
    plan: &VpcPlan,
    security_group: &str,
    services: &[&str],
) {
    let mut seen_az = Vec::new();
    let mut subnets = Vec::new();
    for (i, s) in plan.subnets.iter().enumerate() {
        if !seen_az.contains(&s.az_index) {
            seen_az.push(s.az_index);
            subnets.push(Expr::r#ref(&ids.subnets[i]));
        }
    }
    for service in services {
        let id = format!("{prefix}{}Endpoint", pascal(service));
        t.add(
            &id,
            ec2::VpcEndpoint {
                vpc_id: Expr::r#ref(&ids.vpc),
                service_name: Expr::sub(format!("com.amazonaws.${{AWS::Region}}.{service}")),
                vpc_endpoint_type: "Interface".to_owned(),
                policy_document: None,
                private_dns_enabled: Some(true),
                route_table_ids: Vec::new(),
                security_group_ids: vec![Expr::r#ref(security_group)],
                subnet_ids: subnets.clone(),
            },
        );
    }
}

/// `ssmmessages` → `Ssmmessages`, `ec2` → `Ec2`.
pub(crate) fn pascal(s: &str) -> String {
    s.split(['-', '.'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Declares the asset parameters (filled by the deployer with the uploaded `irf-runtime` zip).
pub(crate) fn asset_parameters(t: &mut Template) {
    t.parameter(
        ASSET_BUCKET,
        Parameter::string("Bucket holding the irf-runtime Lambda asset (set by irf-synth deploy)."),
    );
    t.parameter(
        ASSET_KEY,
        Parameter::string(
            "Content-hashed key of the irf-runtime Lambda asset (set by irf-synth deploy).",
        )
        .pattern(
            r"^assets/irf-runtime-[a-z0-9_]+-[0-9a-f]{64}\.zip$",
            "an irf-runtime asset key written by irf-synth deploy",
        ),
    );
}

/// Logical id of a stack's operations key: it encrypts the stack's log groups and dead-letter
/// queues (see [`add_operations_key`]).
pub(crate) const OPERATIONS_KEY: &str = "OperationsKey";

/// Alias of a stack's operations key. One key per stack: three stacks share the security account.
pub(crate) fn operations_key_alias(fw: &Framework, kind: super::StackKind) -> String {
    format!("alias/{}/{}/operations", fw.names.prefix(), kind.slug())
}

/// Adds the stack's operations key (`OperationsKey`), which every log group and dead-letter queue
/// of the template references. Called after the last log group is added: the key policy lets
/// CloudWatch Logs use the key for exactly the template's log groups (encryption-context
/// condition), and function roles use it through SQS by their IAM policies.
pub(crate) fn add_operations_key(t: &mut Template, fw: &Framework, kind: super::StackKind) {
    let log_groups: Vec<Expr> = t
        .resources_of::<logs::LogGroup>()
        .map(|(id, g)| {
            let name = g
                .log_group_name
                .as_ref()
                .and_then(Expr::to_sub_fragment)
                .unwrap_or_else(|| {
                    panic!("log group {id} needs a literal name for the key policy")
                });
            Expr::sub(format!(
                "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}"
            ))
        })
        .collect();
    assert!(
        !log_groups.is_empty(),
        "{kind} has no log group for its operations key"
    );
    add_key(
        t,
        OPERATIONS_KEY,
        &operations_key_alias(fw, kind),
        &format!("IRF {kind}: function and workflow logs, dead-letter queues"),
        vec![
            Statement::allow(&[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ])
            .sid("CloudWatchLogsEncryptsThisStacksLogGroups")
            .principal(Principal::Service(vec![Expr::sub(
                "logs.${AWS::Region}.amazonaws.com",
            )]))
            .on_all()
            .when(
                "ArnLike",
                "kms:EncryptionContext:aws:logs:arn",
                Expr::List(log_groups),
            ),
        ],
    );
}

/// Where a function's operations key is, for [`dead_letter_statements`].
pub(crate) enum OperationsKeyRef {
    /// `OperationsKey` of the same template.
    InThisTemplate,
    /// Another stack's key, found by its alias in any region of this account (roles that a
    /// once-per-account stack creates for functions of a per-region stack).
    ByAlias(String),
}

/// What a function's role needs for its dead-letter queues: send to them, and encrypt the
/// messages through SQS with the operations key. Lambda checks the first when the function is
/// created, so the role must have it before.
pub(crate) fn dead_letter_statements(queues: Vec<Expr>, key: OperationsKeyRef) -> Vec<Statement> {
    let encrypt = Statement::allow(&["kms:GenerateDataKey", "kms:Decrypt"])
        .sid("EncryptDeadLettersThroughSqs");
    let encrypt = match key {
        OperationsKeyRef::InThisTemplate => encrypt.on([Expr::arn(OPERATIONS_KEY)]).when(
            "StringEquals",
            "kms:ViaService",
            Expr::sub("sqs.${AWS::Region}.amazonaws.com"),
        ),
        OperationsKeyRef::ByAlias(alias) => encrypt
            .on([Expr::sub(
                "arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*",
            )])
            .when(
                "ForAnyValue:StringEquals",
                "kms:ResourceAliases",
                Expr::s(alias),
            )
            .when(
                "StringLike",
                "kms:ViaService",
                Expr::s("sqs.*.amazonaws.com"),
            ),
    };
    vec![
        Statement::allow(&["sqs:SendMessage"])
            .sid("KeepFailedEventsInDeadLetterQueues")
            .on(queues),
        encrypt,
    ]
}

/// Logical id of the dead-letter queue [`add_function`] adds for an asynchronous function.
pub(crate) fn dead_letter_queue_id(function_id: &str) -> String {
    format!("{function_id}DeadLetterQueue")
}

/// Physical name of that queue, from the function's name after the org prefix.
pub(crate) fn dead_letter_queue_name(fw: &Framework, function_name: &str) -> String {
    fw.names.resource(&format!("{function_name}-dead-letters"))
}

/// How a function is invoked, which decides whether it gets a dead-letter queue.
pub(crate) enum Invocation {
    /// Asynchronously, by EventBridge or SNS (possibly also as a workflow task): events that
    /// still fail after Lambda's two retries go to an encrypted dead-letter queue, kept 14 days.
    Asynchronous,
    /// Only synchronously, as a Step Functions task: errors return to the workflow's Retry and
    /// Catch, so a dead-letter queue would never receive anything.
    WorkflowTask,
}

/// A function's share of the account's Lambda concurrency.
pub(crate) enum Concurrency<'a> {
    /// Reserved units: guaranteed against every other function of the account and region, and
    /// at the same time the function's cap.
    Reserved(u32),
    /// The account's unreserved pool; the text says why, as the `CKV_AWS_115` skip's comment.
    Shared(&'a str),
}

/// Where a function's network interfaces are.
pub(crate) enum Network<'a> {
    /// In a VPC: security groups and the subnet list.
    Vpc(Vec<Expr>, Expr),
    /// Lambda's own network. `calls` lists what the function reaches, for the `CKV_AWS_117` skip.
    Managed {
        /// The AWS APIs (and any other endpoint) the function calls.
        calls: &'a str,
    },
}

/// Why no function encrypts its environment with a customer key (`CKV_AWS_173`).
const ENVIRONMENT_HOLDS_NO_SECRETS: &str = "the variables are names, ARNs and flags, no secrets (the Slack webhook stays in Secrets Manager); Lambda encrypts them at rest with its AWS-managed key";

/// Options of a Lambda function.
pub(crate) struct FunctionSpec<'a> {
    /// Logical id.
    pub(crate) id: &'a str,
    /// Physical name (after the org prefix).
    pub(crate) name: &'a str,
    /// What it does.
    pub(crate) description: &'a str,
    pub(crate) handler: Handler,
    /// Execution role logical id or ARN expression.
    pub(crate) role: Expr,
    /// Extra environment variables.
    pub(crate) env: IndexMap<String, Expr>,
    /// Seconds.
    pub(crate) timeout: u32,
    /// MiB.
    pub(crate) memory: u32,
    /// VPC attachment, or why there is none.
    pub(crate) network: Network<'a>,
    /// Asynchronous (with a dead-letter queue) or workflow task only.
    pub(crate) invocation: Invocation,
    /// Reserved concurrency, or why the function shares the pool.
    pub(crate) concurrency: Concurrency<'a>,
}

/// Adds a function running the `irf-runtime` asset with its own log group (retention from the
/// org config, encrypted with the stack's [`OPERATIONS_KEY`]) and JSON logs, and for an
/// asynchronously invoked function its dead-letter queue (the role needs
/// [`dead_letter_statements`]).
pub(crate) fn add_function(t: &mut Template, fw: &Framework, spec: FunctionSpec<'_>) {
    let physical = fw.names.resource(spec.name);
    let log_group = format!("{}Logs", spec.id);
    t.add(
        &log_group,
        logs::LogGroup {
            log_group_name: Some(Expr::s(format!("/aws/lambda/{physical}"))),
            kms_key_id: Some(Expr::arn(OPERATIONS_KEY)),
            retention_in_days: fw.lambda.log_retention_days,
        },
    );
    let dead_letter_config = match spec.invocation {
        Invocation::Asynchronous => {
            let queue = dead_letter_queue_id(spec.id);
            t.add(
                &queue,
                sqs::Queue {
                    queue_name: Some(Expr::s(dead_letter_queue_name(fw, spec.name))),
                    kms_master_key_id: Some(Expr::arn(OPERATIONS_KEY)),
                    message_retention_period: Some(14 * 24 * 3600),
                    tags: Vec::new(),
                },
            );
            Some(lambda::DeadLetterConfig {
                target_arn: Expr::arn(&queue),
            })
        }
        Invocation::WorkflowTask => None,
    };
    let mut variables = IndexMap::new();
    variables.insert(HANDLER_ENV.to_owned(), Expr::s(spec.handler.as_str()));
    variables.insert("RUST_LOG".to_owned(), Expr::s("info"));
    variables.insert(keys::PARTITION.to_owned(), Expr::sub("${AWS::Partition}"));
    variables.extend(spec.env);
    t.add(
        spec.id,
        lambda::Function {
            function_name: Some(Expr::s(physical)),
            description: Some(spec.description.to_owned()),
            architectures: vec![fw.lambda.architecture.as_cfn().to_owned()],
            code: lambda::Code {
                s3_bucket: Expr::r#ref(ASSET_BUCKET),
                s3_key: Expr::r#ref(ASSET_KEY),
            },
            dead_letter_config,
            environment: Some(lambda::Environment { variables }),
            handler: "bootstrap".to_owned(),
            logging_config: Some(lambda::LoggingConfig {
                log_format: "JSON".to_owned(),
                log_group: Expr::r#ref(&log_group),
            }),
            memory_size: spec.memory,
            reserved_concurrent_executions: match spec.concurrency {
                Concurrency::Reserved(units) => Some(units),
                Concurrency::Shared(_) => None,
            },
            role: spec.role,
            runtime: "provided.al2023".to_owned(),
            timeout: spec.timeout,
            tracing_config: Some(lambda::TracingConfig {
                mode: "Active".to_owned(),
            }),
            vpc_config: match &spec.network {
                Network::Vpc(sgs, subnets) => Some(lambda::VpcConfig {
                    security_group_ids: sgs.clone(),
                    subnet_ids: subnets.clone(),
                }),
                Network::Managed { .. } => None,
            },
            tags: Vec::new(),
        },
    );
    let function = t.resources.get_mut(spec.id).expect("just added");
    function.skip_checkov(
        CheckovCheck::LambdaEnvironmentKms,
        ENVIRONMENT_HOLDS_NO_SECRETS,
    );
    if let Network::Managed { calls } = spec.network {
        function.skip_checkov(
            CheckovCheck::LambdaInVpc,
            &format!(
                "calls only {calls}; in a VPC it would need an interface endpoint per service or a NAT: more network paths, no narrower access"
            ),
        );
    }
    if let Invocation::WorkflowTask = spec.invocation {
        function.skip_checkov(
            CheckovCheck::LambdaDeadLetterQueue,
            "invoked only synchronously by the case workflows (Step Functions tasks): errors return to the workflow's Retry/Catch, a dead-letter queue would never receive anything",
        );
    }
    if let Concurrency::Shared(why) = spec.concurrency {
        function.skip_checkov(CheckovCheck::LambdaReservedConcurrency, why);
    }
}

/// Permission for a function's role to write its logs and traces.
pub(crate) fn logging_statements(function_names: &[String]) -> Vec<Statement> {
    vec![
        Statement::allow(&["logs:CreateLogStream", "logs:PutLogEvents"])
            .sid("WriteOwnLogs")
            .on(function_names.iter().map(|n| {
                Expr::sub(format!(
                    "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/lambda/{n}:*"
                ))
            })),
        Statement::allow(&["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
            .sid("WriteTraces")
            .on_all(),
    ]
}

/// A role for Lambda functions.
pub(crate) fn lambda_role(name: Option<&str>, description: &str) -> iam::Role {
    let mut role = iam::Role::new(PolicyDocument::service_trust(&["lambda.amazonaws.com"]));
    role.role_name = name.map(str::to_owned);
    role.description = Some(description.to_owned());
    role
}

/// Lambda may be invoked by an AWS service only from `source_arn` in this account.
pub(crate) fn add_invoke_permission(
    t: &mut Template,
    id: &str,
    function: &str,
    service: &str,
    source_arn: Expr,
) {
    t.add(
        id,
        lambda::Permission {
            action: "lambda:InvokeFunction".to_owned(),
            function_name: Expr::arn(function),
            principal: service.to_owned(),
            source_account: Some(Expr::r#ref("AWS::AccountId")),
            source_arn: Some(source_arn),
        },
    );
}
