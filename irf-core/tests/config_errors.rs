//! Bad org configs: each must be rejected with the file, line:column, key path, what is wrong and
//! how to fix it. The cases start from the valid example org and change one thing.

use std::path::Path;

use irf_core::config::{self, ConfigError, ConfigErrorKind};

const EXAMPLE: &str = include_str!("../../examples/org.toml");

fn reject(text: &str) -> ConfigError {
    match config::parse(Path::new("bad/org.toml"), text) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(e) => e,
    }
}

/// Replaces exactly one occurrence of `from` in the example.
fn edit(from: &str, to: &str) -> String {
    assert_eq!(EXAMPLE.matches(from).count(), 1, "ambiguous edit {from:?}");
    EXAMPLE.replacen(from, to, 1)
}

/// 1-based line of the first occurrence of `needle` in `text`; when the needle contains `>>`,
/// the line where the marker stands (to pick one of several identical lines).
fn line_of(text: &str, needle: &str) -> usize {
    let (before, after) = needle.split_once(">>").unwrap_or(("", needle));
    let full = format!("{before}{after}");
    let at = text
        .find(&full)
        .unwrap_or_else(|| panic!("{full:?} not in text"))
        + before.len();
    text[..at].matches('\n').count() + 1
}

struct Case {
    name: &'static str,
    text: String,
    /// Key path reported.
    path: &'static str,
    /// Fragment of the message.
    message: &'static str,
    /// Fragment of the help.
    help: &'static str,
    /// Text on the reported line (the line number must point at it).
    line_has: &'static str,
}

