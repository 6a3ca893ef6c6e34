//! Validated identifiers: each newtype can only be built from a well-formed string.

use std::fmt;

use serde::Serialize;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The identifier as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A 12-digit AWS account id.
    AccountId
);
id_type!(
    /// An AWS Organizations id, `o-` followed by 10 to 32 lowercase letters or digits.
    OrgId
);
id_type!(
    /// An organizational unit id, `ou-<root>-<8..32>`.
    OuId
);
id_type!(
    /// An EC2 image id, `ami-` followed by 8 or 17 hex digits.
    AmiId
);

impl AccountId {
    /// Parses a 12-digit account id; the error says what is wrong with the string.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_owned()))
        } else if s.bytes().all(|b| b.is_ascii_digit()) {
            Err(format!(
                "account id must be exactly 12 digits, got {} digits in {s:?}",
                s.len()
            ))
        } else {
            Err(format!("account id must be exactly 12 digits, got {s:?}"))
        }
    }
}

impl OrgId {
    /// Parses an organization id such as `o-a1b2c3d4e5`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = s.strip_prefix("o-").is_some_and(|rest| {
            (10..=32).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if ok {
            Ok(OrgId(s.to_owned()))
        } else {
            Err(format!(
                "organization id must be \"o-\" followed by 10 to 32 lowercase letters or digits, got {s:?}"
            ))
        }
    }
}

impl OuId {
    /// Parses an organizational unit id such as `ou-ab12-cd34ef56`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(3, '-');
        let ok = parts.next() == Some("ou")
            && parts
                .next()
                .is_some_and(|r| (4..=32).contains(&r.len()) && is_lower_alnum(r))
            && parts
                .next()
                .is_some_and(|u| (8..=32).contains(&u.len()) && is_lower_alnum(u));
        if ok {
            Ok(OuId(s.to_owned()))
        } else {
            Err(format!(
                "organizational unit id must look like \"ou-ab12-cd34ef56\", got {s:?}"
            ))
        }
    }
}

impl AmiId {
    /// Parses an AMI id such as `ami-0123456789abcdef0`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = s.strip_prefix("ami-").is_some_and(|hex| {
            (hex.len() == 8 || hex.len() == 17)
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(AmiId(s.to_owned()))
        } else {
            Err(format!(
                "AMI id must be \"ami-\" followed by 8 or 17 lowercase hex digits, got {s:?}"
            ))
        }
    }
}

fn is_lower_alnum(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        assert!(AccountId::parse("111111111111").is_ok());
        assert!(
            AccountId::parse("11111111111")
                .unwrap_err()
                .contains("11 digits")
        );
        assert!(AccountId::parse("11111111111a").is_err());
    }

    #[test]
    fn org_ou_and_ami_ids() {
        assert!(OrgId::parse("o-a1b2c3d4e5").is_ok());
        assert!(OrgId::parse("o-A1B2C3D4E5").is_err());
        assert!(OrgId::parse("o-short").is_err());
        assert!(OuId::parse("ou-ab12-cd34ef56").is_ok());
        assert!(OuId::parse("ou-ab12").is_err());
        assert!(AmiId::parse("ami-0123456789abcdef0").is_ok());
        assert!(AmiId::parse("ami-12345678").is_ok());
        assert!(AmiId::parse("ami-0123456789ABCDEF0").is_err());
        assert!(AmiId::parse("i-0123456789abcdef0").is_err());
    }
}
