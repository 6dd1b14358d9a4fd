//! Proxy-only subnet ranges: validate a user's range, or pick a free one.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::error;

pub const PRIVATE: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
pub const AUTO_MODE_BLOCK: &str = "10.128.0.0/9";
/// Google's recommended size for a proxy-only subnet.
pub const DEFAULT_PREFIX: u8 = 23;
/// The smallest proxy-only subnet Google accepts (64 addresses).
pub const MAX_PREFIX: u8 = 26;

/// A range that is already used, and what uses it (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub range: Ipv4Net,
    pub what: String,
}

pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

fn private_blocks() -> Vec<Ipv4Net> {
    PRIVATE.iter().map(|p| p.parse().expect("constant")).collect()
}

pub fn is_private(n: &Ipv4Net) -> bool {
    private_blocks().iter().any(|b| b.contains(n))
}

/// Validate `--proxy-subnet-range`: syntax, size, private space, no overlap.
pub fn validate(input: &str, taken: &[Taken]) -> anyhow::Result<Ipv4Net> {
    let example = "write it as an address and prefix length, e.g. --proxy-subnet-range 10.120.0.0/23";
    let s = input.trim();
    let Some((addr, len)) = s.split_once('/') else {
        return Err(error::usage(
            format!("`{input}` is not a CIDR range: the /prefix length is missing"),
            example,
        ));
    };
    let addr: Ipv4Addr = addr.parse().map_err(|_| {
        error::usage(
            format!("`{input}` is not a CIDR range: `{addr}` is not an IPv4 address"),
            example,
        )
    })?;
    let len: u8 = len.parse().map_err(|_| {
        error::usage(
            format!("`{input}` is not a CIDR range: `/{len}` is not a prefix length"),
            example,
        )
    })?;
    let net = Ipv4Net::new(addr, len).map_err(|_| {
        error::usage(
            format!("`{input}` is not a CIDR range: the prefix length must be 0 to 32"),
            example,
        )
    })?;
    if net.trunc() != net {
        return Err(error::usage(
            format!("`{input}` has bits set after the /{len} prefix"),
            format!("did you mean --proxy-subnet-range {}?", net.trunc()),
        ));
    }
    if len > MAX_PREFIX {
        return Err(error::usage(
            format!(
                "`{input}` is too small: a proxy-only subnet needs at least 64 addresses (/{MAX_PREFIX} or larger)"
            ),
            format!(
                "Google recommends a /{DEFAULT_PREFIX}, e.g. --proxy-subnet-range {}",
                Ipv4Net::new(addr, DEFAULT_PREFIX).map(|n| n.trunc()).unwrap_or(net)
            ),
        ));
    }
    if len < 8 {
        return Err(error::usage(
            format!("`{input}` is far too large for a proxy-only subnet"),
            format!("use a /{DEFAULT_PREFIX}"),
        ));
    }
    if !is_private(&net) {
        return Err(error::usage(
            format!("`{input}` is not in private address space (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)"),
            "a proxy-only subnet for an internal load balancer should use a private range; omit --proxy-subnet-range to have a free one chosen",
        ));
    }
    if let Some(t) = taken.iter().find(|t| overlaps(&t.range, &net)) {
        let free = pick_free(taken, len)
            .map(|f| format!("; {f} is free"))
            .unwrap_or_default();
        return Err(error::usage(
            format!("`{input}` overlaps {} ({})", t.what, t.range),
            format!("choose a range that overlaps nothing in the VPC or the cluster{free}"),
        ));
    }
    Ok(net)
}

