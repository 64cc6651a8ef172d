//! Weights of an HF checkpoint folder: one or several (sharded) safetensors files.

use std::path::{Path, PathBuf};

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Tensor};

use super::Error;
use super::error::HF_LAYOUT_HINT;
use super::transformer::{Linear, TensorName, WeightSource};

/// The safetensors files of `dir`: the shards listed in `model.safetensors.index.json`, else
/// `model.safetensors`, else every `*.safetensors` file.
pub(crate) fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let index = dir.join("model.safetensors.index.json");
    if index.exists() {
        let bytes = std::fs::read(&index).map_err(|source| Error::Io { path: index.clone(), source })?;
        let json: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::bad_model(&index, format!("malformed index: {e}"), HF_LAYOUT_HINT))?;
        let Some(map) = json.get("weight_map").and_then(|m| m.as_object()) else {
            return Err(Error::bad_model(&index, "no \"weight_map\" object", HF_LAYOUT_HINT));
        };
        let mut files: Vec<PathBuf> = Vec::new();
        for file in map.values().filter_map(|v| v.as_str()) {
            let path = dir.join(file);
            if !files.contains(&path) {
                if !path.exists() {
                    return Err(Error::bad_model(
                        &path,
                        "shard listed in model.safetensors.index.json is missing",
                        HF_LAYOUT_HINT,
                    ));
                }
                files.push(path);
            }
        }
        return Ok(files);
    }
    let single = dir.join("model.safetensors");
    if single.exists() {
        return Ok(vec![single]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Io { path: dir.to_path_buf(), source })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "safetensors")
                && p.file_name().is_some_and(|n| n != "value_head.safetensors")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::bad_model(
            dir.join("model.safetensors"),
            "no safetensors weights found",
            HF_LAYOUT_HINT,
        ));
    }
    Ok(files)
}

/// Memory-mapped safetensors, converted to the compute dtype on load.
pub(crate) struct SafetensorsSource {
    st: MmapedSafetensors,
    dir: PathBuf,
    dtype: DType,
    device: Device,
    embed: Option<Tensor>,
}

impl SafetensorsSource {
    pub(crate) fn open(dir: &Path, files: &[PathBuf], dtype: DType, device: &Device) -> Result<Self, Error> {
        // SAFETY: the files are mapped read-only and only read while loading; arbor does not
        // modify model files, and a file truncated by another process mid-load is a user error
        // that candle reports instead of reading beyond the mapping.
        #[allow(unsafe_code)]
        let st = unsafe { MmapedSafetensors::multi(files) }
            .map_err(|e| Error::bad_model(dir, format!("cannot read safetensors: {e}"), HF_LAYOUT_HINT))?;
        Ok(Self { st, dir: dir.to_path_buf(), dtype, device: device.clone(), embed: None })
    }

    /// A tensor by its file key, if present (used for `v_head.*`).
    pub(crate) fn get_raw(&self, key: &str) -> Option<Tensor> {
        self.st.get(key).ok()?;
        self.st.load(key, &self.device).ok()
    }

    fn load(&self, name: TensorName) -> Result<Tensor, Error> {
        let key = key(name);
        if self.st.get(&key).is_err() {
            return Err(Error::bad_model(
                &self.dir,
                format!("tensor {key} is missing from the safetensors files"),
                HF_LAYOUT_HINT,
            ));
        }
        Ok(self.st.load(&key, &self.device)?.to_dtype(self.dtype)?)
    }
}

fn key(name: TensorName) -> String {
    use TensorName::*;
    let layer = |i: usize, rest: &str| format!("model.layers.{i}.{rest}");
    match name {
        Embed => "model.embed_tokens.weight".into(),
        FinalNorm => "model.norm.weight".into(),
        Output => "lm_head.weight".into(),
        AttnNorm(i) => layer(i, "input_layernorm.weight"),
        Q(i) => layer(i, "self_attn.q_proj.weight"),
        K(i) => layer(i, "self_attn.k_proj.weight"),
        V(i) => layer(i, "self_attn.v_proj.weight"),
        O(i) => layer(i, "self_attn.o_proj.weight"),
        QBias(i) => layer(i, "self_attn.q_proj.bias"),
        KBias(i) => layer(i, "self_attn.k_proj.bias"),
        VBias(i) => layer(i, "self_attn.v_proj.bias"),
        FfnNorm(i) => layer(i, "post_attention_layernorm.weight"),
        Gate(i) => layer(i, "mlp.gate_proj.weight"),
        Up(i) => layer(i, "mlp.up_proj.weight"),
        Down(i) => layer(i, "mlp.down_proj.weight"),
    }
}

impl WeightSource for SafetensorsSource {
    fn linear(&mut self, name: TensorName) -> Result<Linear, Error> {
        Ok(Linear::Dense { weight: self.load(name)?, bias: None })
    }

    fn dense(&mut self, name: TensorName) -> Result<Tensor, Error> {
        let t = self.load(name)?;
        if name == TensorName::Embed {
            self.embed = Some(t.clone());
        }
        Ok(t)
    }

    fn contains(&self, name: TensorName) -> bool {
        self.st.get(&key(name)).is_ok()
    }

    fn tied_output(&mut self) -> Result<Linear, Error> {
        let weight = match &self.embed {
            Some(e) => e.clone(),
            None => self.load(TensorName::Embed)?,
        };
        Ok(Linear::Dense { weight, bias: None })
    }
}