fn cases() -> Vec<Case> {
    let c = |name, text: String, path, message, help, line_has| Case {
        name,
        text,
        path,
        message,
        help,
        line_has,
    };
    vec![
        c(
            "account id too short",
            edit(
                "account_id = \"111111111111\"",
                "account_id = \"11111111111\"",
            ),
            "security.account_id",
            "exactly 12 digits, got 11 digits",
            "12-digit id of the security account",
            "account_id = \"11111111111\"",
        ),
        c(
            "account id as bare integer",
            edit("account_id = \"222222222222\"", "account_id = 222222222222"),
            "forensics.account_id",
            "wrong type",
            "quote account ids",
            "account_id = 222222222222",
        ),
        c(
            "security and forensics are one account",
            edit(
                "account_id = \"222222222222\"",
                "account_id = \"111111111111\"",
            ),
            "forensics.account_id",
            "already the security account",
            "separate account",
            "[forensics]\n>>account_id",
        ),
        c(
            "member is the forensics account",
            edit(
                "account_id = \"444444444444\"",
                "account_id = \"222222222222\"",
            ),
            "members[1].account_id",
            "already the forensics account",
            "exactly one role",
            "account_id = \"222222222222\"\nregions = [\"us-east-1\"]",
        ),
        c(
            "duplicate member account",
            edit(
                "account_id = \"555555555555\"",
                "account_id = \"333333333333\"",
            ),
            "members[2].account_id",
            "already listed as members[0]",
            "list each member account once",
            "account_id = \"333333333333\"\nregions = [\"eu-west-1\"]",
        ),
        c(
            "duplicate member name",
            edit("name = \"web\"", "name = \"payments\""),
            "members[1].name",
            "already used by members[0]",
            "distinct name",
            "name = \"payments\"\naccount_id = \"444444444444\"",
        ),
        c(
            "misspelt key",
            edit("home_region = \"us-east-1\"", "home_regoin = \"us-east-1\""),
            "organization.home_regoin",
            "unknown key `home_regoin`",
            "did you mean `home_region`?",
            "home_regoin",
        ),
        c(
            "unknown section",
            edit("[containment]", "[containmint]"),
            "containmint",
            "unknown key `containmint`",
            "did you mean `containment`?",
            "[containmint]",
        ),
        c(
            "unknown region",
            edit("regions = [\"eu-west-1\"]", "regions = [\"eu-west1\"]"),
            "members[2].regions[0]",
            "unknown region \"eu-west1\"",
            "did you mean \"eu-west-1\"?",
            "regions = [\"eu-west1\"]",
        ),
        c(
            "region outside the partition",
            edit(
                "home_region = \"us-east-1\"",
                "home_region = \"cn-north-1\"",
            ),
            "organization.home_region",
            "is in partition aws-cn, but organization.partition is aws",
            "one partition",
            "home_region = \"cn-north-1\"",
        ),
        c(
            "malformed org id",
            edit("id = \"o-exampleorg1\"", "id = \"org-123\""),
            "organization.id",
            "organization id must be \"o-\"",
            "AWS Organizations > Settings",
            "id = \"org-123\"",
        ),
        c(
            "invalid CIDR",
            edit(
                "ir_vpc_cidr = \"10.192.0.0/16\"",
                "ir_vpc_cidr = \"10.192.0.0/33\"",
            ),
            "network.ir_vpc_cidr",
            "is not an IPv4 CIDR block",
            "address/prefix",
            "ir_vpc_cidr",
        ),
        c(
            "CIDR with host bits",
            edit(
                "ir_vpc_cidr = \"10.192.0.0/16\"",
                "ir_vpc_cidr = \"10.192.7.0/16\"",
            ),
            "network.ir_vpc_cidr",
            "has host bits set",
            "did you mean \"10.192.0.0/16\"?",
            "ir_vpc_cidr",
        ),
        c(
            "overlapping CIDRs",
            edit(
                "ir_vpc_cidr = \"10.192.0.0/16\"",
                "ir_vpc_cidr = \"10.66.128.0/17\"",
            ),
            "network.ir_vpc_cidr",
            "overlaps network.analysis_vpc_cidr (10.66.0.0/16)",
            "its own block",
            "ir_vpc_cidr",
        ),
        c(
            "subnets do not fit the VPC",
            edit(
                "analysis_subnets = 3",
                "analysis_subnets = 4\nanalysis_subnet_prefix = 17",
            ),
            "network.analysis_subnets",
            "4 subnets of /17 do not fit in 10.66.0.0/16 (room for 2)",
            "use fewer subnets",
            "analysis_subnets = 4",
        ),
        c(
            "too many analysis subnets",
            edit("analysis_subnets = 3", "analysis_subnets = 201"),
            "network.analysis_subnets",
            "201 analysis subnets requested",
            "between 1 and 200",
            "analysis_subnets = 201",
        ),
        c(
            "retention out of range",
            edit("retention_days = 90", "retention_days = 0"),
            "evidence.retention_days",
            "retention of 0 days is out of range",
            "1 to 36500 days",
            "retention_days = 0",
        ),
        c(
            "expiry before archive",
            edit("expire_after_days = 2555", "expire_after_days = 300"),
            "evidence.expire_after_days",
            "expire after 300 days, before it is archived after 395 days",
            "larger than glacier_after_days",
            "expire_after_days = 300",
        ),
        c(
            "unknown lock mode",
            edit("lock_mode = \"governance\"", "lock_mode = \"compliant\""),
            "evidence.lock_mode",
            "unknown lock mode \"compliant\"",
            "did you mean \"compliance\"?",
            "lock_mode = \"compliant\"",
        ),
        c(
            "prefix with invalid characters",
            edit("prefix = \"irf\"", "prefix = \"IRF_prod\""),
            "organization.prefix",
            "cannot start bucket, stack and function names",
            "lowercase letters",
            "prefix = \"IRF_prod\"",
        ),
        c(
            "prefix makes a bucket name too long",
            edit(
                "prefix = \"irf\"",
                "prefix = \"incident-response-framework-prod\"",
            ),
            "organization.prefix",
            "S3 allows 3 to 63",
            "shorter prefix",
            "prefix = \"incident-response-framework-prod\"",
        ),
        c(
            "malformed AMI id",
            edit("\"ami-0a1b2c3d4e5f60718\"", "\"ami-0A1B2C3D\""),
            "module_factory.amis[0]",
            "AMI id must be \"ami-\"",
            "ami-0123456789abcdef0",
            "amis = [",
        ),
        c(
            "the former single builder type",
            edit(
                "kernels = 3\n",
                "kernels = 3\ninstance_type = \"t3.large\"\n",
            ),
            "module_factory.instance_type",
            "cannot build arm64 AMIs",
            "[module_factory.instance_types] x86_64 = \"t3.large\" and arm64 = \"t4g.large\"",
            "instance_type = \"t3.large\"",
        ),
        c(
            "an x86 builder type for arm64 AMIs",
            edit("arm64 = \"t4g.large\"", "arm64 = \"m5.large\""),
            "module_factory.instance_types.arm64",
            "is an x86 type, so arm64 AMIs cannot boot on it",
            "a Graviton type such as \"t4g.large\"",
            "arm64 = \"m5.large\"",
        ),
        c(
            "a Graviton builder type for x86_64 AMIs",
            edit("x86_64 = \"t3.large\"", "x86_64 = \"c7gn.xlarge\""),
            "module_factory.instance_types.x86_64",
            "is a Graviton (arm64) type",
            "an x86 type such as \"t3.large\"",
            "x86_64 = \"c7gn.xlarge\"",
        ),
        c(
            "too many kernels per AMI",
            edit("kernels = 3\n", "kernels = 40\n"),
            "module_factory.kernels",
            "40 kernels per AMI is outside 1..=20",
            "kernels = 3",
            "kernels = 40",
        ),
        c(
            "a watched parameter that is no parameter name",
            edit(
                "watch_parameters = [\"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\"]",
                "watch_parameters = [\"al2023 latest\"]",
            ),
            "module_factory.watch_parameters[0]",
            "is not an SSM parameter name",
            "/aws/service/ami-amazon-linux-latest/",
            "watch_parameters = [",
        ),
        c(
            "plain webhook URL instead of a secret ARN",
            edit(
                "webhook_secret_arn = \"arn:aws:secretsmanager:us-east-1:111111111111:secret:irf/slack-webhook-Ab12Cd\"",
                "webhook_secret_arn = \"https://hooks.slack.com/services/T000/B000/XXXX\"",
            ),
            "notifications.slack.webhook_secret_arn",
            "this is a webhook URL",
            "aws secretsmanager create-secret",
            "webhook_secret_arn",
        ),
        c(
            "malformed schedule",
            edit(
                "schedule = \"cron(0 9 ? * sun *)\"",
                "schedule = \"every sunday\"",
            ),
            "sift.schedule",
            "is not a cron(...) expression",
            "cron(0 9 ? * sun *)",
            "schedule = \"every sunday\"",
        ),
        c(
            "cron with both day fields set",
            edit(
                "schedule = \"cron(0 9 ? * sun *)\"",
                "schedule = \"cron(0 9 1 * sun *)\"",
            ),
            "sift.schedule",
            "must use '?' in day-of-month or day-of-week",
            "cron(0 9 ? * sun *)",
            "schedule = \"cron(0 9 1 * sun *)\"",
        ),
        c(
            "reserved aws: tag key",
            edit(
                "CostCenter = \"security-operations\"",
                "\"aws:cost\" = \"security-operations\"",
            ),
            "tags.\"aws:cost\"",
            "reserved aws: prefix",
            "pick another key",
            "\"aws:cost\"",
        ),
        c(
            "framework tag key in [tags]",
            edit(
                "Owner = \"soc@example.com\"",
                "SecurityIncidentStatus = \"Analyze\"",
            ),
            "tags.SecurityIncidentStatus",
            "part of the incident-response protocol",
            "use another key",
            "SecurityIncidentStatus = \"Analyze\"",
        ),
        c(
            "unknown memory method",
            edit(
                "memory_methods = [\"kcore\", \"lime\"]",
                "memory_methods = [\"kcore\", \"avml\"]",
            ),
            "acquisition.memory_methods[1]",
            "unknown memory method \"avml\"",
            "\"kcore\"",
            "memory_methods",
        ),
        c(
            "member with no regions",
            edit("regions = [\"us-east-1\"]\n", "regions = []\n"),
            "members[1].regions",
            "at least one region",
            "regions = [\"us-east-1\"]",
            "regions = []",
        ),
        c(
            "member with both account and OU",
            edit(
                "account_id = \"444444444444\"",
                "account_id = \"444444444444\"\nou = \"ou-ab12-cd34ef56\"",
            ),
            "members[1].ou",
            "either one account or one OU",
            "StackSet",
            "ou = \"ou-ab12-cd34ef56\"",
        ),
        c(
            "missing required key",
            edit("home_region = \"us-east-1\"\n", ""),
            "organization",
            "missing key `home_region`",
            "add `home_region = ...`",
            "[organization]",
        ),
        c(
            "unaccepted log retention",
            edit("[tags]", "[lambda]\nlog_retention_days = 100\n\n[tags]"),
            "lambda.log_retention_days",
            "does not accept a retention of 100 days",
            "nearest accepted value is 90",
            "log_retention_days = 100",
        ),
        c(
            "slack channel without #",
            edit(
                "channel = \"#security-incidents\"",
                "channel = \"security incidents\"",
            ),
            "notifications.slack.channel",
            "is not a Slack channel",
            "starting with '#'",
            "channel = \"security incidents\"",
        ),
        c(
            "cast checksum not a SHA-256",
            edit(
                "cast_sha256 = \"5b1cbf0bb0a4f0d2a0e74c1ef9a6fd3e5c5f0c0f5a6c8bbd3a1c0e1f8d7b9a61\"",
                "cast_sha256 = \"d41d8cd98f00b204e9800998ecf8427e\"",
            ),
            "sift.cast_sha256",
            "is not a SHA-256",
            "checksums file",
            "cast_sha256 = \"d41d8cd98f00b204e9800998ecf8427e\"",
        ),
    ]
}

