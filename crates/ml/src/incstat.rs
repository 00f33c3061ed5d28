//! Damped incremental statistics over streams, as in Kitsune's "AfterImage" (Mirsky et al.,
//! NDSS 2018), with bounded memory.
//!
//! A stream (all bytes a host sends, all bytes on a host-to-host channel, ...) is summarised by
//! a damped window per decay rate λ: the triple `(w, LS, SS)` of weight, linear sum and squared
//! sum. Before an observation at time `t` is added, the triple is multiplied by
//! `2^(-λ·Δt)` where `Δt` is the time since the stream's last update, so an observation's
//! influence halves every `1/λ` seconds. From it come weight `w`, mean `LS/w` and standard
//! deviation `sqrt(|SS/w - mean²|)`.
//!
//! Two streams that form a pair (both directions of a channel) also keep a damped sum of
//! residual products, giving the 2D statistics of the paper: magnitude `sqrt(μa² + μb²)`,
//! radius `sqrt(σa⁴ + σb⁴)` (the paper's definition, with variances), approximate covariance
//! and Pearson correlation.
//!
//! Robustness rules, for every input:
//! - a timestamp earlier than the stream's last one (out of order) decays nothing (`Δt < 0` is
//!   treated as `0`) and does not move the stream's clock back; a non-finite timestamp is
//!   treated the same way;
//! - a non-finite value is treated as `0`, finite values are clamped to `±MAX_VALUE`;
//! - a window whose weight decays below `1e-12` is reset to empty;
//! - every output is finite.
//!
//! Memory is bounded: each database has a fixed capacity of keys. Entries live in a flat slab
//! (no allocation per key) indexed by a linear-probing hash table of `u32` slot numbers. When
//! the database is full, a new key replaces an entry chosen by the CLOCK (second-chance)
//! policy, an O(1)-amortized approximation of least-recently-updated: each update sets the
//! entry's reference bit; the clock hand sweeps the slab, clearing set bits and evicting the
//! first entry whose bit is already clear. So an entry is evicted only if no update touched it
//! during a full sweep of the hand. Evictions are counted ([`IncStatDb::evictions`]).

use serde::{Deserialize, Serialize};

/// Kitsune's default decay rates (per second): half-lives of 0.2 s, 0.33 s, 1 s, 10 s and 100 s.
pub const DEFAULT_LAMBDAS: [f64; 5] = [5.0, 3.0, 1.0, 0.1, 0.01];

/// Values are clamped to `±MAX_VALUE` before they enter a statistic, so sums of squares stay
/// finite.
pub const MAX_VALUE: f64 = 1e15;

/// Largest capacity a database accepts.
pub const MAX_CAPACITY: usize = 1 << 30;

/// Windows whose weight decays below this are reset.
const MIN_WEIGHT: f64 = 1e-12;

/// Number of outputs per λ of a 1D statistic: `[w, mean, std]`.
pub const STATS_1D: usize = 3;
/// Number of outputs per λ of a 2D statistic: `[w, mean, std, magnitude, radius, cov, pcc]`.
pub const STATS_2D: usize = 7;

/// Errors from building or using the statistics databases.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IncStatError {
    /// The list of decay rates was empty.
    #[error("at least one decay rate is required")]
    NoLambdas,
    /// A decay rate was zero, negative or not finite.
    #[error("decay rate {0} is not a positive finite number")]
    BadLambda(f64),
    /// A capacity was zero or too large.
    #[error("capacity must be between 1 and {max}, got {got}")]
    BadCapacity {
        /// Requested capacity.
        got: usize,
        /// Largest accepted capacity.
        max: usize,
    },
    /// An output buffer had the wrong length.
    #[error("output buffer has length {got}, expected {expected}")]
    BufferLength {
        /// Supplied length.
        got: usize,
        /// Required length.
        expected: usize,
    },
    /// Deserialised state was inconsistent.
    #[error("inconsistent statistics state: {0}")]
    Corrupt(&'static str),
}

/// The splitmix64 finaliser: a fast bijective mixer.
fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Combines two keys into one, order-sensitive: `combine_keys(a, b) != combine_keys(b, a)` in
/// general. Use it to build directed channel keys from host keys.
pub fn combine_keys(a: u64, b: u64) -> u64 {
    mix64(a ^ mix64(b ^ 0x9e37_79b9_7f4a_7c15))
}

/// Which stream of a pair an observation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    /// The first stream (for [`pair_key`]: traffic from the smaller key to the larger).
    A,
    /// The second stream.
    B,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}

/// The canonical pair key for traffic from `src` to `dst`, and which side of the pair that
/// direction is. Both directions of a channel share one pair key.
pub fn pair_key(src: u64, dst: u64) -> (u64, Side) {
    if src <= dst {
        (combine_keys(src, dst), Side::A)
    } else {
        (combine_keys(dst, src), Side::B)
    }
}

fn validate_lambdas(lambdas: &[f64]) -> Result<(), IncStatError> {
    if lambdas.is_empty() {
        return Err(IncStatError::NoLambdas);
    }
    if let Some(&l) = lambdas.iter().find(|l| !(l.is_finite() && **l > 0.0)) {
        return Err(IncStatError::BadLambda(l));
    }
    Ok(())
}

fn validate_capacity(capacity: usize) -> Result<(), IncStatError> {
    if capacity == 0 || capacity > MAX_CAPACITY {
        return Err(IncStatError::BadCapacity {
            got: capacity,
            max: MAX_CAPACITY,
        });
    }
    Ok(())
}

fn sanitize(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(-MAX_VALUE, MAX_VALUE)
    } else {
        0.0
    }
}

/// Advances a stream clock to `ts` and returns the elapsed time (`0` if `ts` is not later or
/// not finite).
fn advance(clock: &mut f64, ts: f64) -> f64 {
    if ts.is_finite() && ts > *clock {
        let dt = ts - *clock;
        *clock = ts;
        if dt.is_finite() { dt } else { f64::INFINITY }
    } else {
        0.0
    }
}

fn decay_factor(lambda: f64, dt: f64) -> f64 {
    if dt > 0.0 { (-lambda * dt).exp2() } else { 1.0 }
}

