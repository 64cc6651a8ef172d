//! Which device runs the model.

use std::str::FromStr;

use candle_core::Device;

use super::Error;

/// `cpu` (the default) or `cuda[:N]` (needs the `cuda` cargo feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Cpu,
    Cuda(usize),
}

impl DeviceChoice {
    pub fn device(self) -> Result<Device, Error> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda(i) => Device::new_cuda(i).map_err(|e| {
                Error::InvalidRequest(format!(
                    "cannot open CUDA device {i} ({e}); build arbor with `--features cuda` on a machine with CUDA"
                ))
            }),
        }
    }
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| format!("unknown device {s:?}: use cpu, cuda or cuda:N")),
        }
    }
}
