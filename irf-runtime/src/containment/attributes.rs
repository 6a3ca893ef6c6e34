//! Instance attributes that keep evidence: termination protection, stop (not terminate) on
//! shutdown from inside, and EBS volumes kept when the instance terminates.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, AttributeValue, EbsInstanceBlockDeviceSpecification,
    InstanceAttributeName, InstanceBlockDeviceMappingSpecification,
};

use crate::error::{self, Result};

/// The shutdown behaviour that keeps the instance (and its memory and disks) around.
pub(crate) const STOP: &str = "stop";

/// Reads (termination protection, shutdown behaviour).
pub(super) async fn read(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(bool, String)> {
    let attr = |name: InstanceAttributeName| {
        ec2.describe_instance_attribute()
            .instance_id(id)
            .attribute(name)
            .send()
    };
    let (termination, shutdown) = tokio::join!(
        attr(InstanceAttributeName::DisableApiTermination),
        attr(InstanceAttributeName::InstanceInitiatedShutdownBehavior),
    );
    let termination = termination.map_err(|e| error::aws("ec2:DescribeInstanceAttribute", e))?;
    let shutdown = shutdown.map_err(|e| error::aws("ec2:DescribeInstanceAttribute", e))?;
    Ok((
        termination
            .disable_api_termination()
            .and_then(|v| v.value())
            .unwrap_or(false),
        shutdown
            .instance_initiated_shutdown_behavior()
            .and_then(|v| v.value())
            .unwrap_or(STOP)
            .to_owned(),
    ))
}

/// Turns termination protection on or off.
pub(super) async fn set_termination_protection(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    on: bool,
) -> Result<()> {
    ec2.modify_instance_attribute()
        .instance_id(id)
        .disable_api_termination(AttributeBooleanValue::builder().value(on).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error::aws("ec2:ModifyInstanceAttribute (termination protection)", e))
}

/// Sets what a shutdown from inside the instance does (`stop` or `terminate`).
pub(super) async fn set_shutdown_behavior(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    behavior: &str,
) -> Result<()> {
    ec2.modify_instance_attribute()
        .instance_id(id)
        .instance_initiated_shutdown_behavior(AttributeValue::builder().value(behavior).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error::aws("ec2:ModifyInstanceAttribute (shutdown behaviour)", e))
}

/// Sets delete-on-termination per device; `what` names the step in errors.
pub(super) async fn set_delete_on_termination(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    devices: &BTreeMap<String, bool>,
    what: &str,
) -> Result<()> {
    let mappings = devices
        .iter()
        .map(|(device, delete)| {
            InstanceBlockDeviceMappingSpecification::builder()
                .device_name(device)
                .ebs(
                    EbsInstanceBlockDeviceSpecification::builder()
                        .delete_on_termination(*delete)
                        .build(),
                )
                .build()
        })
        .collect();
    ec2.modify_instance_attribute()
        .instance_id(id)
        .set_block_device_mappings(Some(mappings))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error::aws(&format!("ec2:ModifyInstanceAttribute ({what})"), e))
}