/// Mean and variance of a window `[w, ls, ss]`; zeros for an empty window.
fn mean_var(w: f64, ls: f64, ss: f64) -> (f64, f64) {
    if w < MIN_WEIGHT {
        return (0.0, 0.0);
    }
    let mean = ls / w;
    let msq = ss / w;
    let var = msq - mean * mean;
    // Differences below the rounding noise of `SS/w` are zero variance.
    let var = if var <= 1e-12 * msq.abs() { 0.0 } else { var };
    (finite_or_zero(mean), finite_or_zero(var))
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// Decays a window `[w, ls, ss]` by `f`, resetting it if the weight becomes negligible.
fn decay_window(win: &mut [f64], f: f64) {
    if f == 1.0 {
        return;
    }
    let w = win.first().copied().unwrap_or(0.0) * f;
    if w < MIN_WEIGHT {
        win.iter_mut().for_each(|x| *x = 0.0);
    } else {
        win.iter_mut().for_each(|x| *x *= f);
    }
}

/// The `(w, ls, ss)` of a window slice.
fn window(win: &[f64]) -> (f64, f64, f64) {
    match win {
        [w, ls, ss, ..] => (*w, *ls, *ss),
        _ => (0.0, 0.0, 0.0),
    }
}

/// Adds `v` to a window `[w, ls, ss]`.
fn insert_window(win: &mut [f64], v: f64) {
    if let [w, ls, ss, ..] = win {
        *w += 1.0;
        *ls += v;
        *ss += v * v;
    }
}

/// The key → slot map with CLOCK eviction shared by both databases.
#[derive(Debug, Clone)]
struct SlotTable {
    capacity: usize,
    seed: u64,
    /// slot → key
    keys: Vec<u64>,
    /// slot → CLOCK reference bit
    referenced: Vec<bool>,
    /// open-addressing buckets: 0 = empty, else slot + 1
    index: Vec<u32>,
    hand: usize,
    evictions: u64,
}

/// Result of looking a key up for an update.
enum Slot {
    /// The key was present at this slot.
    Existing(usize),
    /// The key was given this slot (new or recycled); its statistics must be reset.
    Fresh(usize),
}

impl SlotTable {
    fn new(capacity: usize, seed: u64) -> Self {
        Self {
            capacity,
            seed,
            keys: Vec::new(),
            referenced: Vec::new(),
            index: Vec::new(),
            hand: 0,
            evictions: 0,
        }
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    fn home(&self, key: u64) -> usize {
        (mix64(key ^ self.seed) as usize) & (self.index.len().wrapping_sub(1))
    }

    fn find_bucket(&self, key: u64) -> Option<(usize, usize)> {
        if self.index.is_empty() {
            return None;
        }
        let mask = self.index.len() - 1;
        let mut b = self.home(key);
        // The table is at most half full, so an empty bucket ends every probe; the bound
        // only guards against corrupted state.
        for _ in 0..self.index.len() {
            let e = *self.index.get(b)?;
            if e == 0 {
                return None;
            }
            let slot = (e - 1) as usize;
            if self.keys.get(slot) == Some(&key) {
                return Some((b, slot));
            }
            b = (b + 1) & mask;
        }
        None
    }

    fn find(&self, key: u64) -> Option<usize> {
        self.find_bucket(key).map(|(_, s)| s)
    }

    fn index_insert(&mut self, key: u64, slot: usize) {
        let mask = self.index.len().wrapping_sub(1);
        let mut b = self.home(key);
        for _ in 0..self.index.len() {
            match self.index.get_mut(b) {
                Some(e) if *e == 0 => {
                    *e = slot as u32 + 1;
                    return;
                }
                Some(_) => b = (b + 1) & mask,
                None => return,
            }
        }
    }

    /// Removes `key` from the index with backward-shift deletion (no tombstones).
    fn index_remove(&mut self, key: u64) {
        let Some((mut hole, _)) = self.find_bucket(key) else {
            return;
        };
        let mask = self.index.len() - 1;
        if let Some(e) = self.index.get_mut(hole) {
            *e = 0;
        }
        let mut j = hole;
        for _ in 0..self.index.len() {
            j = (j + 1) & mask;
            let e = self.index.get(j).copied().unwrap_or(0);
            if e == 0 {
                return;
            }
            let Some(&k) = self.keys.get((e - 1) as usize) else {
                return;
            };
            let h = self.home(k);
            // The entry at j may stay if its home lies cyclically in (hole, j].
            let stays = if hole <= j {
                hole < h && h <= j
            } else {
                hole < h || h <= j
            };
            if !stays {
                self.index.swap(hole, j);
                hole = j;
            }
        }
    }

    fn rebuild_index(&mut self, buckets: usize) {
        self.index = vec![0; buckets];
        for slot in 0..self.keys.len() {
            if let Some(&k) = self.keys.get(slot) {
                self.index_insert(k, slot);
            }
        }
    }

    fn max_buckets(&self) -> usize {
        (self.capacity * 2).next_power_of_two()
    }

    /// Finds or allocates the slot for `key`.
    fn slot(&mut self, key: u64) -> Slot {
        if let Some(s) = self.find(key) {
            if let Some(r) = self.referenced.get_mut(s) {
                *r = true;
            }
            return Slot::Existing(s);
        }
        if self.keys.len() < self.capacity {
            let slot = self.keys.len();
            if self.index.len() < 2 * (slot + 1) {
                let buckets = (2 * (slot + 1))
                    .next_power_of_two()
                    .max(16)
                    .min(self.max_buckets());
                if buckets > self.index.len() {
                    self.rebuild_index(buckets);
                }
            }
            if self.keys.len() == self.keys.capacity() {
                // Grow geometrically but never past the capacity.
                let extra = self.keys.len().max(8).min(self.capacity - self.keys.len());
                self.keys.reserve_exact(extra);
                self.referenced.reserve_exact(extra);
            }
            self.keys.push(key);
            self.referenced.push(false);
            self.index_insert(key, slot);
            return Slot::Fresh(slot);
        }
        let victim = self.clock_victim();
        if let Some(&old) = self.keys.get(victim) {
            self.index_remove(old);
        }
        if let Some(k) = self.keys.get_mut(victim) {
            *k = key;
        }
        if let Some(r) = self.referenced.get_mut(victim) {
            *r = false;
        }
        self.index_insert(key, victim);
        self.evictions += 1;
        Slot::Fresh(victim)
    }

    /// CLOCK: sweep, clearing reference bits, until an unreferenced slot is found. Terminates
    /// within two sweeps; each set bit is cleared once per update, so the cost is amortized
    /// O(1) per update.
    fn clock_victim(&mut self) -> usize {
        let n = self.keys.len().max(1);
        for _ in 0..2 * n + 1 {
            let h = self.hand % n;
            self.hand = (h + 1) % n;
            match self.referenced.get_mut(h) {
                Some(r) if *r => *r = false,
                _ => return h,
            }
        }
        0
    }

    fn memory_bytes(&self) -> usize {
        self.keys.capacity() * 8 + self.referenced.capacity() + self.index.capacity() * 4
    }

    /// Index + key + reference-bit bytes per key when the table is full.
    fn bytes_per_entry(&self) -> f64 {
        8.0 + 1.0 + 4.0 * self.max_buckets() as f64 / self.capacity as f64
    }
}

/// Serialised form of a [`SlotTable`]: the index is rebuilt on load.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SlotTableRepr {
    capacity: usize,
    seed: u64,
    keys: Vec<u64>,
    referenced: Vec<bool>,
    hand: usize,
    evictions: u64,
}

impl SlotTable {
    fn to_repr(&self) -> SlotTableRepr {
        SlotTableRepr {
            capacity: self.capacity,
            seed: self.seed,
            keys: self.keys.clone(),
            referenced: self.referenced.clone(),
            hand: self.hand,
            evictions: self.evictions,
        }
    }

    fn from_repr(r: SlotTableRepr) -> Result<Self, IncStatError> {
        validate_capacity(r.capacity)?;
        if r.keys.len() > r.capacity || r.referenced.len() != r.keys.len() {
            return Err(IncStatError::Corrupt("key table size"));
        }
        let mut t = SlotTable {
            capacity: r.capacity,
            seed: r.seed,
            keys: r.keys,
            referenced: r.referenced,
            index: Vec::new(),
            hand: if r.hand < r.capacity { r.hand } else { 0 },
            evictions: r.evictions,
        };
        let buckets = (2 * t.keys.len())
            .next_power_of_two()
            .max(16)
            .min(t.max_buckets());
        t.rebuild_index(buckets);
        for (slot, &k) in t.keys.iter().enumerate() {
            if t.find(k) != Some(slot) {
                return Err(IncStatError::Corrupt("duplicate key"));
            }
        }
        Ok(t)
    }
}

/// Damped 1D statistics for up to `capacity` keys, one window per λ.
///
/// Per key: a timestamp and `(w, LS, SS)` per λ, all `f64`, in a flat slab.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "IncStatDbRepr", into = "IncStatDbRepr")]
pub struct IncStatDb {
    lambdas: Vec<f64>,
    table: SlotTable,
    /// per slot: `[last_ts, (w, ls, ss) per λ]`
    data: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct IncStatDbRepr {
    lambdas: Vec<f64>,
    table: SlotTableRepr,
    data: Vec<f64>,
}

impl From<IncStatDb> for IncStatDbRepr {
    fn from(db: IncStatDb) -> Self {
        Self {
            lambdas: db.lambdas,
            table: db.table.to_repr(),
            data: db.data,
        }
    }
}

impl TryFrom<IncStatDbRepr> for IncStatDb {
    type Error = IncStatError;
    fn try_from(r: IncStatDbRepr) -> Result<Self, IncStatError> {
        validate_lambdas(&r.lambdas)?;
        let table = SlotTable::from_repr(r.table)?;
        let db = IncStatDb {
            lambdas: r.lambdas,
            table,
            data: r.data,
        };
        if db.data.len() != db.table.len() * db.stride() || db.data.iter().any(|x| !x.is_finite()) {
            return Err(IncStatError::Corrupt("statistics slab"));
        }
        Ok(db)
    }
}

/// Finds or allocates `key`'s record in a slab; a fresh record is zeroed with its first
/// `clocks` values set to `ts`.
fn record<'a>(
    table: &mut SlotTable,
    data: &'a mut Vec<f64>,
    stride: usize,
    clocks: usize,
    key: u64,
    ts: f64,
) -> Option<&'a mut [f64]> {
    let (slot, fresh) = match table.slot(key) {
        Slot::Existing(s) => (s, false),
        Slot::Fresh(s) => (s, true),
    };
    let start = slot * stride;
    if start == data.len() {
        grow_slab(data, stride, table.capacity * stride);
        data.resize(start + stride, 0.0);
    }
    let rec = data.get_mut(start..start + stride)?;
    if fresh {
        rec.iter_mut().for_each(|x| *x = 0.0);
        let t = if ts.is_finite() { ts } else { 0.0 };
        rec.iter_mut().take(clocks).for_each(|x| *x = t);
    }
    Some(rec)
}

