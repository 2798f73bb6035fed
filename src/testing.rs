//! What the unit tests share: a seeded xorshift generator (deterministic, no dependency) and the
//! byte-level mutation the parser tests feed to their parsers.

/// Marsaglia's xorshift64: the same sequence for the same seed on every machine.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One to six edits of `f` at random places: a byte inserted, removed or overwritten, the new byte
/// random or (two times in three) one of `alphabet`, the bytes the format is made of.
pub fn mutate(next: &mut impl FnMut() -> u64, f: &mut Vec<u8>, alphabet: &[u8]) {
    for _ in 0..1 + next() % 6 {
        let i = (next() as usize) % (f.len() + 1);
        let b = match next() % 3 {
            0 => next() as u8,
            _ => alphabet[(next() % alphabet.len() as u64) as usize],
        };
        match next() % 4 {
            0 => f.insert(i, b),
            1 if i < f.len() => drop(f.remove(i)),
            _ if i < f.len() => f[i] = b,
            _ => {}
        }
    }
}