#[test]
fn every_bad_config_is_rejected_with_location_path_and_fix() {
    let cases = cases();
    assert!(cases.len() >= 25, "the issue asks for at least 25 cases");
    for case in cases {
        let err = reject(&case.text);
        assert_eq!(err.kind, ConfigErrorKind::Invalid, "{}", case.name);
        let d = err
            .diagnostics
            .iter()
            .find(|d| d.path == case.path)
            .unwrap_or_else(|| panic!("{}: no diagnostic at {}:\n{err}", case.name, case.path));
        assert!(
            d.message.contains(case.message),
            "{}: message {:?} lacks {:?}",
            case.name,
            d.message,
            case.message
        );
        assert!(
            d.help.contains(case.help),
            "{}: help {:?} lacks {:?}",
            case.name,
            d.help,
            case.help
        );
        let span = d
            .span
            .clone()
            .unwrap_or_else(|| panic!("{}: no span", case.name));
        let (line, col) = err.line_col(span.start);
        let expected_line = line_of(&case.text, case.line_has);
        assert_eq!(line, expected_line, "{}: wrong line in\n{err}", case.name);
        let rendered = err.to_string();
        let location = format!("bad/org.toml:{line}:{col}: {}", case.path);
        assert!(
            rendered.contains(&location),
            "{}: rendering lacks {location:?}:\n{rendered}",
            case.name
        );
        assert!(rendered.contains("= help: "), "{}", case.name);
    }
}