/// Grows a slab geometrically but never past `max_len`.
fn grow_slab(data: &mut Vec<f64>, stride: usize, max_len: usize) {
    if data.len() + stride > data.capacity() {
        let extra = data
            .len()
            .max(8 * stride)
            .min(max_len.saturating_sub(data.len()));
        data.reserve_exact(extra.max(stride));
    }
}

impl IncStatDb {
    /// A database for up to `capacity` keys with the given decay rates. `seed` salts the hash
    /// index so colliding keys cannot be precomputed.
    pub fn new(lambdas: &[f64], capacity: usize, seed: u64) -> Result<Self, IncStatError> {
        validate_lambdas(lambdas)?;
        validate_capacity(capacity)?;
        Ok(Self {
            lambdas: lambdas.to_vec(),
            table: SlotTable::new(capacity, seed),
            data: Vec::new(),
        })
    }

    fn stride(&self) -> usize {
        1 + 3 * self.lambdas.len()
    }

    /// The decay rates.
    pub fn lambdas(&self) -> &[f64] {
        &self.lambdas
    }

    /// Number of outputs written by [`update_get`](Self::update_get): `3 × lambdas`.
    pub fn n_outputs(&self) -> usize {
        STATS_1D * self.lambdas.len()
    }

    /// Keys currently tracked.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// Maximum number of keys tracked.
    pub fn capacity(&self) -> usize {
        self.table.capacity
    }

    /// Keys evicted so far to make room for new ones.
    pub fn evictions(&self) -> u64 {
        self.table.evictions
    }

    /// Bytes per tracked key when full (statistics, key, reference bit, index share).
    pub fn bytes_per_entry(&self) -> f64 {
        8.0 * self.stride() as f64 + self.table.bytes_per_entry()
    }

    /// Heap bytes currently allocated.
    pub fn memory_bytes(&self) -> usize {
        self.data.capacity() * 8 + self.table.memory_bytes()
    }

