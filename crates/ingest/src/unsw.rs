//! UNSW-NB15 CSV, in either layout:
//!
//! - the training/testing partitions (`UNSW_NB15_training-set.csv`): a header starting
//!   `id,dur,proto,service,state,...` and ending `attack_cat,label`;
//! - the raw files (`UNSW-NB15_1.csv` .. `_4.csv`): no header, 49 columns starting
//!   `srcip,sport,dstip,dsport` ([`RAW_COLUMNS`]).
//!
//! `dur`, `proto`, `service`, `state`, `spkts`, `dpkts`, `sbytes`, `dbytes` (and in the raw layout
//! the addresses, ports and `stime`) map onto [`Flow`] fields; every other numeric column except
//! `id`, `ltime`, `attack_cat` and `label` goes to [`Flow::extra`] in file order, named by its
//! lower-cased header name. Blank numeric cells (a known quirk of the raw files) read as 0.

use crate::fields::{
    bad, parse_duration, parse_epoch, parse_f64, parse_ip, parse_port, parse_proto, parse_u64,
    show, trim, utf8,
};
use crate::source::{LineError, LineParser, Parsed};
use ward_core::{Flow, FlowLabel};

/// Column names of the raw `UNSW-NB15_1..4.csv` files, which have no header.
pub const RAW_COLUMNS: [&str; 49] = [
    "srcip",
    "sport",
    "dstip",
    "dsport",
    "proto",
    "state",
    "dur",
    "sbytes",
    "dbytes",
    "sttl",
    "dttl",
    "sloss",
    "dloss",
    "service",
    "sload",
    "dload",
    "spkts",
    "dpkts",
    "swin",
    "dwin",
    "stcpb",
    "dtcpb",
    "smeansz",
    "dmeansz",
    "trans_depth",
    "res_bdy_len",
    "sjit",
    "djit",
    "stime",
    "ltime",
    "sintpkt",
    "dintpkt",
    "tcprtt",
    "synack",
    "ackdat",
    "is_sm_ips_ports",
    "ct_state_ttl",
    "ct_flw_http_mthd",
    "is_ftp_login",
    "ct_ftp_cmd",
    "ct_srv_src",
    "ct_srv_dst",
    "ct_dst_ltm",
    "ct_src_ltm",
    "ct_src_dport_ltm",
    "ct_dst_sport_ltm",
    "ct_dst_src_ltm",
    "attack_cat",
    "label",
];

/// Header of the training/testing partition files, assumed when the input is empty.
pub const PARTITION_COLUMNS: [&str; 45] = [
    "id",
    "dur",
    "proto",
    "service",
    "state",
    "spkts",
    "dpkts",
    "sbytes",
    "dbytes",
    "rate",
    "sttl",
    "dttl",
    "sload",
    "dload",
    "sloss",
    "dloss",
    "sinpkt",
    "dinpkt",
    "sjit",
    "djit",
    "swin",
    "stcpb",
    "dtcpb",
    "dwin",
    "tcprtt",
    "synack",
    "ackdat",
    "smean",
    "dmean",
    "trans_depth",
    "response_body_len",
    "ct_srv_src",
    "ct_state_ttl",
    "ct_dst_ltm",
    "ct_src_dport_ltm",
    "ct_dst_sport_ltm",
    "ct_dst_src_ltm",
    "is_ftp_login",
    "ct_ftp_cmd",
    "ct_flw_http_mthd",
    "ct_src_ltm",
    "ct_srv_dst",
    "is_sm_ips_ports",
    "attack_cat",
    "label",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Src,
    SrcPort,
    Dst,
    DstPort,
    Ts,
    Duration,
    Proto,
    Service,
    State,
    SPkts,
    DPkts,
    SBytes,
    DBytes,
    AttackCat,
    Label,
    Extra,
    Ignore,
}

