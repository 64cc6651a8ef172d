//! AlphaMath's value head (TRL's `ValueHead`): `tanh(summary(h))` on the final-norm hidden
//! state of the last prompt token; `v_head.summary.weight` `[1, hidden]` and `.bias` `[1]`.

use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::Error;
use super::error::HF_LAYOUT_HINT;

const WEIGHT: &str = "v_head.summary.weight";
const BIAS: &str = "v_head.summary.bias";

/// The head's weights in f32, and whether the checkpoint stored them in bf16 (then the output is
/// rounded to bf16, as the reference's bf16 layer does).
#[derive(Debug, Clone)]
pub struct ValueHead {
    weight: Tensor,
    bias: f32,
    round_to_bf16: bool,
}

impl ValueHead {
    /// From the two tensors, under the reference's names with or without the `v_head.` prefix.
    pub fn from_tensors(
        weight: &Tensor,
        bias: &Tensor,
        hidden: usize,
        device: &Device,
    ) -> Result<Self, String> {
        if weight.elem_count() != hidden {
            return Err(format!("{WEIGHT} has shape {:?}, expected [1, {hidden}]", weight.dims()));
        }
        if bias.elem_count() != 1 {
            return Err(format!("{BIAS} has shape {:?}, expected [1]", bias.dims()));
        }
        let round_to_bf16 = weight.dtype() == DType::BF16;
        let f32s = |t: &Tensor| t.to_dtype(DType::F32).and_then(|t| t.flatten_all());
        let weight = f32s(weight).and_then(|w| w.reshape((hidden, 1))).and_then(|w| w.to_device(device));
        let bias = f32s(bias).and_then(|b| b.to_vec1::<f32>());
        match (weight, bias) {
            (Ok(weight), Ok(bias)) => Ok(Self { weight, bias: bias[0], round_to_bf16 }),
            (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
        }
    }

    /// Reads `value_head.pth` (a torch zip pickle; f32 or bf16 storages).
    pub fn from_pth(path: &Path, hidden: usize, device: &Device) -> Result<Self, Error> {
        let bad = |p: String| Error::bad_model(path, p, HF_LAYOUT_HINT);
        let tensors = candle_core::pickle::read_all(path)
            .map_err(|e| bad(format!("not a readable torch state_dict: {e}")))?;
        let find = |name: &str| {
            let short = name.trim_start_matches("v_head.");
            tensors.iter().find(|(k, _)| k == name || k == short).map(|(_, t)| t.clone())
        };
        let (Some(w), Some(b)) = (find(WEIGHT), find(BIAS)) else {
            let keys: Vec<&str> = tensors.iter().map(|(k, _)| k.as_str()).collect();
            return Err(bad(format!("expected tensors {WEIGHT} and {BIAS}, found {keys:?}")));
        };
        Self::from_tensors(&w, &b, hidden, device).map_err(bad)
    }

    /// Reads a safetensors file holding the two tensors.
    pub fn from_safetensors(path: &Path, hidden: usize, device: &Device) -> Result<Self, Error> {
        let bad = |p: String| Error::bad_model(path, p, HF_LAYOUT_HINT);
        let tensors = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| bad(e.to_string()))?;
        let find = |name: &str| tensors.get(name).or_else(|| tensors.get(name.trim_start_matches("v_head.")));
        let (Some(w), Some(b)) = (find(WEIGHT), find(BIAS)) else {
            return Err(bad(format!("expected tensors {WEIGHT} and {BIAS}")));
        };
        Self::from_tensors(w, b, hidden, device).map_err(bad)
    }

    /// Names of the tensors inside a model's own safetensors.
    pub(crate) fn tensor_names() -> (&'static str, &'static str) {
        (WEIGHT, BIAS)
    }

    /// Values of hidden states `(rows, hidden)`.
    pub fn apply(&self, hidden: &Tensor) -> Result<Vec<f32>, Error> {
        let h = hidden.to_dtype(DType::F32)?;
        let out = h.matmul(&self.weight)?.flatten_all()?.to_vec1::<f32>()?;
        Ok(out
            .into_iter()
            .map(|x| {
                let v = (x + self.bias).tanh();
                if self.round_to_bf16 { round_to_bf16(v) } else { v }
            })
            .collect())
    }
}

/// Round-to-nearest-even to bf16 precision (finite inputs: tanh output is in [-1, 1]).
fn round_to_bf16(x: f32) -> f32 {
    let bits = x.to_bits();
    f32::from_bits(bits.wrapping_add(0x7FFF + ((bits >> 16) & 1)) & 0xFFFF_0000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bf16_rounding_keeps_8_bits_of_mantissa() {
        assert_eq!(super::round_to_bf16(1.0), 1.0);
        assert_eq!(super::round_to_bf16(0.1), f32::from_bits(0x3DCD_0000));
        assert_eq!(super::round_to_bf16(-0.5), -0.5);
    }
}
