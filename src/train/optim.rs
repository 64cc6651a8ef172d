//! AdamW with a state that can be saved and resumed (candle-nn's keeps its moments private),
//! global-norm gradient clipping, and the warm-up + cosine learning-rate schedule.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

/// AdamW hyper-parameters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamWParams {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWParams {
    fn default() -> Self {
        AdamWParams { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1 }
    }
}

/// Decoupled-weight-decay Adam over named variables. Norm weights and biases are not decayed.
pub struct AdamW {
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Updates done so far.
    pub t: u64,
    pub params: AdamWParams,
}

/// `lr` at `step` (0-based) for `total` steps: linear warm-up over `warmup` steps, then cosine
/// decay to `min_ratio * lr`.
pub fn schedule(lr: f64, step: u64, warmup: u64, total: u64, min_ratio: f64) -> f64 {
    if step < warmup {
        return lr * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1) as f64;
    let progress = ((step - warmup) as f64 / span).min(1.0);
    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
    lr * (min_ratio + (1.0 - min_ratio) * cosine)
}

fn decays(name: &str) -> bool {
    !(name.ends_with("norm.weight") || name.ends_with(".bias"))
}

impl AdamW {
    pub fn new(vars: &[(String, Var)], params: AdamWParams) -> candle_core::Result<AdamW> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        Ok(AdamW {
            m: vars.iter().map(|(_, v)| zeros(v)).collect::<candle_core::Result<_>>()?,
            v: vars.iter().map(|(_, v)| zeros(v)).collect::<candle_core::Result<_>>()?,
            vars: vars.to_vec(),
            t: 0,
            params,
        })
    }

    /// Scales the gradients so their global L2 norm is at most `max_norm`; returns the norm
    /// before clipping.
    pub fn clip(&self, grads: &mut GradStore, max_norm: f64) -> candle_core::Result<f64> {
        let mut total = 0f64;
        for (_, var) in &self.vars {
            if let Some(g) = grads.get(var.as_tensor()) {
                total += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
            }
        }
        let norm = total.sqrt();
        if norm > max_norm && norm.is_finite() {
            let scale = max_norm / (norm + 1e-6);
            for (_, var) in &self.vars {
                if let Some(g) = grads.remove(var.as_tensor()) {
                    grads.insert(var.as_tensor(), (g * scale)?);
                }
            }
        }
        Ok(norm)
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> candle_core::Result<()> {
        self.t += 1;
        let p = &self.params;
        let bc1 = 1.0 - p.beta1.powi(self.t as i32);
        let bc2 = 1.0 - p.beta2.powi(self.t as i32);
        for (i, (name, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            let m = ((&self.m[i] * p.beta1)? + (g * (1.0 - p.beta1))?)?;
            let v = ((&self.v[i] * p.beta2)? + (g.sqr()? * (1.0 - p.beta2))?)?;
            let update = ((&m / bc1)? / ((&v / bc2)?.sqrt()? + p.eps)?)?;
            let mut w = var.as_tensor().clone();
            if decays(name) {
                w = (w * (1.0 - lr * p.weight_decay))?;
            }
            var.set(&(w - (update * lr)?)?)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }

    /// The moments as named tensors (`m.{name}`, `v.{name}`).
    pub fn state(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            out.insert(format!("m.{name}"), self.m[i].clone());
            out.insert(format!("v.{name}"), self.v[i].clone());
        }
        out
    }

    /// Restores moments written by [`AdamW::state`] after `t` updates.
    pub fn restore(&mut self, state: &HashMap<String, Tensor>, t: u64) -> candle_core::Result<()> {
        for (i, (name, _)) in self.vars.iter().enumerate() {
            let get = |k: String| {
                state
                    .get(&k)
                    .cloned()
                    .ok_or_else(|| candle_core::Error::Msg(format!("optimizer state: no {k}")))
            };
            self.m[i] = get(format!("m.{name}"))?;
            self.v[i] = get(format!("v.{name}"))?;
        }
        self.t = t;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_the_floor() {
        assert!((schedule(1.0, 0, 10, 100, 0.1) - 0.1).abs() < 1e-12);
        assert!((schedule(1.0, 9, 10, 100, 0.1) - 1.0).abs() < 1e-12);
        assert!((schedule(1.0, 10, 10, 100, 0.1) - 1.0).abs() < 1e-12);
        assert!((schedule(1.0, 55, 10, 100, 0.1) - 0.55).abs() < 1e-9);
        assert!((schedule(1.0, 100, 10, 100, 0.1) - 0.1).abs() < 1e-12);
    }
}
