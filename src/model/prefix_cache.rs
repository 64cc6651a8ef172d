//! Tree-aware prefix KV cache.
//!
//! Prompts of a search tree share prefixes: a child's prompt is its parent's prompt plus the
//! sampled step (plus the interpreter's output). Each entry holds the keys/values of one token
//! sequence, a node's prompt or a sampled continuation, as a chain of segments shared with the
//! entry it extended, so a path costs its tokens once, not once per node. A lookup finds the
//! entry with the longest common token prefix (the tokenisation at the boundary may differ;
//! the common prefix is what is valid) and the caller encodes only the rest. Entries are evicted
//! least-recently-used first when the bytes of live segments exceed the budget.

use std::collections::HashMap;
use std::sync::Arc;

use candle_core::Tensor;

use super::KvBuffer;

#[derive(Debug)]
struct Segment {
    id: u64,
    start: usize,
    len: usize,
    /// Per layer, `(1, kv_heads, len, head_dim)`.
    kv: Vec<(Tensor, Tensor)>,
    bytes: usize,
}

#[derive(Debug)]
struct Entry {
    tokens: Vec<u32>,
    segments: Vec<Arc<Segment>>,
    last_used: u64,
}

/// What a lookup found: `reused` leading tokens whose keys/values are cached.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hit {
    pub(crate) reused: usize,
    segments: Vec<Arc<Segment>>,
}

/// The cache; `budget_bytes == 0` disables it.
#[derive(Debug)]
pub struct PrefixCache {
    budget_bytes: usize,
    entries: Vec<Entry>,
    /// Live segments: how many entries use each, and its size.
    refs: HashMap<u64, (usize, usize)>,
    used_bytes: usize,
    clock: u64,
    next_id: u64,
    evictions: u64,
}

impl PrefixCache {
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            budget_bytes,
            entries: Vec::new(),
            refs: HashMap::new(),
            used_bytes: 0,
            clock: 0,
            next_id: 0,
            evictions: 0,
        }
    }

    pub fn budget_bytes(&self) -> usize {
        self.budget_bytes
    }

    /// Bytes of keys/values held.
    pub fn used_bytes(&self) -> usize {
        self.used_bytes
    }

    /// Number of cached sequences.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.refs.clear();
        self.used_bytes = 0;
    }

    /// The longest cached prefix of `tokens`, at most `max_reuse` tokens.
    pub(crate) fn lookup(&mut self, tokens: &[u32], max_reuse: usize) -> Hit {
        self.clock += 1;
        let best = self
            .entries
            .iter_mut()
            .map(|e| (common_prefix(&e.tokens, tokens), e))
            .max_by_key(|(lcp, e)| (*lcp, e.last_used));
        let Some((lcp, entry)) = best else { return Hit::default() };
        let reused = lcp.min(max_reuse);
        if reused == 0 {
            return Hit::default();
        }
        entry.last_used = self.clock;
        let segments = entry.segments.iter().take_while(|s| s.start < reused).cloned().collect();
        Hit { reused, segments }
    }

    /// Copies the hit's keys/values into positions `0..hit.reused` of every row of `kv`.
    pub(crate) fn restore(&self, hit: &Hit, kv: &KvBuffer) -> candle_core::Result<()> {
        for seg in &hit.segments {
            let take = seg.len.min(hit.reused - seg.start);
            let blocks: Vec<(Tensor, Tensor)> = seg
                .kv
                .iter()
                .map(|(k, v)| Ok((k.narrow(2, 0, take)?, v.narrow(2, 0, take)?)))
                .collect::<candle_core::Result<_>>()?;
            kv.write_all_rows(&blocks, seg.start)?;
        }
        Ok(())
    }

    /// Caches `tokens`, whose keys/values are in row `row` of `kv` from slot `offset` on (the
    /// row's left padding); `base` is the hit the sequence was built on (its segments are
    /// shared, not copied).
    pub(crate) fn insert(
        &mut self,
        tokens: &[u32],
        base: &Hit,
        kv: &KvBuffer,
        row: usize,
        offset: usize,
    ) -> candle_core::Result<()> {
        if self.budget_bytes == 0 || tokens.is_empty() || kv.len() < offset + tokens.len() {
            return Ok(());
        }
        self.clock += 1;
        if let Some(e) = self.entries.iter_mut().find(|e| e.tokens == tokens) {
            e.last_used = self.clock;
            return Ok(());
        }
        let mut segments: Vec<Arc<Segment>> =
            base.segments.iter().take_while(|s| s.start + s.len <= base.reused).cloned().collect();
        let cut = segments.last().map_or(0, |s| s.start + s.len);
        if cut < tokens.len() {
            let kv = kv.row_range(row, offset + cut, offset + tokens.len())?;
            let bytes =
                kv.iter().map(|(k, v)| (k.elem_count() + v.elem_count()) * k.dtype().size_in_bytes()).sum();
            self.next_id += 1;
            segments.push(Arc::new(Segment {
                id: self.next_id,
                start: cut,
                len: tokens.len() - cut,
                kv,
                bytes,
            }));
        }
        for s in &segments {
            let r = self.refs.entry(s.id).or_insert((0, s.bytes));
            if r.0 == 0 {
                self.used_bytes += s.bytes;
            }
            r.0 += 1;
        }
        self.entries.push(Entry { tokens: tokens.to_vec(), segments, last_used: self.clock });
        self.evict();
        Ok(())
    }

    fn evict(&mut self) {
        while self.used_bytes > self.budget_bytes && !self.entries.is_empty() {
            let oldest = (0..self.entries.len()).min_by_key(|&i| self.entries[i].last_used).unwrap_or(0);
            let entry = self.entries.swap_remove(oldest);
            for s in entry.segments {
                if let Some(r) = self.refs.get_mut(&s.id) {
                    r.0 -= 1;
                    if r.0 == 0 {
                        self.used_bytes -= r.1;
                        self.refs.remove(&s.id);
                    }
                }
            }
            self.evictions += 1;
        }
    }
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