    fn record_mut(&mut self, key: u64, ts: f64) -> Option<(&[f64], &mut [f64])> {
        let stride = self.stride();
        record(&mut self.table, &mut self.data, stride, 1, key, ts)
            .map(|r| (self.lambdas.as_slice(), r))
    }

    fn insert_rec(lambdas: &[f64], rec: &mut [f64], ts: f64, v: f64) {
        let Some((clock, windows)) = rec.split_first_mut() else {
            return;
        };
        let dt = advance(clock, ts);
        for (&l, win) in lambdas.iter().zip(windows.chunks_exact_mut(3)) {
            decay_window(win, decay_factor(l, dt));
            insert_window(win, v);
        }
    }

    fn write_stats(windows: &[f64], out: &mut [f64]) {
        for (win, o) in windows.chunks_exact(3).zip(out.chunks_exact_mut(STATS_1D)) {
            if let ([w, ls, ss], [ow, om, os]) = (win, o) {
                let (mean, var) = mean_var(*w, *ls, *ss);
                *ow = *w;
                *om = mean;
                *os = var.sqrt();
            }
        }
    }

    /// Adds observation `v` at time `ts` (seconds) to `key`'s stream.
    pub fn update(&mut self, key: u64, ts: f64, v: f64) {
        let v = sanitize(v);
        if let Some((lambdas, rec)) = self.record_mut(key, ts) {
            Self::insert_rec(lambdas, rec, ts, v);
        }
    }

    /// Adds `v` like [`update`](Self::update), then writes `[w, mean, std]` per λ into `out`
    /// (length [`n_outputs`](Self::n_outputs)).
    pub fn update_get(
        &mut self,
        key: u64,
        ts: f64,
        v: f64,
        out: &mut [f64],
    ) -> Result<(), IncStatError> {
        self.check_out(out)?;
        let v = sanitize(v);
        if let Some((lambdas, rec)) = self.record_mut(key, ts) {
            Self::insert_rec(lambdas, rec, ts, v);
            Self::write_stats(rec.get(1..).unwrap_or(&[]), out);
        }
        Ok(())
    }

    /// Adds the time since `key`'s previous update as the observation (inter-arrival time,
    /// "jitter"; `0` for a new key or an out-of-order timestamp), then writes
    /// `[w, mean, std]` per λ into `out`.
    pub fn update_interarrival(
        &mut self,
        key: u64,
        ts: f64,
        out: &mut [f64],
    ) -> Result<(), IncStatError> {
        self.check_out(out)?;
        if let Some((lambdas, rec)) = self.record_mut(key, ts) {
            let last = rec.first().copied().unwrap_or(0.0);
            let gap = if ts.is_finite() && ts > last {
                sanitize(ts - last)
            } else {
                0.0
            };
            Self::insert_rec(lambdas, rec, ts, gap);
            Self::write_stats(rec.get(1..).unwrap_or(&[]), out);
        }
        Ok(())
    }

    /// `[w, mean, std]` per λ for `key` as of time `ts` (weights decayed to `ts`, which does
    /// not change means or deviations), or `None` if the key is not tracked. Does not count as
    /// an update for eviction.
    pub fn get(&self, key: u64, ts: f64) -> Option<Vec<f64>> {
        let stride = self.stride();
        let slot = self.table.find(key)?;
        let rec = self.data.get(slot * stride..(slot + 1) * stride)?;
        let (&clock, windows) = rec.split_first()?;
        let mut out = vec![0.0; self.n_outputs()];
        Self::write_stats(windows, &mut out);
        let mut c = clock;
        let dt = advance(&mut c, ts);
        for (&l, o) in self.lambdas.iter().zip(out.chunks_exact_mut(STATS_1D)) {
            if let Some(w) = o.first_mut() {
                *w *= decay_factor(l, dt);
            }
        }
        Some(out)
    }

    fn check_out(&self, out: &[f64]) -> Result<(), IncStatError> {
        if out.len() != self.n_outputs() {
            return Err(IncStatError::BufferLength {
                got: out.len(),
                expected: self.n_outputs(),
            });
        }
        Ok(())
    }
}

/// Damped statistics for up to `capacity` stream pairs: each pair holds two 1D windows per λ
/// plus the damped residual-product sum that gives their covariance.
///
/// Per pair: three timestamps (side A, side B, covariance) and, per λ,
/// `(wA, LSA, SSA, wB, LSB, SSB, SR, wR, rA, rB)`, all `f64`, in a flat slab. `rA`/`rB` are
/// the sides' last residuals (value minus mean); they decay with the covariance window.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "PairStatDbRepr", into = "PairStatDbRepr")]
pub struct PairStatDb {
    lambdas: Vec<f64>,
    table: SlotTable,
    data: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PairStatDbRepr {
    lambdas: Vec<f64>,
    table: SlotTableRepr,
    data: Vec<f64>,
}

impl From<PairStatDb> for PairStatDbRepr {
    fn from(db: PairStatDb) -> Self {
        Self {
            lambdas: db.lambdas,
            table: db.table.to_repr(),
            data: db.data,
        }
    }
}

impl TryFrom<PairStatDbRepr> for PairStatDb {
    type Error = IncStatError;
    fn try_from(r: PairStatDbRepr) -> Result<Self, IncStatError> {
        validate_lambdas(&r.lambdas)?;
        let table = SlotTable::from_repr(r.table)?;
        let db = PairStatDb {
            lambdas: r.lambdas,
            table,
            data: r.data,
        };
        if db.data.len() != db.table.len() * db.stride() || db.data.iter().any(|x| !x.is_finite()) {
            return Err(IncStatError::Corrupt("statistics slab"));
        }
        Ok(db)
    }
}

const PAIR_PER_LAMBDA: usize = 10;

impl PairStatDb {
    /// A database for up to `capacity` pairs with the given decay rates.
    pub fn new(lambdas: &[f64], capacity: usize, seed: u64) -> Result<Self, IncStatError> {
        validate_lambdas(lambdas)?;
        validate_capacity(capacity)?;
        Ok(Self {
            lambdas: lambdas.to_vec(),
            table: SlotTable::new(capacity, seed),
            data: Vec::new(),
        })
    }

    fn stride(&self) -> usize {
        3 + PAIR_PER_LAMBDA * self.lambdas.len()
    }

    /// The decay rates.
    pub fn lambdas(&self) -> &[f64] {
        &self.lambdas
    }

    /// Number of outputs written by [`update_get`](Self::update_get): `7 × lambdas`.
    pub fn n_outputs(&self) -> usize {
        STATS_2D * self.lambdas.len()
    }

