//! `AWS::S3::*`.

use serde::Serialize;

use super::Tag;
use crate::cfn::Expr;
use crate::iam::PolicyDocument;

/// `AWS::S3::Bucket`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bucket {
    /// Physical name (`<prefix>-...`, globally unique); `None` gets a generated one.
    pub bucket_name: Option<Expr>,
    /// Encryption of objects written without their own (SSE-KMS or SSE-S3).
    pub bucket_encryption: Option<BucketEncryption>,
    /// Transitions and expiries of the bucket's objects.
    pub lifecycle_configuration: Option<LifecycleConfiguration>,
    /// Server access logging.
    pub logging_configuration: Option<LoggingConfiguration>,
    /// Object Lock default retention.
    pub object_lock_configuration: Option<ObjectLockConfiguration>,
    /// Enables Object Lock (only at creation).
    pub object_lock_enabled: Option<bool>,
    /// Who owns uploaded objects (`BucketOwnerEnforced`: ACLs are disabled).
    pub ownership_controls: Option<OwnershipControls>,
    /// Block Public Access settings of the bucket.
    pub public_access_block_configuration: Option<PublicAccessBlockConfiguration>,
    /// Versioning state; once enabled it can only be suspended, never removed.
    pub versioning_configuration: Option<VersioningConfiguration>,
    /// Resource tags beyond the stack tags, which CloudFormation propagates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// Default encryption.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryption {
    /// Encryption rules; S3 takes exactly one.
    pub server_side_encryption_configuration: Vec<EncryptionRule>,
}

impl BucketEncryption {
    /// SSE-KMS with `key` and S3 Bucket Keys.
    pub fn kms(key: Expr) -> Self {
        BucketEncryption {
            server_side_encryption_configuration: vec![EncryptionRule {
                bucket_key_enabled: true,
                server_side_encryption_by_default: EncryptionDefault {
                    sse_algorithm: "aws:kms".to_owned(),
                    kms_master_key_id: Some(key),
                },
            }],
        }
    }

    /// SSE-S3 (for buckets AWS services deliver to that cannot use a customer key).
    pub fn s3_managed() -> Self {
        BucketEncryption {
            server_side_encryption_configuration: vec![EncryptionRule {
                bucket_key_enabled: false,
                server_side_encryption_by_default: EncryptionDefault {
                    sse_algorithm: "AES256".to_owned(),
                    kms_master_key_id: None,
                },
            }],
        }
    }
}

/// One encryption rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionRule {
    /// Use S3 Bucket Keys.
    pub bucket_key_enabled: bool,
    /// Algorithm and key applied to objects written without their own encryption headers.
    pub server_side_encryption_by_default: EncryptionDefault,
}

/// Default algorithm and key.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EncryptionDefault {
    /// `aws:kms` or `AES256`.
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: String,
    /// KMS key (id or ARN) for `aws:kms`; `None` for `AES256`.
    #[serde(rename = "KMSMasterKeyID")]
    pub kms_master_key_id: Option<Expr>,
}

/// Lifecycle rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleConfiguration {
    /// Rules, each applied to the bucket's objects independently.
    pub rules: Vec<LifecycleRule>,
}

/// One lifecycle rule.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    /// Rule id, unique within the bucket's configuration.
    pub id: String,
    /// `Enabled`.
    pub status: String,
    /// Expire current versions after this many days.
    pub expiration_in_days: Option<u32>,
    /// Transitions of current versions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<Transition>,
    /// Expire noncurrent versions.
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    /// Cleans up multipart uploads that were never completed.
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
}

/// A storage-class transition.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Transition {
    /// Target storage class, e.g. `GLACIER`.
    pub storage_class: String,
    /// Days after an object's creation.
    pub transition_in_days: u32,
}

/// Noncurrent version expiry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionExpiration {
    /// Days after becoming noncurrent.
    pub noncurrent_days: u32,
}

/// Removal of incomplete multipart uploads.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortIncompleteMultipartUpload {
    /// Days after the upload started.
    pub days_after_initiation: u32,
}

/// Server access logging.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfiguration {
    /// Bucket the access logs are written to (in the same account and region).
    pub destination_bucket_name: Expr,
    /// Key prefix of the log objects, ending in `/`.
    pub log_file_prefix: String,
}

/// Object Lock default retention.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectLockConfiguration {
    /// `Enabled` (the only value).
    pub object_lock_enabled: String,
    /// Default retention rule.
    pub rule: ObjectLockRule,
}

/// Object Lock rule holding the default retention.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectLockRule {
    /// Retention applied to every new object version that sets none itself.
    pub default_retention: DefaultRetention,
}

/// Default retention: mode and period.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefaultRetention {
    /// `GOVERNANCE` or `COMPLIANCE`.
    pub mode: String,
    /// Retention period in days.
    pub days: u32,
}

/// Object ownership.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    /// Ownership rules; S3 takes exactly one.
    pub rules: Vec<OwnershipRule>,
}

impl OwnershipControls {
    /// `BucketOwnerEnforced`: ACLs disabled, the bucket owner owns every object.
    pub fn owner_enforced() -> Self {
        OwnershipControls {
            rules: vec![OwnershipRule {
                object_ownership: "BucketOwnerEnforced".to_owned(),
            }],
        }
    }
}

/// Object ownership setting of the bucket.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipRule {
    /// `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`.
    pub object_ownership: String,
}

/// Block Public Access settings of a bucket.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlockConfiguration {
    /// Rejects requests that set a public ACL.
    pub block_public_acls: bool,
    /// Rejects bucket policies that grant public access.
    pub block_public_policy: bool,
    /// Ignores any public ACL already present.
    pub ignore_public_acls: bool,
    /// Limits a bucket with a public policy to AWS services and the owner's account.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlockConfiguration {
    /// Everything blocked.
    pub fn all() -> Self {
        PublicAccessBlockConfiguration {
            block_public_acls: true,
            block_public_policy: true,
            ignore_public_acls: true,
            restrict_public_buckets: true,
        }
    }
}

/// Versioning state of a bucket.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersioningConfiguration {
    /// `Enabled`.
    pub status: String,
}

impl VersioningConfiguration {
    /// Versioning on.
    pub fn enabled() -> Self {
        VersioningConfiguration {
            status: "Enabled".to_owned(),
        }
    }
}

/// `AWS::S3::BucketPolicy`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketPolicy {
    /// Name of the bucket the policy is attached to.
    pub bucket: Expr,
    /// The policy document.
    pub policy_document: PolicyDocument,
}
