//! Traffic context: damped incremental statistics per source host, host pair and socket over
//! several time windows (Kitsune's "AfterImage", Mirsky et al., NDSS 2018), computed in event
//! time as flows stream past.
//!
//! A single flow rarely says "port scan" or "brute force" by itself; the rate and regularity of
//! the flows around it do. For sources that carry timestamps and addresses (Zeek, Suricata,
//! pcap), every flow's feature vector is extended with these statistics, for both the
//! supervised and the anomaly model. Memory is bounded by the extractor's capacities.
//!
//! Keys are a fixed, seeded mix of the address bits, so the same traffic always gives the same
//! features (no per-process random hashing).

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use ward_core::Flow;
use ward_ml::incstat::{ExtractorConfig, FlowFeatureExtractor, FlowObservation, IncStatError};

/// Settings of the context features (`[net.train.context]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContextConfig {
    /// Add context features when at least this share of training flows carry a timestamp and
    /// both addresses. [0.9]
    pub min_share: f64,
    /// Decay rates (per second) of the time windows; weights decay as 2^(-rate x seconds), so
    /// 5, 1, 0.1 and 0.01 give half-lives of 0.2 s, 1 s, 10 s and 100 s. [5.0, 1.0, 0.1, 0.01]
    pub lambdas: Vec<f64>,
    /// Source hosts tracked at once. [100000]
    pub host_capacity: usize,
    /// Host pairs tracked at once. [200000]
    pub channel_capacity: usize,
    /// Sockets tracked at once. [200000]
    pub socket_capacity: usize,
}

impl Default for ContextConfig {
    fn default() -> Self {
        Self {
            min_share: 0.9,
            lambdas: vec![5.0, 1.0, 0.1, 0.01],
            host_capacity: 100_000,
            channel_capacity: 200_000,
            socket_capacity: 200_000,
        }
    }
}

impl ContextConfig {
    fn extractor_config(&self, seed: u64) -> ExtractorConfig {
        ExtractorConfig {
            lambdas: self.lambdas.clone(),
            host_capacity: self.host_capacity,
            channel_capacity: self.channel_capacity,
            socket_capacity: self.socket_capacity,
            seed,
        }
    }

    /// Whether `flows` carry enough timestamps and addresses for context features.
    pub fn applies(&self, flows: &[Flow]) -> bool {
        if flows.is_empty() {
            return false;
        }
        let with = flows
            .iter()
            .filter(|f| f.ts.is_some() && f.src.is_some() && f.dst.is_some())
            .count();
        with as f64 >= self.min_share * flows.len() as f64
    }
}

/// The streaming context extractor.
#[derive(Debug, Clone)]
pub struct Context {
    ex: FlowFeatureExtractor,
    seed: u64,
    buf: Vec<f64>,
}

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn addr_bits(a: Option<IpAddr>) -> u64 {
    match a {
        Some(IpAddr::V4(v)) => u64::from(u32::from(v)),
        Some(IpAddr::V6(v)) => {
            let x = u128::from(v);
            mix(x as u64) ^ ((x >> 64) as u64)
        }
        None => u64::MAX,
    }
}

impl Context {
    pub fn new(cfg: &ContextConfig, seed: u64) -> Result<Self, IncStatError> {
        let ex = FlowFeatureExtractor::new(&cfg.extractor_config(seed))?;
        let n = ex.n_features();
        Ok(Self {
            ex,
            seed,
            buf: vec![0.0; n],
        })
    }

    pub fn width(&self) -> usize {
        self.ex.n_features()
    }

    pub fn names(&self) -> Vec<String> {
        self.ex.feature_names()
    }

    /// Updates the statistics with `f` and writes its context features into `out`.
    pub fn update(&mut self, f: &Flow, out: &mut [f32]) {
        let src = mix(addr_bits(f.src) ^ self.seed);
        let dst = mix(addr_bits(f.dst) ^ self.seed);
        let ports = (u64::from(f.src_port.unwrap_or(0)) << 16) | u64::from(f.dst_port.unwrap_or(0));
        let socket =
            mix(src ^ dst.rotate_left(21) ^ (ports << 8) ^ u64::from(f.proto.as_str().len() as u8));
        let obs = FlowObservation {
            ts: f.ts.map_or(0.0, |t| t.as_secs_f64()),
            src,
            dst,
            socket,
            bytes: f.src_bytes.unwrap_or(0) as f64,
            response_bytes: f.dst_bytes.map(|b| b as f64),
        };
        if self.ex.update(&obs, &mut self.buf).is_err() {
            out.fill(0.0);
            return;
        }
        for (o, v) in out.iter_mut().zip(&self.buf) {
            *o = if v.is_finite() { *v as f32 } else { 0.0 };
        }
    }

    /// Bytes held by the statistics.
    pub fn memory_bytes(&self) -> usize {
        self.ex.memory_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{Proto, Timestamp};

    fn flow(t: f64, src: &str, dst: &str, dport: u16) -> Flow {
        Flow {
            ts: Timestamp::from_secs_f64(t),
            src: Some(src.parse().unwrap()),
            dst: Some(dst.parse().unwrap()),
            src_port: Some(40000),
            dst_port: Some(dport),
            proto: Proto::Tcp,
            src_bytes: Some(100),
            dst_bytes: Some(0),
            ..Default::default()
        }
    }

    #[test]
    fn a_burst_of_flows_raises_the_source_rate() {
        let cfg = ContextConfig::default();
        let mut c = Context::new(&cfg, 0).unwrap();
        let names = c.names();
        let w_fast = names.iter().position(|n| n == "host_bytes_w_l5").unwrap();
        let mut out = vec![0f32; c.width()];
        c.update(&flow(0.0, "10.0.0.1", "10.0.0.2", 80), &mut out);
        let quiet = out[w_fast];
        for p in 0..200u16 {
            c.update(
                &flow(1.0 + f64::from(p) * 0.001, "10.0.0.9", "10.0.0.2", 1000 + p),
                &mut out,
            );
        }
        assert!(
            out[w_fast] > 50.0 * quiet,
            "scanner weight {} vs quiet {quiet}",
            out[w_fast]
        );
        // the same inputs give the same features
        let mut c2 = Context::new(&cfg, 0).unwrap();
        let mut out2 = vec![0f32; c2.width()];
        c2.update(&flow(0.0, "10.0.0.1", "10.0.0.2", 80), &mut out2);
        assert_eq!(out2[w_fast], quiet);
    }

    #[test]
    fn applies_only_with_times_and_addresses() {
        let cfg = ContextConfig::default();
        assert!(cfg.applies(&[flow(0.0, "10.0.0.1", "10.0.0.2", 80)]));
        assert!(!cfg.applies(&[Flow::default()]));
        assert!(!cfg.applies(&[]));
    }
}