    /// Pairs currently tracked.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no pair is tracked.
    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// Maximum number of pairs tracked.
    pub fn capacity(&self) -> usize {
        self.table.capacity
    }

    /// Pairs evicted so far.
    pub fn evictions(&self) -> u64 {
        self.table.evictions
    }

    /// Bytes per tracked pair when full.
    pub fn bytes_per_entry(&self) -> f64 {
        8.0 * self.stride() as f64 + self.table.bytes_per_entry()
    }

    /// Heap bytes currently allocated.
    pub fn memory_bytes(&self) -> usize {
        self.data.capacity() * 8 + self.table.memory_bytes()
    }

    fn update_rec(lambdas: &[f64], rec: &mut [f64], side: Side, ts: f64, v: f64, out: &mut [f64]) {
        let (clocks, per_lambda) = rec.split_at_mut(3.min(rec.len()));
        let s = side.index();
        let (dt_side, dt_cov) = match clocks {
            [a, b, c] => {
                let side_clock = if s == 0 { a } else { b };
                (advance(side_clock, ts), advance(c, ts))
            }
            _ => return,
        };
        let mut outs = out.chunks_exact_mut(STATS_2D);
        for (&l, p) in lambdas
            .iter()
            .zip(per_lambda.chunks_exact_mut(PAIR_PER_LAMBDA))
        {
            let (wins, cov) = p.split_at_mut(6);
            let (win_a, win_b) = wins.split_at_mut(3);
            let (me, other) = if s == 0 {
                (win_a, win_b)
            } else {
                (win_b, win_a)
            };
            decay_window(me, decay_factor(l, dt_side));
            insert_window(me, v);
            let (m_w, m_ls, m_ss) = window(me);
            let (o_w, o_ls, o_ss) = window(other);
            let (m_mean, m_var) = mean_var(m_w, m_ls, m_ss);
            let (o_mean, o_var) = mean_var(o_w, o_ls, o_ss);
            if let [sr, wr, ra, rb] = cov {
                let f = decay_factor(l, dt_cov);
                if f != 1.0 {
                    *sr *= f;
                    *wr *= f;
                    *ra *= f;
                    *rb *= f;
                    if *wr < MIN_WEIGHT {
                        *sr = 0.0;
                        *wr = 0.0;
                    }
                }
                let res = finite_or_zero(v - m_mean);
                let (r_me, r_other) = if s == 0 { (ra, rb) } else { (rb, ra) };
                *sr = finite_or_zero(*sr + res * *r_other);
                *wr += 1.0;
                *r_me = res;
                if let Some(o) = outs.next() {
                    let cov = if *wr >= MIN_WEIGHT {
                        finite_or_zero(*sr / *wr)
                    } else {
                        0.0
                    };
                    let denom = (m_var * o_var).sqrt();
                    let pcc = if denom > 1e-300 && denom.is_finite() {
                        finite_or_zero(cov / denom).clamp(-1.0, 1.0)
                    } else {
                        0.0
                    };
                    o.copy_from_slice(&[
                        m_w,
                        m_mean,
                        m_var.sqrt(),
                        finite_or_zero(m_mean.hypot(o_mean)),
                        finite_or_zero(m_var.hypot(o_var)),
                        cov,
                        pcc,
                    ]);
                }
            }
        }
    }

    fn record_mut(&mut self, key: u64, ts: f64) -> Option<(&[f64], &mut [f64])> {
        let stride = self.stride();
        record(&mut self.table, &mut self.data, stride, 3, key, ts)
            .map(|r| (self.lambdas.as_slice(), r))
    }

    /// Adds `v` at time `ts` to `side` of pair `key`.
    pub fn update(&mut self, key: u64, side: Side, ts: f64, v: f64) {
        let v = sanitize(v);
        if let Some((lambdas, rec)) = self.record_mut(key, ts) {
            Self::update_rec(lambdas, rec, side, ts, v, &mut []);
        }
    }

    /// Adds `v` like [`update`](Self::update), then writes, per λ, the updated side's
    /// `[w, mean, std]` and the pair's `[magnitude, radius, cov, pcc]` into `out` (length
    /// [`n_outputs`](Self::n_outputs)).
    pub fn update_get(
        &mut self,
        key: u64,
        side: Side,
        ts: f64,
        v: f64,
        out: &mut [f64],
    ) -> Result<(), IncStatError> {
        if out.len() != self.n_outputs() {
            return Err(IncStatError::BufferLength {
                got: out.len(),
                expected: self.n_outputs(),
            });
        }
        let v = sanitize(v);
        if let Some((lambdas, rec)) = self.record_mut(key, ts) {
            Self::update_rec(lambdas, rec, side, ts, v, out);
        }
        Ok(())
    }
}

/// Capacities and decay rates of a [`FlowFeatureExtractor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtractorConfig {
    /// Decay rates per second. Default: [`DEFAULT_LAMBDAS`].
    pub lambdas: Vec<f64>,
    /// Source hosts tracked. Default 100 000.
    pub host_capacity: usize,
    /// Host pairs tracked (for both the channel statistics and the channel jitter).
    /// Default 200 000.
    pub channel_capacity: usize,
    /// Sockets tracked. Default 200 000.
    pub socket_capacity: usize,
    /// Salt for the hash indexes. Default 0.
    pub seed: u64,
}

impl Default for ExtractorConfig {
    fn default() -> Self {
        Self {
            lambdas: DEFAULT_LAMBDAS.to_vec(),
            host_capacity: 100_000,
            channel_capacity: 200_000,
            socket_capacity: 200_000,
            seed: 0,
        }
    }
}

/// One flow as seen by the [`FlowFeatureExtractor`]. Keys are caller-chosen hashes (of a MAC
/// and IP, a host pair, a 5-tuple, ...); use a keyed hash if keys come from untrusted input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowObservation {
    /// Start time, seconds (any epoch; only differences matter).
    pub ts: f64,
    /// Source host key.
    pub src: u64,
    /// Destination host key.
    pub dst: u64,
    /// Socket / conversation key (e.g. a hash of the 5-tuple).
    pub socket: u64,
    /// Bytes sent by the source.
    pub bytes: f64,
    /// Bytes sent back by the destination, if the flow record has them.
    pub response_bytes: Option<f64>,
}

/// Features per λ: host 3 + channel 7 + socket 7 + jitter 3.
pub const FEATURES_PER_LAMBDA: usize = STATS_1D + STATS_2D + STATS_2D + STATS_1D;

