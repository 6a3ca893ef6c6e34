//! AWS partitions and the regions the framework knows how to deploy into.
//!
//! The table is deliberately explicit: an unknown region name in `org.toml` is far more often a
//! typo (`us-east1`, `eu-west-4`) than a region launched yesterday, and deploying half an
//! incident-response framework into a misspelt region fails late and confusingly. Adding a region
//! is a one-line change here.

use std::fmt;

/// An AWS partition: the isolated "copy" of AWS a set of regions belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partition {
    /// The commercial partition (`aws`).
    Aws,
    /// The China partition (`aws-cn`).
    AwsCn,
    /// AWS GovCloud (US) (`aws-us-gov`).
    AwsUsGov,
}

impl Partition {
    /// Every supported partition.
    pub const ALL: [Partition; 3] = [Partition::Aws, Partition::AwsCn, Partition::AwsUsGov];

    /// The partition's name as it appears in ARNs.
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    /// Parses a partition name as it appears in ARNs.
    pub fn parse(s: &str) -> Option<Partition> {
        Partition::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The DNS suffix of service endpoints in this partition.
    pub fn dns_suffix(self) -> &'static str {
        match self {
            Partition::AwsCn => "amazonaws.com.cn",
            Partition::Aws | Partition::AwsUsGov => "amazonaws.com",
        }
    }

    /// The regions of this partition known to the framework.
    pub fn regions(self) -> impl Iterator<Item = &'static RegionInfo> {
        REGIONS.iter().filter(move |r| r.partition == self)
    }
}

impl serde::Serialize for Partition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Static facts about one region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionInfo {
    /// Region code, e.g. `eu-west-1`.
    pub name: &'static str,
    /// Partition the region belongs to.
    pub partition: Partition,
    /// Number of availability zones every account can use there. Subnets are spread round-robin
    /// over `min(3, usable_azs)` zones with `Fn::GetAZs`, so this must never overstate.
    pub usable_azs: u8,
}

macro_rules! regions {
    ($($name:literal $part:ident $azs:literal),* $(,)?) => {
        &[$(RegionInfo { name: $name, partition: Partition::$part, usable_azs: $azs }),*]
    };
}

/// Every region the framework accepts.
pub static REGIONS: &[RegionInfo] = regions![
    "af-south-1" Aws 3, "ap-east-1" Aws 3, "ap-east-2" Aws 3, "ap-northeast-1" Aws 3,
    "ap-northeast-2" Aws 3, "ap-northeast-3" Aws 3, "ap-south-1" Aws 3, "ap-south-2" Aws 3,
    "ap-southeast-1" Aws 3, "ap-southeast-2" Aws 3, "ap-southeast-3" Aws 3,
    "ap-southeast-4" Aws 3, "ap-southeast-5" Aws 3, "ap-southeast-6" Aws 3,
    "ap-southeast-7" Aws 3, "ca-central-1" Aws 3, "ca-west-1" Aws 3, "eu-central-1" Aws 3,
    "eu-central-2" Aws 3, "eu-north-1" Aws 3, "eu-south-1" Aws 3, "eu-south-2" Aws 3,
    "eu-west-1" Aws 3, "eu-west-2" Aws 3, "eu-west-3" Aws 3, "il-central-1" Aws 3,
    "me-central-1" Aws 3, "me-south-1" Aws 3, "mx-central-1" Aws 3, "sa-east-1" Aws 3,
    "us-east-1" Aws 3, "us-east-2" Aws 3, "us-west-1" Aws 2, "us-west-2" Aws 3,
    "cn-north-1" AwsCn 2, "cn-northwest-1" AwsCn 3,
    "us-gov-east-1" AwsUsGov 3, "us-gov-west-1" AwsUsGov 3,
];

/// A validated region code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(&'static str);

impl Region {
    /// Looks a region code up in the table.
    pub fn lookup(name: &str) -> Option<Region> {
        REGIONS
            .iter()
            .find(|r| r.name == name)
            .map(|r| Region(r.name))
    }

    /// The region code.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// Static facts about the region.
    pub fn info(self) -> &'static RegionInfo {
        REGIONS
            .iter()
            .find(|r| r.name == self.0)
            .expect("a Region is only built from the table")
    }

    /// The partition the region belongs to.
    pub fn partition(self) -> Partition {
        self.info().partition
    }

    /// How many availability zones subnets are spread over (at most three).
    pub fn spread_azs(self) -> u8 {
        self.info().usable_azs.min(3)
    }
}

impl serde::Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_is_unique_and_well_formed() {
        let mut names: Vec<_> = REGIONS.iter().map(|r| r.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate region in the table");
        for r in REGIONS {
            assert!(r.usable_azs >= 2, "{} must have at least two AZs", r.name);
            let prefix_ok = match r.partition {
                Partition::AwsCn => r.name.starts_with("cn-"),
                Partition::AwsUsGov => r.name.starts_with("us-gov-"),
                Partition::Aws => !r.name.starts_with("cn-") && !r.name.starts_with("us-gov-"),
            };
            assert!(prefix_ok, "{} is in the wrong partition", r.name);
        }
    }

    #[test]
    fn lookup_and_partition() {
        let r = Region::lookup("cn-north-1").unwrap();
        assert_eq!(r.partition(), Partition::AwsCn);
        assert_eq!(r.spread_azs(), 2);
        assert!(Region::lookup("us-east1").is_none());
        assert_eq!(Partition::parse("aws-us-gov"), Some(Partition::AwsUsGov));
        assert_eq!(Partition::parse("aws-iso"), None);
    }
}
