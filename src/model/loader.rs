//! `--model PATH|URL`: a checkpoint folder, a `.gguf` file, or OpenAI-compatible endpoints.

use std::path::PathBuf;

use super::{
    CandleModel, Error, GenRequest, GenResponse, HttpOptions, HttpPolicy, Judge, ModelOptions, Policy,
    ValueModel,
};

/// What a `--model` argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    /// An HF checkpoint folder or a `.gguf` file.
    Local(PathBuf),
    /// One or more comma-separated `http(s)://` base URLs.
    Remote(Vec<String>),
}

impl ModelSpec {
    pub fn parse(spec: &str) -> Self {
        let is_url = |s: &str| s.starts_with("http://") || s.starts_with("https://");
        if is_url(spec.trim()) {
            ModelSpec::Remote(
                spec.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            )
        } else {
            ModelSpec::Local(PathBuf::from(spec))
        }
    }
}

/// A loaded backend of either kind.
#[derive(Debug)]
pub enum Backend {
    Local(Box<CandleModel>),
    /// A local policy whose states are scored by a second local model's value head
    /// (`--value-model`), e.g. a value network trained apart from the policy.
    LocalWithValue {
        policy: Box<CandleModel>,
        value: Box<CandleModel>,
    },
    Remote(Box<HttpPolicy>),
}

/// Opens `spec` with `local` options for a local model and `http` options (endpoints are
/// replaced by the URLs of `spec`) for a remote one.
pub fn open(spec: &str, local: ModelOptions, http: Option<HttpOptions>) -> Result<Backend, Error> {
    match ModelSpec::parse(spec) {
        ModelSpec::Local(path) => Ok(Backend::Local(Box::new(CandleModel::load(&path, local)?))),
        ModelSpec::Remote(urls) => {
            let mut opts = http.unwrap_or_else(|| HttpOptions::new(""));
            opts.endpoints = urls;
            Ok(Backend::Remote(Box::new(HttpPolicy::new(opts)?)))
        }
    }
}

impl Policy for Backend {
    fn generate(&mut self, requests: &[GenRequest]) -> Result<Vec<GenResponse>, Error> {
        match self {
            Backend::Local(m) => m.generate(requests),
            Backend::LocalWithValue { policy, value } => generate_then_value(policy, value, requests),
            Backend::Remote(m) => m.generate(requests),
        }
    }
}

/// Generates with `policy` and scores the prompts that asked for a value with `value` (in one
/// batch), so a request's value is the value model's, as from a model with its own head.
fn generate_then_value(
    policy: &mut CandleModel,
    value: &mut CandleModel,
    requests: &[GenRequest],
) -> Result<Vec<GenResponse>, Error> {
    let plain: Vec<GenRequest> =
        requests.iter().map(|r| GenRequest { want_value: false, ..r.clone() }).collect();
    let mut out = policy.generate(&plain)?;
    // As the policy's own head would: no value for a prompt too long to continue.
    let fits: Vec<bool> = out
        .iter()
        .zip(requests)
        .map(|(o, r)| o.prompt_tokens + r.max_tokens <= policy.context_len())
        .collect();
    super::fill_values(requests, &mut out, value, |i| fits[i])?;
    Ok(out)
}

impl Judge for Backend {
    fn judge(&mut self, prompts: &[String]) -> Result<Vec<Option<f64>>, Error> {
        match self {
            Backend::Local(m) | Backend::LocalWithValue { policy: m, .. } => m.judge(prompts),
            Backend::Remote(m) => m.judge(prompts),
        }
    }
}

impl ValueModel for Backend {
    fn value(&mut self, prompts: &[String]) -> Result<Vec<Option<f32>>, Error> {
        match self {
            Backend::Local(m) | Backend::LocalWithValue { value: m, .. } => m.value(prompts),
            Backend::Remote(m) => m.value(prompts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_paths_or_url_lists() {
        assert_eq!(ModelSpec::parse("models/x.gguf"), ModelSpec::Local("models/x.gguf".into()));
        assert_eq!(
            ModelSpec::parse("http://a:1, https://b:2/v1"),
            ModelSpec::Remote(vec!["http://a:1".into(), "https://b:2/v1".into()])
        );
        let e = open("/nonexistent/model", ModelOptions::default(), None).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/model") && e.contains("config.json"), "{e}");
        let e = open("/nonexistent/m.gguf", ModelOptions::default(), None).unwrap_err().to_string();
        assert!(e.contains("m.gguf") && e.contains("fetch-models.sh"), "{e}");
    }
}