/// Turns a flow stream into fixed-length AfterImage feature vectors.
///
/// For each λ, in order: the source host's bytes-sent `[w, mean, std]`; the host→host
/// channel's `[w, mean, std, magnitude, radius, cov, pcc]` (the forward direction against the
/// reverse); the socket's same seven (forward bytes against response bytes); and the directed
/// channel's inter-arrival time `[w, mean, std]`. A flow's response bytes, when present, are
/// added to the reverse side of the channel and socket before the forward bytes, so the
/// covariance relates each request to its response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlowFeatureExtractor {
    lambdas: Vec<f64>,
    hosts: IncStatDb,
    channels: PairStatDb,
    sockets: PairStatDb,
    jitter: IncStatDb,
    #[serde(skip)]
    scratch: Vec<f64>,
}

impl FlowFeatureExtractor {
    /// Builds the extractor's four databases.
    pub fn new(cfg: &ExtractorConfig) -> Result<Self, IncStatError> {
        let l = &cfg.lambdas;
        Ok(Self {
            lambdas: l.clone(),
            hosts: IncStatDb::new(l, cfg.host_capacity, cfg.seed)?,
            channels: PairStatDb::new(l, cfg.channel_capacity, cfg.seed ^ 1)?,
            sockets: PairStatDb::new(l, cfg.socket_capacity, cfg.seed ^ 2)?,
            jitter: IncStatDb::new(l, cfg.channel_capacity, cfg.seed ^ 3)?,
            scratch: Vec::new(),
        })
    }

    /// Length of the feature vector: 20 per λ.
    pub fn n_features(&self) -> usize {
        FEATURES_PER_LAMBDA * self.lambdas.len()
    }

    /// Feature names in output order, e.g. `host_bytes_mean_l5`, `chan_bytes_pcc_l0.1`,
    /// `chan_jitter_std_l0.01`.
    pub fn feature_names(&self) -> Vec<String> {
        const ONE: [&str; 3] = ["w", "mean", "std"];
        const TWO: [&str; 7] = ["w", "mean", "std", "magnitude", "radius", "cov", "pcc"];
        let mut names = Vec::with_capacity(self.n_features());
        for l in &self.lambdas {
            for s in ONE {
                names.push(format!("host_bytes_{s}_l{l}"));
            }
            for s in TWO {
                names.push(format!("chan_bytes_{s}_l{l}"));
            }
            for s in TWO {
                names.push(format!("socket_bytes_{s}_l{l}"));
            }
            for s in ONE {
                names.push(format!("chan_jitter_{s}_l{l}"));
            }
        }
        names
    }

    /// Updates the statistics with `flow` and writes its feature vector into `out` (length
    /// [`n_features`](Self::n_features)).
    pub fn update(&mut self, flow: &FlowObservation, out: &mut [f64]) -> Result<(), IncStatError> {
        let n = self.n_features();
        if out.len() != n {
            return Err(IncStatError::BufferLength {
                got: out.len(),
                expected: n,
            });
        }
        let nl = self.lambdas.len();
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(n, 0.0);
        let (host, rest) = scratch.split_at_mut(STATS_1D * nl);
        let (chan, rest) = rest.split_at_mut(STATS_2D * nl);
        let (sock, jit) = rest.split_at_mut(STATS_2D * nl);

        let ts = flow.ts;
        self.hosts.update_get(flow.src, ts, flow.bytes, host)?;

        let (ck, side) = pair_key(flow.src, flow.dst);
        let back = match side {
            Side::A => Side::B,
            Side::B => Side::A,
        };
        if let Some(r) = flow.response_bytes {
            self.channels.update(ck, back, ts, r);
            self.sockets.update(flow.socket, Side::B, ts, r);
        }
        self.channels.update_get(ck, side, ts, flow.bytes, chan)?;
        self.sockets
            .update_get(flow.socket, Side::A, ts, flow.bytes, sock)?;
        self.jitter
            .update_interarrival(combine_keys(flow.src, flow.dst), ts, jit)?;

        for (i, o) in out.chunks_exact_mut(FEATURES_PER_LAMBDA).enumerate() {
            let parts: [(&[f64], usize); 4] = [
                (host, STATS_1D),
                (chan, STATS_2D),
                (sock, STATS_2D),
                (jit, STATS_1D),
            ];
            let mut at = 0;
            for (src, k) in parts {
                if let (Some(dst), Some(s)) = (o.get_mut(at..at + k), src.get(i * k..(i + 1) * k)) {
                    dst.copy_from_slice(s);
                }
                at += k;
            }
        }
        self.scratch = scratch;
        Ok(())
    }

    /// Heap bytes currently held by the four databases.
    pub fn memory_bytes(&self) -> usize {
        self.hosts.memory_bytes()
            + self.channels.memory_bytes()
            + self.sockets.memory_bytes()
            + self.jitter.memory_bytes()
    }

    /// The source-host database (for capacity and eviction reporting).
    pub fn hosts(&self) -> &IncStatDb {
        &self.hosts
    }

    /// The channel database.
    pub fn channels(&self) -> &PairStatDb {
        &self.channels
    }

    /// The socket database.
    pub fn sockets(&self) -> &PairStatDb {
        &self.sockets
    }

