//! Generated text for the tests that compare a fast path with its reference.

/// What a generated text is made of.
pub struct Parts<'a> {
    /// The pieces, picked at random.
    pub pieces: &'a [&'a str],
    /// What follows each piece.
    pub spaces: &'a [&'a str],
    /// Non-ASCII insertions (one piece in 25), unless the text is ASCII.
    pub wide: &'a [&'a str],
    /// One piece in `case` is upper-cased and one lower-cased.
    pub case: usize,
}

/// A pseudo-random text of `pieces` pieces, deterministic in `seed` (xorshift64).
pub fn text(parts: &Parts, seed: u64, pieces: usize, ascii: bool) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut s = String::new();
    for _ in 0..pieces {
        let p = parts.pieces[next(parts.pieces.len())];
        match next(parts.case) {
            0 => s.push_str(&p.to_ascii_uppercase()),
            1 => s.push_str(&p.to_ascii_lowercase()),
            _ => s.push_str(p),
        }
        if !ascii && next(25) == 0 {
            s.push_str(parts.wide[next(parts.wide.len())]);
        }
        s.push_str(parts.spaces[next(parts.spaces.len())]);
    }
    s
}