/// The first free, aligned block of `prefix` in private space that overlaps nothing taken.
/// Search order: 10.120.0.0 upward (where Google's own examples live), then the rest of
/// 10.0.0.0/8, then 172.16.0.0/12, then 192.168.0.0/16.
pub fn pick_free(taken: &[Taken], prefix: u8) -> Option<Ipv4Net> {
    let size = 1u64 << (32 - u32::from(prefix));
    let ten: Ipv4Net = "10.0.0.0/8".parse().ok()?;
    let start = u64::from(u32::from(Ipv4Addr::new(10, 120, 0, 0)));
    let ten_lo = u64::from(u32::from(ten.network()));
    let ten_hi = u64::from(u32::from(ten.broadcast())) + 1;
    let mut spans: Vec<(u64, u64)> = vec![(start, ten_hi), (ten_lo, start)];
    for b in &private_blocks()[1..] {
        spans.push((
            u64::from(u32::from(b.network())),
            u64::from(u32::from(b.broadcast())) + 1,
        ));
    }
    let mut sorted: Vec<(u64, u64)> = taken
        .iter()
        .map(|t| {
            (
                u64::from(u32::from(t.range.network())),
                u64::from(u32::from(t.range.broadcast())) + 1,
            )
        })
        .collect();
    sorted.sort();
    for (lo, hi) in spans {
        let mut cand = lo.div_ceil(size) * size;
        'scan: while cand + size <= hi {
            for &(a, b) in &sorted {
                if a < cand + size && cand < b {
                    // jump past this taken range, aligned
                    cand = b.div_ceil(size) * size;
                    continue 'scan;
                }
            }
            return Ipv4Net::new(Ipv4Addr::from(cand as u32), prefix).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(r: &str, w: &str) -> Taken {
        Taken {
            range: r.parse().unwrap(),
            what: w.into(),
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let taken = vec![
            t("10.128.0.0/9", "the auto-mode subnet block"),
            t("10.52.0.0/14", "the cluster's pod range"),
        ];
        let msg = |s: &str| format!("{:#}", validate(s, &taken).unwrap_err());
        assert!(msg("10.120.0.0").contains("prefix length is missing"));
        assert!(msg("10.120.0.300/23").contains("not an IPv4 address"));
        assert!(msg("10.120.0.0/27").contains("too small"));
        assert!(msg("10.120.1.0/23").contains("bits set"));
        assert!(msg("8.8.8.0/23").contains("not in private address space"));
        assert!(msg("10.129.0.0/23").contains("overlaps the auto-mode subnet block"));
        assert!(msg("10.53.0.0/23").contains("pod range"));
        assert_eq!(validate("10.120.0.0/23", &taken).unwrap().to_string(), "10.120.0.0/23");
        assert_eq!(
            validate(" 192.168.4.0/26 ", &taken).unwrap().to_string(),
            "192.168.4.0/26"
        );
    }

    #[test]
    fn picks_the_first_free_block() {
        assert_eq!(pick_free(&[], 23).unwrap().to_string(), "10.120.0.0/23");
        let taken = vec![t("10.120.0.0/22", "x"), t("10.124.0.0/23", "y")];
        assert_eq!(pick_free(&taken, 23).unwrap().to_string(), "10.120.4.0/23");
        assert_eq!(
            pick_free(&[t("10.0.0.0/8", "all of 10/8")], 23).unwrap().to_string(),
            "172.16.0.0/23"
        );
    }

    proptest! {
        #[test]
        fn picked_ranges_are_free_private_and_big_enough(
            ranges in proptest::collection::vec((0u32..=u32::MAX, 8u8..=28), 0..60),
            prefix in 20u8..=26,
        ) {
            let taken: Vec<Taken> = ranges.iter().map(|(a, l)| Taken { range: Ipv4Net::new(Ipv4Addr::from(*a), *l).unwrap().trunc(), what: "r".into() }).collect();
            if let Some(p) = pick_free(&taken, prefix) {
                prop_assert!(is_private(&p));
                prop_assert!(p.prefix_len() <= MAX_PREFIX);
                prop_assert_eq!(p.prefix_len(), prefix);
                prop_assert_eq!(p.trunc(), p);
                for t in &taken {
                    prop_assert!(!overlaps(&t.range, &p), "{} overlaps {}", p, t.range);
                }
                prop_assert!(validate(&p.to_string(), &taken).is_ok());
            } else {
                // nothing free: every private block must be fully covered
                for b in private_blocks() {
                    prop_assert!(taken.iter().any(|t| overlaps(&t.range, &b)));
                }
            }
        }
    }
}