#[test]
fn empty_and_non_toml_files_are_rejected() {
    let empty = reject("  \n\n");
    assert!(empty.to_string().contains("the org config is empty"));
    assert!(empty.to_string().contains("irf-synth init"));

    let yaml = reject("organization:\n  id: o-exampleorg1\n");
    let text = yaml.to_string();
    assert!(text.contains("not valid TOML"), "{text}");
    assert!(text.contains("bad/org.toml:1:"), "{text}");
}

#[test]
fn unreadable_file_is_its_own_kind() {
    let err = config::load(Path::new("/nonexistent/org.toml")).unwrap_err();
    assert_eq!(err.kind, ConfigErrorKind::Unreadable);
    assert!(err.to_string().contains("/nonexistent/org.toml"));
}

#[test]
fn all_problems_are_reported_at_once() {
    let text = EXAMPLE
        .replacen("retention_days = 90", "retention_days = 0", 1)
        .replacen("lock_mode = \"governance\"", "lock_mode = \"strict\"", 1)
        .replacen("\"ami-0a1b2c3d4e5f60718\"", "\"ami-x\"", 1);
    let err = reject(&text);
    let paths: Vec<&str> = err.diagnostics.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "evidence.retention_days",
            "evidence.lock_mode",
            "module_factory.amis[0]"
        ]
    );
}

#[test]
fn rendering_is_a_compiler_style_snippet() {
    let err = reject(&edit(
        "account_id = \"111111111111\"",
        "account_id = \"11111111111\"",
    ));
    insta::assert_snapshot!(err.to_string(), @r#"
    error: bad/org.toml:11:14: security.account_id: account id must be exactly 12 digits, got 11 digits in "11111111111"
       |
    11 | account_id = "11111111111"
       |              ^^^^^^^^^^^^^
      = help: use the 12-digit id of the security account, quoted, e.g. account_id = "111111111111"
    "#);
}
