//! Keys and values of a batch of sequences that share their length, kept outside the model so
//! the caller decides what to keep, fork, copy into the prefix cache or drop.

use candle_core::{DType, Device, IndexOp, Tensor};

use super::ArchConfig;

/// Per layer, keys and values of shape `(batch, kv_heads, capacity, head_dim)`; positions
/// `0..len` are valid. Writes go in place (`slice_set`), so decoding a token costs no copy of
/// the cache; the buffer doubles when full.
#[derive(Debug)]
pub struct KvBuffer {
    layers: Vec<(Tensor, Tensor)>,
    batch: usize,
    capacity: usize,
    len: usize,
}

impl KvBuffer {
    pub fn new(
        cfg: &ArchConfig,
        batch: usize,
        capacity: usize,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Self> {
        let capacity = capacity.max(1);
        let shape = (batch, cfg.num_kv_heads, capacity, cfg.head_dim);
        let layers = (0..cfg.num_layers)
            .map(|_| Ok((Tensor::zeros(shape, dtype, device)?, Tensor::zeros(shape, dtype, device)?)))
            .collect::<candle_core::Result<_>>()?;
        Ok(Self { layers, batch, capacity, len: 0 })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn batch(&self) -> usize {
        self.batch
    }

    pub(crate) fn set_len(&mut self, len: usize) {
        self.len = len;
    }

    /// Makes room for `needed` positions, copying the valid prefix into a larger buffer.
    pub(crate) fn reserve(&mut self, needed: usize) -> candle_core::Result<()> {
        if needed <= self.capacity {
            return Ok(());
        }
        let capacity = needed.max(self.capacity * 2);
        for (k, v) in &mut self.layers {
            for t in [k, v] {
                let (b, h, _, d) = t.dims4()?;
                let bigger = Tensor::zeros((b, h, capacity, d), t.dtype(), t.device())?;
                if self.len > 0 {
                    bigger.slice_set(&t.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
                }
                *t = bigger;
            }
        }
        self.capacity = capacity;
        Ok(())
    }

    /// Stores the new keys/values of layer `layer` at positions `pos..pos + t`.
    pub(crate) fn write(&self, layer: usize, k: &Tensor, v: &Tensor, pos: usize) -> candle_core::Result<()> {
        let (kc, vc) = &self.layers[layer];
        kc.slice_set(k, 2, pos)?;
        vc.slice_set(v, 2, pos)
    }

    /// Views of positions `0..upto` of a layer (no copy).
    pub(crate) fn view(&self, layer: usize, upto: usize) -> candle_core::Result<(Tensor, Tensor)> {
        let (k, v) = &self.layers[layer];
        Ok((k.narrow(2, 0, upto)?, v.narrow(2, 0, upto)?))
    }

    /// Copies of positions `from..to` of one row, per layer, shaped `(1, kv_heads, to - from, d)`.
    pub(crate) fn row_range(
        &self,
        row: usize,
        from: usize,
        to: usize,
    ) -> candle_core::Result<Vec<(Tensor, Tensor)>> {
        self.layers
            .iter()
            .map(|(k, v)| {
                let cut = |t: &Tensor| t.i(row..row + 1)?.narrow(2, from, to - from)?.contiguous();
                Ok((cut(k)?, cut(v)?))
            })
            .collect()
    }

    /// Writes per-layer `(1, kv_heads, n, d)` blocks at `pos` into every row.
    pub(crate) fn write_all_rows(&self, blocks: &[(Tensor, Tensor)], pos: usize) -> candle_core::Result<()> {
        for ((kc, vc), (k, v)) in self.layers.iter().zip(blocks) {
            let (_, h, n, d) = k.dims4()?;
            kc.slice_set(&k.broadcast_as((self.batch, h, n, d))?.contiguous()?, 2, pos)?;
            vc.slice_set(&v.broadcast_as((self.batch, h, n, d))?.contiguous()?, 2, pos)?;
        }
        Ok(())
    }

    /// A buffer whose rows are copies of row 0 of `self`, `batch` times, with room for `capacity`.
    pub(crate) fn fork_rows(&self, batch: usize, capacity: usize) -> candle_core::Result<KvBuffer> {
        self.fork_rows_padded(batch, self.len, capacity)
    }

    /// A buffer of `batch` copies of row 0 of `self`, right-aligned at `len` slots (the first
    /// `len - self.len()` slots are padding), with room for `capacity`.
    pub(crate) fn fork_rows_padded(
        &self,
        batch: usize,
        len: usize,
        capacity: usize,
    ) -> candle_core::Result<KvBuffer> {
        let (_, h, _, d) = self.layers[0].0.dims4()?;
        let capacity = capacity.max(len).max(1);
        let pad = len.saturating_sub(self.len);
        let layers = self
            .layers
            .iter()
            .map(|(k, v)| {
                let fork = |t: &Tensor| -> candle_core::Result<Tensor> {
                    let out = Tensor::zeros((batch, h, capacity, d), t.dtype(), t.device())?;
                    if self.len > 0 {
                        let row = t.i(0..1)?.narrow(2, 0, self.len)?;
                        out.slice_set(&row.broadcast_as((batch, h, self.len, d))?.contiguous()?, 2, pad)?;
                    }
                    Ok(out)
                };
                Ok((fork(k)?, fork(v)?))
            })
            .collect::<candle_core::Result<_>>()?;
        Ok(KvBuffer { layers, batch, capacity, len: len.max(self.len) })
    }

    /// Stacks buffers of equal length and capacity along the batch.
    pub(crate) fn stack(mut parts: Vec<KvBuffer>) -> candle_core::Result<KvBuffer> {
        let Some(first) = parts.first() else { candle_core::bail!("no buffers to stack") };
        let (len, capacity) = (first.len, first.capacity);
        if parts.iter().any(|p| p.len != len || p.capacity != capacity) {
            candle_core::bail!("stacked buffers must share length and capacity");
        }
        if parts.len() == 1 {
            return Ok(parts.remove(0));
        }
        let batch = parts.iter().map(|p| p.batch).sum();
        let layers = (0..first.layers.len())
            .map(|l| {
                let ks: Vec<&Tensor> = parts.iter().map(|p| &p.layers[l].0).collect();
                let vs: Vec<&Tensor> = parts.iter().map(|p| &p.layers[l].1).collect();
                Ok((Tensor::cat(&ks, 0)?, Tensor::cat(&vs, 0)?))
            })
            .collect::<candle_core::Result<_>>()?;
        Ok(KvBuffer { layers, batch, capacity, len })
    }

    /// Keeps only `rows` (in that order): finished samples leave the batch.
    pub(crate) fn keep_rows(&mut self, rows: &[usize]) -> candle_core::Result<()> {
        if rows.len() == self.batch && rows.iter().enumerate().all(|(i, &r)| i == r) {
            return Ok(());
        }
        let device = self.layers[0].0.device().clone();
        let ids = Tensor::new(rows.iter().map(|&r| r as u32).collect::<Vec<_>>(), &device)?;
        for (k, v) in &mut self.layers {
            *k = k.index_select(&ids, 0)?;
            *v = v.index_select(&ids, 0)?;
        }
        self.batch = rows.len();
        Ok(())
    }
}