    /// The channel inter-arrival database.
    pub fn jitter(&self) -> &IncStatDb {
        &self.jitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    }

    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                close(*g, *w),
                "output {i}: got {g}, want {w} (all: {got:?})"
            );
        }
    }

    /// Feeds `(ts, value)` into one key with λ = 1 (so one second halves the weight) and
    /// checks `[w, mean, std]` after the last update.
    fn check_1d(seq: &[(f64, f64)], want: [f64; 3]) {
        let mut db = IncStatDb::new(&[1.0], 4, 7).unwrap();
        let mut out = [0.0; 3];
        for &(t, v) in seq {
            db.update_get(42, t, v, &mut out).unwrap();
        }
        assert_close(&out, &want);
    }

    #[test]
    fn one_d_matches_hand_computed_values() {
        // no decay: plain mean and population std
        check_1d(&[(0.0, 2.0), (0.0, 4.0)], [2.0, 3.0, 1.0]);
        // one second apart, λ=1: w = 0.5 + 1, LS = 1 + 4 = 5, SS = 2 + 16 = 18
        // mean = 10/3, var = 12 - 100/9 = 8/9
        check_1d(
            &[(0.0, 2.0), (1.0, 4.0)],
            [1.5, 10.0 / 3.0, (8.0f64 / 9.0).sqrt()],
        );
        // two seconds: factor 1/4. w = 1.25, LS = 0.5 + 4 = 4.5, SS = 1 + 16 = 17
        check_1d(
            &[(0.0, 2.0), (2.0, 4.0)],
            [1.25, 3.6, (17.0 / 1.25 - 3.6f64 * 3.6).sqrt()],
        );
        // out of order: the late observation decays nothing and the clock stays at 1
        // w = 0.5·1 + 1 + 1 = 2.5, LS = 1 + 4 + 6, SS = 2 + 16 + 36
        let (w, ls, ss) = (2.5, 11.0, 54.0);
        let m = ls / w;
        check_1d(
            &[(0.0, 2.0), (1.0, 4.0), (0.5, 6.0)],
            [w, m, (ss / w - m * m).sqrt()],
        );
        // ... and a later update decays from the clock at 1, not 0.5
        let (w2, ls2, ss2) = (w * 0.5 + 1.0, ls * 0.5, ss * 0.5);
        let m2 = ls2 / w2;
        check_1d(
            &[(0.0, 2.0), (1.0, 4.0), (0.5, 6.0), (2.0, 0.0)],
            [w2, m2, (ss2 / w2 - m2 * m2).sqrt()],
        );
        // constant values have zero deviation despite rounding
        check_1d(
            &[(0.0, 1500.1), (0.3, 1500.1), (0.7, 1500.1)],
            [0.5f64.powf(0.7) + 0.5f64.powf(0.4) + 1.0, 1500.1, 0.0],
        );
        // non-finite values count as 0; non-finite timestamps do not move the clock
        check_1d(
            &[(0.0, f64::NAN), (f64::NAN, f64::INFINITY)],
            [2.0, 0.0, 0.0],
        );
        // a window that decays to nothing restarts
        check_1d(&[(0.0, 100.0), (1e6, 3.0)], [1.0, 3.0, 0.0]);
    }

    #[test]
    fn one_d_several_lambdas_and_get() {
        let mut db = IncStatDb::new(&[1.0, 2.0], 4, 0).unwrap();
        let mut out = [0.0; 6];
        db.update_get(1, 10.0, 1.0, &mut out).unwrap();
        db.update_get(1, 11.0, 1.0, &mut out).unwrap();
        assert_close(&out, &[1.5, 1.0, 0.0, 1.25, 1.0, 0.0]);
        // get decays weights to the query time
        let g = db.get(1, 12.0).unwrap();
        assert_close(&g, &[0.75, 1.0, 0.0, 1.25 / 4.0, 1.0, 0.0]);
        assert!(db.get(2, 12.0).is_none());
        let mut bad = [0.0; 5];
        assert_eq!(
            db.update_get(1, 12.0, 1.0, &mut bad),
            Err(IncStatError::BufferLength {
                got: 5,
                expected: 6
            })
        );
    }

    #[test]
    fn interarrival_times() {
        let mut db = IncStatDb::new(&[1e-9], 4, 0).unwrap();
        let mut out = [0.0; 3];
        for t in [5.0, 6.0, 8.0, 7.0] {
            db.update_interarrival(9, t, &mut out).unwrap();
        }
        // gaps 0 (first), 1, 2, 0 (out of order); λ tiny so weights are ~counts
        assert!((out[0] - 4.0).abs() < 1e-6);
        assert!((out[1] - 0.75).abs() < 1e-6);
    }

    #[test]
    fn two_d_matches_hand_computed_values() {
        let mut db = PairStatDb::new(&[1.0], 4, 0).unwrap();
        let mut out = [0.0; 7];
        // A: 2 at t=0. mean 2, residual 0.
        db.update_get(5, Side::A, 0.0, 2.0, &mut out).unwrap();
        assert_close(&out, &[1.0, 2.0, 0.0, 2.0, 0.0, 0.0, 0.0]);
        // B: 4 at t=0. B mean 4; magnitude sqrt(4+16); residual product 0·0.
        db.update_get(5, Side::B, 0.0, 4.0, &mut out).unwrap();
        assert_close(&out, &[1.0, 4.0, 0.0, 20f64.sqrt(), 0.0, 0.0, 0.0]);
        // A: 4 at t=1. A window: w 1.5, mean 10/3, var 8/9. res = 4 - 10/3 = 2/3.
        // cov window decays by 1/2: SR = 0 + (2/3)·(0·1/2) = 0, wR = 2·0.5 + 1 = 2.
        db.update_get(5, Side::A, 1.0, 4.0, &mut out).unwrap();
        let var_a: f64 = 8.0 / 9.0;
        assert_close(
            &out,
            &[
                1.5,
                10.0 / 3.0,
                var_a.sqrt(),
                (100.0f64 / 9.0 + 16.0).sqrt(),
                var_a,
                0.0,
                0.0,
            ],
        );
        // B: 6 at t=1. B window decays by 1/2: w 1.5, LS 8, SS 44 → mean 16/3, var 88/3-256/9
        // res_B = 6 - 16/3 = 2/3; SR = 2/3 · 2/3 = 4/9, wR = 3; cov = 4/27.
        db.update_get(5, Side::B, 1.0, 6.0, &mut out).unwrap();
        let var_b = 44.0 / 1.5 - (16.0f64 / 3.0).powi(2);
        let cov = 4.0 / 27.0;
        assert_close(
            &out,
            &[
                1.5,
                16.0 / 3.0,
                var_b.sqrt(),
                (100.0f64 / 9.0 + 256.0 / 9.0).sqrt(),
                var_a.hypot(var_b),
                cov,
                (cov / (var_a * var_b).sqrt()).clamp(-1.0, 1.0),
            ],
        );
    }

    #[test]
    fn pair_key_is_symmetric() {
        let (k1, s1) = pair_key(3, 9);
        let (k2, s2) = pair_key(9, 3);
        assert_eq!(k1, k2);
        assert_eq!((s1, s2), (Side::A, Side::B));
        assert_ne!(combine_keys(3, 9), combine_keys(9, 3));
    }

    #[test]
    fn eviction_keeps_memory_bounded_and_lookups_exact() {
        let cap = 1000;
        let mut db = IncStatDb::new(&DEFAULT_LAMBDAS, cap, 99).unwrap();
        let mut out = vec![0.0; db.n_outputs()];
        // a few hot keys updated constantly, 10 000 cold keys passing through
        for i in 0..10 * cap as u64 {
            db.update_get(i + 1_000_000, i as f64 * 0.01, 1.0, &mut out)
                .unwrap();
            for hot in 0..5u64 {
                db.update(hot, i as f64 * 0.01, 2.0);
            }
            assert!(db.len() <= cap);
        }
        assert_eq!(db.len(), cap);
        assert!(db.evictions() >= (9 * cap) as u64);
        let full = db.memory_bytes();
        for i in 0..10 * cap as u64 {
            db.update(i + 5_000_000, 1e3 + i as f64, 1.0);
        }
        assert_eq!(
            db.memory_bytes(),
            full,
            "memory grew after reaching capacity"
        );
        assert!(
            full as f64 <= 1.6 * db.bytes_per_entry() * cap as f64,
            "{full}"
        );
        // the latest keys are present and every tracked key is found at its own slot
        assert!(db.get(5_000_000 + 10 * cap as u64 - 1, 0.0).is_some());
        for (slot, &k) in db.table.keys.iter().enumerate() {
            assert_eq!(db.table.find(k), Some(slot));
        }
    }

    #[test]
    fn clock_spares_recently_updated_keys() {
        let mut db = IncStatDb::new(&[1.0], 4, 0).unwrap();
        for k in 0..4 {
            db.update(k, 0.0, 1.0);
        }
        // touch 0..3 except 2; a new key must evict 2
        for k in [0, 1, 3] {
            db.update(k, 1.0, 1.0);
        }
        db.update(10, 2.0, 1.0);
        assert!(db.get(2, 2.0).is_none());
        for k in [0, 1, 3, 10] {
            assert!(db.get(k, 2.0).is_some(), "key {k}");
        }
        assert_eq!(db.evictions(), 1);
    }

    #[test]
    fn config_is_validated() {
        assert_eq!(
            IncStatDb::new(&[], 1, 0).err(),
            Some(IncStatError::NoLambdas)
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                IncStatDb::new(&[bad], 1, 0),
                Err(IncStatError::BadLambda(_))
            ));
        }
        assert!(matches!(
            PairStatDb::new(&[1.0], 0, 0),
            Err(IncStatError::BadCapacity { .. })
        ));
        assert!(PairStatDb::new(&[1.0], MAX_CAPACITY + 1, 0).is_err());
    }

    #[test]
    fn serde_round_trip_and_corrupt_state() {
        let mut db = IncStatDb::new(&[1.0, 0.1], 8, 3).unwrap();
        for k in 0..20u64 {
            db.update(k % 11, k as f64, k as f64);
        }
        let json = serde_json::to_string(&db).unwrap();
        let back: IncStatDb = serde_json::from_str(&json).unwrap();
        for k in 0..11u64 {
            assert_eq!(db.get(k, 30.0), back.get(k, 30.0));
        }
        // duplicate keys, wrong slab size, garbage
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["table"]["keys"][1] = v["table"]["keys"][0].clone();
        assert!(serde_json::from_value::<IncStatDb>(v).is_err());
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["data"].as_array_mut().unwrap().pop();
        assert!(serde_json::from_value::<IncStatDb>(v).is_err());
        assert!(serde_json::from_str::<PairStatDb>("{\"lambdas\":[]}").is_err());
    }

    #[test]
    fn extractor_layout_and_names() {
        let mut fx = FlowFeatureExtractor::new(&ExtractorConfig::default()).unwrap();
        assert_eq!(fx.n_features(), 100);
        let names = fx.feature_names();
        assert_eq!(names.len(), 100);
        assert_eq!(names[0], "host_bytes_w_l5");
        assert_eq!(names[9], "chan_bytes_pcc_l5");
        assert_eq!(names[99], "chan_jitter_std_l0.01");
        let mut out = vec![0.0; 100];
        let flow = FlowObservation {
            ts: 1.0,
            src: 1,
            dst: 2,
            socket: 77,
            bytes: 100.0,
            response_bytes: Some(1000.0),
        };
        fx.update(&flow, &mut out).unwrap();
        // host: one observation of 100
        assert_close(&out[0..3], &[1.0, 100.0, 0.0]);
        // channel forward side: mean 100, magnitude against the 1000-byte response
        assert_close(&out[3..6], &[1.0, 100.0, 0.0]);
        assert!(close(out[6], 100f64.hypot(1000.0)));
        // socket likewise
        assert!(close(out[13], 100f64.hypot(1000.0)));
        // jitter: first flow, gap 0
        assert_close(&out[17..20], &[1.0, 0.0, 0.0]);
        // the same layout repeats for every λ
        assert_eq!(&out[0..20], &out[20..40]);
        let mut short = vec![0.0; 99];
        assert!(fx.update(&flow, &mut short).is_err());
    }

    proptest! {
        #[test]
        fn outputs_always_finite(
            seq in proptest::collection::vec(
                (-1e300f64..1e300, proptest::num::f64::ANY, 0u64..6, any::<bool>()),
                1..60,
            )
        ) {
            let mut fx = FlowFeatureExtractor::new(&ExtractorConfig {
                host_capacity: 3,
                channel_capacity: 3,
                socket_capacity: 3,
                ..ExtractorConfig::default()
            })
            .unwrap();
            let mut out = vec![0.0; fx.n_features()];
            for (ts, v, k, resp) in seq {
                let flow = FlowObservation {
                    ts,
                    src: k,
                    dst: k / 2,
                    socket: k * 3,
                    bytes: v,
                    response_bytes: resp.then_some(-v * 0.5),
                };
                fx.update(&flow, &mut out).unwrap();
                prop_assert!(out.iter().all(|x| x.is_finite()), "{:?}", out);
            }
        }

        #[test]
        fn index_agrees_with_a_model(ops in proptest::collection::vec(0u64..40, 1..400)) {
            let cap = 16;
            let mut db = IncStatDb::new(&[1.0], cap, 5).unwrap();
            let mut model: HashMap<u64, usize> = HashMap::new();
            for (i, k) in ops.into_iter().enumerate() {
                db.update(k, i as f64, 1.0);
                model.insert(k, 0);
                prop_assert!(db.len() <= cap);
                // every tracked key is findable at its slot, with no duplicates
                let mut seen = std::collections::HashSet::new();
                for (slot, &key) in db.table.keys.iter().enumerate() {
                    prop_assert_eq!(db.table.find(key), Some(slot));
                    prop_assert!(seen.insert(key));
                }
                prop_assert!(db.get(k, i as f64).is_some());
            }
        }
    }
}
