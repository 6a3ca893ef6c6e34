//! The network plan: every VPC and subnet CIDR, decided once from `[network]`.

use ipnet::Ipv4Net;
use serde::Serialize;

/// One subnet and the availability-zone slot it goes into (`Fn::GetAZs` index).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubnetPlan {
    /// The subnet's CIDR.
    pub cidr: Ipv4Net,
    /// Index into `Fn::GetAZs` of the home region.
    pub az_index: u8,
}

/// A VPC and its subnets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VpcPlan {
    /// The VPC's CIDR.
    pub cidr: Ipv4Net,
    /// Its subnets, in order.
    pub subnets: Vec<SubnetPlan>,
}

/// Every network of the framework.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkPlan {
    /// Forensics account: isolated analysis VPC (no internet), one subnet per analysis slot.
    pub analysis: VpcPlan,
    /// Forensics account: maintenance VPC with NAT for Image Builder; subnet 0 public, 1 private.
    pub maintenance: VpcPlan,
    /// Security account: isolated IR VPC (no internet) for the evidence-imaging functions.
    pub ir: VpcPlan,
    /// Security account: small public VPC where module-factory builders run (no inbound).
    pub factory: VpcPlan,
}

/// Carves `count` subnets of prefix length `prefix` from the start of `vpc`, spread round-robin
/// over `azs` availability zones. `None` when they do not fit.
pub fn carve(vpc: Ipv4Net, prefix: u8, count: usize, azs: u8) -> Option<Vec<SubnetPlan>> {
    if prefix < vpc.prefix_len() || prefix > 28 {
        return None;
    }
    let subnets = vpc.subnets(prefix).ok()?;
    let planned: Vec<SubnetPlan> = subnets
        .take(count)
        .enumerate()
        .map(|(i, cidr)| SubnetPlan {
            cidr,
            az_index: u8::try_from(i % usize::from(azs.max(1))).unwrap_or(0),
        })
        .collect();
    (planned.len() == count).then_some(planned)
}

/// How many subnets of length `prefix` fit in `vpc`.
pub fn capacity(vpc: Ipv4Net, prefix: u8) -> u64 {
    if prefix < vpc.prefix_len() {
        return 0;
    }
    1u64 << u32::from(prefix - vpc.prefix_len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carves_round_robin() {
        let vpc: Ipv4Net = "10.66.0.0/16".parse().unwrap();
        let s = carve(vpc, 24, 4, 3).unwrap();
        let cidrs: Vec<String> = s.iter().map(|p| p.cidr.to_string()).collect();
        assert_eq!(
            cidrs,
            [
                "10.66.0.0/24",
                "10.66.1.0/24",
                "10.66.2.0/24",
                "10.66.3.0/24"
            ]
        );
        let azs: Vec<u8> = s.iter().map(|p| p.az_index).collect();
        assert_eq!(azs, [0, 1, 2, 0]);
        assert!(carve(vpc, 24, 257, 3).is_none());
        assert!(carve(vpc, 12, 1, 3).is_none());
        assert_eq!(capacity(vpc, 24), 256);
    }
}
