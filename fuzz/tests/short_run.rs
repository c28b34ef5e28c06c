//! The short, stable run of every fuzz target that the test suite (and so CI) does: the seed
//! corpus in `fuzz/corpus/<target>/`, then mutations of it from a fixed seed, so a failure
//! reproduces. `FUZZ_SHORT_RUNS` sets the mutations per target (default 100 000).

use std::path::PathBuf;

/// A small deterministic generator (xorshift64*): no dependency, same inputs every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes the targets care about, spliced in by the mutator.
const DICTIONARY: &[&[u8]] = &[
    b"{\"ServerURL\":\"",
    b"\",\"Username\":\"",
    b"\",\"Secret\":\"",
    b"\"}",
    b"123456789012.dkr.ecr.",
    b".amazonaws.com",
    b"dkr-ecr-fips",
    b"https://",
    b"public.ecr.aws",
    b"\"requested_at\":",
    b"\"expires_at\":",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"\"version\":1",
    b"%2F",
    b"/../",
    b"\\u0000",
    b"\xff\xfe",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let end = (at + rng.below(8)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 => v.insert(at, rng.next() as u8),
            3 => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())];
                v.splice(at..at, word.iter().copied());
            }
            4 if !v.is_empty() => {
                let i = rng.below(v.len());
                const BYTES: &[u8] = b"\"{}[]:,\\ \n0a.-";
                v[i] = BYTES[rng.below(BYTES.len())];
            }
            _ => v.truncate(at),
        }
    }
    v
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.expect("entry").path()).expect("read seed"))
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "{} has seeds", dir.display());
    seeds
}

#[test]
fn every_target_over_its_corpus_and_mutations() {
    let runs: usize = std::env::var("FUZZ_SHORT_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    for &(name, target) in credhelper_fuzz::TARGETS {
        let seeds = corpus(name);
        for seed in &seeds {
            target(seed);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        for _ in 0..runs {
            let seed = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, seed);
            let run = std::panic::catch_unwind(|| target(&input));
            assert!(
                run.is_ok(),
                "{name} failed on {:?} (write it to fuzz/corpus/{name}/ as a regression seed)",
                String::from_utf8_lossy(&input)
            );
        }
    }
}