fn role_for(name: &str) -> Role {
    match name {
        "srcip" => Role::Src,
        "sport" => Role::SrcPort,
        "dstip" => Role::Dst,
        "dsport" => Role::DstPort,
        "stime" => Role::Ts,
        "id" | "ltime" => Role::Ignore,
        "dur" => Role::Duration,
        "proto" => Role::Proto,
        "service" => Role::Service,
        "state" => Role::State,
        "spkts" => Role::SPkts,
        "dpkts" => Role::DPkts,
        "sbytes" => Role::SBytes,
        "dbytes" => Role::DBytes,
        "attack_cat" => Role::AttackCat,
        "label" => Role::Label,
        _ => Role::Extra,
    }
}

/// UNSW-NB15 parser: the column roles come from the header (or the raw layout).
pub(crate) struct Unsw {
    roles: Vec<Role>,
    names: Vec<String>,
    /// The first line is the header: skip it when it comes round.
    skip_first: bool,
    seen_first: bool,
}

impl Unsw {
    fn with_columns<S: AsRef<str>>(cols: &[S], skip_first: bool) -> Self {
        let names: Vec<String> = cols
            .iter()
            .map(|c| c.as_ref().trim().to_ascii_lowercase())
            .collect();
        Self {
            roles: names.iter().map(|n| role_for(n)).collect(),
            names,
            skip_first,
            seen_first: false,
        }
    }

    /// Picks the layout from the first line: a header, or a raw record (first column an address).
    pub fn new(first: Option<&[u8]>) -> Result<Self, String> {
        let Some(first) = first else {
            return Ok(Self::with_columns(&PARTITION_COLUMNS, false));
        };
        let first = first.strip_prefix(b"\xef\xbb\xbf").unwrap_or(first);
        let cols: Vec<&[u8]> = first.split(|c| *c == b',').collect();
        if cols.first().is_some_and(|c| parse_ip(trim(c)).is_some()) {
            if cols.len() != RAW_COLUMNS.len() {
                return Err(format!(
                    "unsw-nb15: a raw record has {} columns, found {}",
                    RAW_COLUMNS.len(),
                    cols.len()
                ));
            }
            return Ok(Self::with_columns(&RAW_COLUMNS, false));
        }
        let mut names = Vec::with_capacity(cols.len());
        for c in &cols {
            let name = std::str::from_utf8(trim(c))
                .map_err(|_| "unsw-nb15 header: invalid utf-8".to_string())?;
            if name.is_empty() || parse_f64(name.as_bytes()).is_some() {
                return Err(format!(
                    "unsw-nb15: first line is neither a header nor a raw record (column {})",
                    show(name.as_bytes())
                ));
            }
            names.push(name);
        }
        let me = Self::with_columns(&names, true);
        if !me.roles.contains(&Role::Label) && !me.roles.contains(&Role::AttackCat) {
            return Err("unsw-nb15 header: no label or attack_cat column".into());
        }
        Ok(me)
    }

    /// Names of the [`Flow::extra`] features, in order.
    pub fn extra_names(&self) -> Vec<String> {
        self.roles
            .iter()
            .zip(&self.names)
            .filter(|(r, _)| **r == Role::Extra)
            .map(|(_, n)| n.clone())
            .collect()
    }
}

/// Normalises an attack category (`" Fuzzers "` -> `Fuzzers`, `Backdoors` -> `Backdoor`).
fn norm_category(cat: &str) -> String {
    let c = cat.trim();
    match c {
        "Backdoors" => "Backdoor".into(),
        _ => c.to_string(),
    }
}

