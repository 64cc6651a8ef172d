//! Seeded token sampling with temperature, top-k and top-p, reporting the sampled token's
//! log-probability under the adjusted distribution (what vLLM reports as the cumulative logprob).

/// A small, fast, seedable generator (xoshiro256**), so results never depend on a crate's
/// version of its algorithm.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            // splitmix64 spreads any seed (even 0) over the whole state.
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self { s: [next(), next(), next(), next()] }
    }

    /// The stream of candidate `index` of a request seeded with `seed`: independent of how
    /// requests and candidates are batched.
    pub fn for_candidate(seed: u64, index: usize) -> Self {
        Self::new(seed ^ (index as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// The knobs of one draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleParams {
    /// `<= 0` means greedy.
    pub temperature: f32,
    /// `>= 1` disables nucleus sampling.
    pub top_p: f32,
    /// 0 disables top-k.
    pub top_k: usize,
}

/// Draws one token from `logits`; returns it with its log-probability under the distribution
/// actually sampled from. Greedy decoding reports the plain log-softmax of the chosen token.
pub fn sample_token(logits: &[f32], params: SampleParams, rng: &mut Rng) -> (u32, f32) {
    if logits.is_empty() {
        return (0, 0.0);
    }
    if params.temperature <= 0.0 {
        let (best, _) = logits
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |acc, (i, &l)| if l > acc.1 { (i, l) } else { acc });
        return (best as u32, log_softmax_at(logits, best, 1.0));
    }
    let inv_t = 1.0 / params.temperature;
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    // Unnormalised probabilities in f64: exp((l - max) / T) is at most 1.
    let weight = |l: f32| (((l - max) * inv_t) as f64).exp();

    let vocab = logits.len();
    let mut kept: Vec<(u32, f64)> = if params.top_k > 0 && params.top_k < vocab {
        let mut idx: Vec<u32> = (0..vocab as u32).collect();
        idx.select_nth_unstable_by(params.top_k - 1, |&a, &b| {
            logits[b as usize].total_cmp(&logits[a as usize])
        });
        idx.truncate(params.top_k);
        idx.into_iter().map(|i| (i, weight(logits[i as usize]))).collect()
    } else {
        logits.iter().enumerate().map(|(i, &l)| (i as u32, weight(l))).collect()
    };
    if params.top_p < 1.0 {
        nucleus(&mut kept, params.top_p as f64);
    }
    let total: f64 = kept.iter().map(|&(_, w)| w).sum();
    let target = rng.next_f64() * total;
    let mut acc = 0.0;
    let mut chosen = kept[kept.len() - 1];
    for &(i, w) in &kept {
        acc += w;
        if acc > target {
            chosen = (i, w);
            break;
        }
    }
    (chosen.0, (chosen.1 / total).ln() as f32)
}

/// Keeps the smallest set of most likely tokens whose mass reaches `top_p` (ties at the edge
/// resolved by token id, so the result is deterministic). Sorts a growing top slice instead of
/// the whole vocabulary, because the nucleus is usually small.
fn nucleus(kept: &mut Vec<(u32, f64)>, top_p: f64) {
    let total: f64 = kept.iter().map(|&(_, w)| w).sum();
    let goal = top_p * total;
    let by_weight = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    let mut width = 64.min(kept.len());
    loop {
        if width < kept.len() {
            kept.select_nth_unstable_by(width - 1, by_weight);
        }
        kept[..width].sort_unstable_by(by_weight);
        let mut acc = 0.0;
        for (k, &(_, w)) in kept[..width].iter().enumerate() {
            acc += w;
            if acc >= goal {
                kept.truncate(k + 1);
                return;
            }
        }
        if width == kept.len() {
            return;
        }
        width = (width * 4).min(kept.len());
    }
}

fn log_softmax_at(logits: &[f32], index: usize, temperature: f32) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&l| (((l - max) / temperature) as f64).exp()).sum();
    (((logits[index] - max) / temperature) as f64 - sum.ln()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: SampleParams = SampleParams { temperature: 1.0, top_p: 1.0, top_k: 0 };

    #[test]
    fn greedy_picks_argmax_with_its_log_softmax() {
        let (t, lp) =
            sample_token(&[0.0, 2.0, 1.0], SampleParams { temperature: 0.0, ..P }, &mut Rng::new(1));
        assert_eq!(t, 1);
        let expected = 2.0 - (1f64 + 2f64.exp() + 1f64.exp()).ln();
        assert!((lp as f64 - expected).abs() < 1e-6);
    }

    #[test]
    fn frequencies_follow_softmax_and_logprob_matches() {
        let logits = [0.0f32, (2.0f32).ln(), (3.0f32).ln()];
        let mut rng = Rng::new(7);
        let mut counts = [0usize; 3];
        for _ in 0..60_000 {
            let (t, lp) = sample_token(&logits, P, &mut rng);
            counts[t as usize] += 1;
            let p = [1.0, 2.0, 3.0][t as usize] / 6.0f32;
            assert!((lp - p.ln()).abs() < 1e-5);
        }
        for (c, p) in counts.iter().zip([1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0]) {
            assert!((*c as f64 / 60_000.0 - p).abs() < 0.01, "{counts:?}");
        }
    }

    #[test]
    fn top_k_and_top_p_restrict_and_renormalise() {
        let logits = [(0.1f32).ln(), (0.2f32).ln(), (0.3f32).ln(), (0.4f32).ln()];
        let mut rng = Rng::new(3);
        for _ in 0..2000 {
            let (t, lp) = sample_token(&logits, SampleParams { top_k: 2, ..P }, &mut rng);
            assert!(t == 2 || t == 3);
            let p = if t == 2 { 0.3 / 0.7f32 } else { 0.4 / 0.7 };
            assert!((lp - p.ln()).abs() < 1e-5);
            // top_p 0.6: {0.4, 0.3} reach 0.7 >= 0.6; {0.4} alone does not.
            let (t, _) = sample_token(&logits, SampleParams { top_p: 0.6, ..P }, &mut rng);
            assert!(t == 2 || t == 3);
            let (t, lp) = sample_token(&logits, SampleParams { top_p: 0.3, ..P }, &mut rng);
            assert_eq!((t, lp), (3, 0.0));
        }
    }

    #[test]
    fn nucleus_on_a_large_vocabulary_widens_as_needed() {
        // Flat distribution over 1000 tokens: 0.5 needs 500 of them, beyond the first window.
        let logits = vec![0.0f32; 1000];
        let (_, lp) = sample_token(&logits, SampleParams { top_p: 0.5, ..P }, &mut Rng::new(5));
        assert!((lp - (1.0f32 / 500.0).ln()).abs() < 1e-4, "{lp}");
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::for_candidate(9, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::for_candidate(9, 0).next_u64(), Rng::for_candidate(9, 1).next_u64());
        assert_ne!(Rng::for_candidate(9, 0).next_u64(), Rng::for_candidate(10, 0).next_u64());
    }
}