impl LineParser for Unsw {
    fn parse(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        if !self.seen_first {
            self.seen_first = true;
            if self.skip_first {
                return Ok(Parsed::Meta);
            }
        }
        let n = memchr::memchr_iter(b',', line).count() + 1;
        if n != self.roles.len() {
            return Err(LineError::Bad(format!(
                "expected {} columns, found {n}",
                self.roles.len()
            )));
        }
        let mut flow = Flow::default();
        let mut extra = Vec::with_capacity(self.roles.len());
        let (mut label, mut cat) = (None, None);
        for (i, (raw, role)) in line.split(|c| *c == b',').zip(&self.roles).enumerate() {
            let v = trim(raw);
            let name = self.names.get(i).map_or("?", String::as_str);
            let unset = v.is_empty() || v == b"-";
            match role {
                Role::Ignore => {}
                Role::Extra => extra.push(if v.is_empty() {
                    0.0
                } else {
                    parse_f64(v).ok_or_else(|| bad(name, "invalid number", v))?
                }),
                _ if unset => {}
                Role::Src => {
                    flow.src = Some(parse_ip(v).ok_or_else(|| bad(name, "invalid address", v))?)
                }
                Role::Dst => {
                    flow.dst = Some(parse_ip(v).ok_or_else(|| bad(name, "invalid address", v))?)
                }
                Role::SrcPort => {
                    flow.src_port = Some(parse_port(v).ok_or_else(|| bad(name, "invalid port", v))?)
                }
                Role::DstPort => {
                    flow.dst_port = Some(parse_port(v).ok_or_else(|| bad(name, "invalid port", v))?)
                }
                Role::Ts => {
                    flow.ts = Some(parse_epoch(v).ok_or_else(|| bad(name, "invalid timestamp", v))?)
                }
                Role::Duration => {
                    flow.duration =
                        Some(parse_duration(v).ok_or_else(|| bad(name, "invalid duration", v))?)
                }
                Role::Proto => flow.proto = parse_proto(utf8(v, name)?),
                Role::Service => flow.service = Some(utf8(v, name)?.to_owned()),
                Role::State => flow.state = Some(utf8(v, name)?.to_owned()),
                Role::SPkts => {
                    flow.src_pkts = Some(parse_u64(v).ok_or_else(|| bad(name, "invalid count", v))?)
                }
                Role::DPkts => {
                    flow.dst_pkts = Some(parse_u64(v).ok_or_else(|| bad(name, "invalid count", v))?)
                }
                Role::SBytes => {
                    flow.src_bytes =
                        Some(parse_u64(v).ok_or_else(|| bad(name, "invalid count", v))?)
                }
                Role::DBytes => {
                    flow.dst_bytes =
                        Some(parse_u64(v).ok_or_else(|| bad(name, "invalid count", v))?)
                }
                Role::Label => {
                    label = Some(match v {
                        b"0" => false,
                        b"1" => true,
                        _ => return Err(LineError::Bad(bad(name, "expected 0 or 1, found", v))),
                    })
                }
                Role::AttackCat => cat = Some(norm_category(utf8(v, name)?)),
            }
        }
        flow.extra = extra;
        let cat = cat.filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("normal"));
        let attack = label.unwrap_or(cat.is_some());
        flow.label = Some(FlowLabel {
            attack,
            category: match (attack, cat) {
                (false, _) => "Normal".into(),
                (true, Some(c)) => c,
                (true, None) => "Attack".into(),
            },
            name: None,
        });
        Ok(Parsed::Flow(flow))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let part = Unsw::new(Some(PARTITION_COLUMNS.join(",").as_bytes())).unwrap();
        assert_eq!(part.extra_names().len(), 45 - 11);
        assert_eq!(part.extra_names().first().map(String::as_str), Some("rate"));
        let raw_line = "59.166.0.0,1390,149.171.126.6,53,udp,CON,0.001055,132,164,31,29,0,0,dns,500473.9375,621800.9375,2,2,0,0,0,0,66,82,0,0,0,0,1421927414,1421927414,0.017,0.013,0,0,0,0,0,0,0,0,3,7,1,3,1,1,1,,0";
        let raw = Unsw::new(Some(raw_line.as_bytes())).unwrap();
        assert!(
            raw.extra_names()
                .iter()
                .all(|n| n != "stime" && n != "ltime" && n != "srcip")
        );
        assert_eq!(raw.extra_names().len(), 49 - 16);
        assert!(Unsw::new(Some(b"1.2.3.4,5")).is_err());
        assert!(Unsw::new(Some(b"1,2,3")).is_err());
        assert!(Unsw::new(Some(b"a,b,c")).is_err());
        assert_eq!(Unsw::new(None).unwrap().extra_names(), part.extra_names());
    }
}
